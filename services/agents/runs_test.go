package agents

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/services/agents/store"
)

// TestListRunsChangedSince: through the handler, changedSince keeps the runs not finished and
// those that finished at or after it, page after page; a time out of the Timestamp range is
// refused naming the field.
func TestListRunsChangedSince(t *testing.T) {
	db := sqliteStore(t)
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	run := func(gate int, created, finished time.Time) string {
		t.Helper()
		r, _, err := db.CreateRun(ctx, store.Run{ID: uuid.NewString(), ProjectID: "p1", Gate: gate, Role: "architect", UserID: "u1",
			Model: "offline", MaxAttempts: 1, CreatedAt: created})
		if err != nil {
			t.Fatal(err)
		}
		if !finished.IsZero() {
			if _, err := db.Finish(ctx, r.ID, store.StateFailed, "boom", finished); err != nil {
				t.Fatal(err)
			}
		}
		return r.ID
	}
	old := run(1, since.Add(-time.Hour), since.Add(-time.Second))
	queued := run(2, since.Add(-time.Hour+time.Second), time.Time{})
	recent := run(3, since.Add(-time.Minute), since.Add(time.Second))

	h := &Handler{Service: &Service{Store: db, Projects: openProjects{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	list := func(changedSince *timestamppb.Timestamp) []string {
		t.Helper()
		var ids []string
		req := &pb.ListRunsRequest{ProjectId: "p1", ChangedSince: changedSince, PageSize: 1}
		for range 5 {
			resp, err := h.ListRuns(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range resp.GetRuns() {
				ids = append(ids, r.GetId())
			}
			if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
				break
			}
		}
		return ids
	}
	if got, want := list(timestamppb.New(since)), []string{recent, queued}; !slices.Equal(got, want) {
		t.Errorf("changed since: %v, want %v (old %s)", got, want, old)
	}
	if got, want := list(nil), []string{recent, queued, old}; !slices.Equal(got, want) {
		t.Errorf("without changedSince: %v, want %v", got, want)
	}
	for _, bad := range []*timestamppb.Timestamp{{Seconds: -62135596801}, {Seconds: 253402300800}, {Nanos: -1}} {
		_, err := h.ListRuns(ctx, &pb.ListRunsRequest{ProjectId: "p1", ChangedSince: bad})
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "changedSince" {
			t.Errorf("changedSince %v: %v", bad, err)
		}
	}
}
