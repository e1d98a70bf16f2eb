package projects

import (
	"context"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	authv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/auth/v1"
	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/projects/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/postgres"
	"github.com/fuzzyllama/fuzzyllama/services/projects/store/sqlite"
)

// OpenStore opens PostgreSQL when databaseURL is set, otherwise SQLite at dataDir/projects.db.
func OpenStore(ctx context.Context, databaseURL, dataDir string) (store.Store, error) {
	if databaseURL != "" {
		return postgres.Open(ctx, databaseURL)
	}
	return sqlite.Open(ctx, filepath.Join(dataDir, "projects.db"))
}

// RegisterGRPC registers the ProjectsService on s.
func RegisterGRPC(s grpc.ServiceRegistrar, svc *Service) {
	pb.RegisterProjectsServiceServer(s, &Handler{Service: svc})
}

// AuthDirectory resolves accounts through the auth service's LookupUsers, as the caller (the
// client connection forwards the caller's token).
type AuthDirectory struct {
	Client authv1.AuthServiceClient
}

// UserByEmail implements Directory.
func (d AuthDirectory) UserByEmail(ctx context.Context, email string) (User, bool, error) {
	resp, err := d.Client.LookupUsers(ctx, &authv1.LookupUsersRequest{Emails: []string{email}})
	if status.Code(err) == codes.InvalidArgument {
		return User{}, false, nil // not an address any account can have
	}
	if err != nil || len(resp.GetUsers()) == 0 {
		return User{}, false, err
	}
	u := resp.GetUsers()[0]
	return User{ID: u.GetId(), Email: u.GetEmail(), Name: u.GetName()}, true, nil
}

// UsersByID implements Directory.
func (d AuthDirectory) UsersByID(ctx context.Context, ids []string) (map[string]User, error) {
	out := make(map[string]User, len(ids))
	for start := 0; start < len(ids); start += 100 { // LookupUsers takes 100 ids per call
		resp, err := d.Client.LookupUsers(ctx, &authv1.LookupUsersRequest{Ids: ids[start:min(start+100, len(ids))]})
		if err != nil {
			return nil, err
		}
		for _, u := range resp.GetUsers() {
			out[u.GetId()] = User{ID: u.GetId(), Email: u.GetEmail(), Name: u.GetName()}
		}
	}
	return out, nil
}

// PublicEvent encodes a timeline event as the JSON of the Event message (protojson), the form
// ListEvents answers with: what the bus carries to live clients.
func PublicEvent(e store.Event) ([]byte, error) { return edge.JSON.Marshal(eventPB(e)) }

// PublicNotification encodes a notification as the JSON of the Notification message
// (protojson), the form ListNotifications answers with: what the bus carries to the user's live
// clients.
func PublicNotification(n store.Notification) ([]byte, error) {
	return edge.JSON.Marshal(notificationPB(n))
}
