package grpcx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
	"github.com/fuzzyllama/fuzzyllama/platform/database"
	"github.com/fuzzyllama/fuzzyllama/platform/outage"
	"github.com/fuzzyllama/fuzzyllama/platform/redisx"
	"github.com/fuzzyllama/fuzzyllama/platform/requestid"
)

// TestErrorsAreMappedAndInternalsMasked: domain errors keep their code and message, anything
// else — an unexpected error or a panic — reaches the caller as a bare Internal error and the
// log as what it was.
func TestErrorsAreMappedAndInternalsMasked(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	chain := func(h grpc.UnaryHandler) error {
		info := &grpc.UnaryServerInfo{FullMethod: "/test.Service/Call"}
		recover := recovery.UnaryServerInterceptor()
		_, err := errorsUnary(log, nil)(context.Background(), nil, info, func(ctx context.Context, req any) (any, error) {
			return recover(ctx, req, info, h)
		})
		return err
	}
	cases := []struct {
		name    string
		handler grpc.UnaryHandler
		code    codes.Code
		message string
	}{
		{"domain error", func(context.Context, any) (any, error) { return nil, apperr.NotFound("project p not found") },
			codes.NotFound, "project p not found"},
		{"unexpected error", func(context.Context, any) (any, error) {
			return nil, errors.New("pq: password authentication failed for user secret")
		}, codes.Internal, "internal error"},
		{"panic", func(context.Context, any) (any, error) { panic("index out of range in secret code") },
			codes.Internal, "internal error"},
	}
	for _, c := range cases {
		st := status.Convert(chain(c.handler))
		if st.Code() != c.code || st.Message() != c.message {
			t.Errorf("%s: %v %q", c.name, st.Code(), st.Message())
		}
	}
	if !strings.Contains(logs.String(), "password authentication failed") || !strings.Contains(logs.String(), "index out of range") {
		t.Errorf("internal errors not logged:\n%s", logs.String())
	}
}

func TestRequestIDIsAdoptedOnlyWhenSafe(t *testing.T) {
	for in, adopt := range map[string]bool{"abc-123": true, "bad id\n": false, "": false} {
		ctx := context.Background()
		if in != "" {
			ctx = metadata.NewIncomingContext(ctx, metadata.Pairs(requestid.MetadataKey, in))
		}
		got := requestid.FromContext(adoptRequestID(ctx))
		if (got == in) != adopt || got == "" {
			t.Errorf("request id %q became %q", in, got)
		}
	}
}

// TestOutagesAreUnavailable: an unavailable database or Redis reaches the caller as Unavailable
// with a retry delay, never Internal, and the database's outage is logged once at WARN however
// many calls meet it, with no ERROR line.
func TestOutagesAreUnavailable(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	db := &outage.Log{Dependency: "projects database", Logger: log}
	info := &grpc.UnaryServerInfo{FullMethod: "/test.Service/Call"}
	deps := []Dependency{{Name: "the database", IsUnavailable: database.IsUnavailable, Outages: db},
		{Name: "Redis", IsUnavailable: redisx.IsUnavailable}}
	call := func(err error) *status.Status {
		_, got := errorsUnary(log, deps)(context.Background(), nil, info, func(context.Context, any) (any, error) { return nil, err })
		return status.Convert(got)
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for name, err := range map[string]error{
		"postgres shutting down": fmt.Errorf("list projects: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}),
		"postgres refused":       fmt.Errorf("save: %w", refusedPostgres()),
		"redis refused":          fmt.Errorf("check session: %w", refused),
	} {
		for range 3 {
			st := call(err)
			if st.Code() != codes.Unavailable {
				t.Fatalf("%s: %v %q, want Unavailable", name, st.Code(), st.Message())
			}
			var retry time.Duration
			for _, d := range st.Details() {
				if ri, ok := d.(*errdetails.RetryInfo); ok {
					retry = ri.GetRetryDelay().AsDuration()
				}
			}
			if retry != apperr.RetryAfterUnavailable {
				t.Errorf("%s: retry delay %v, want %v", name, retry, apperr.RetryAfterUnavailable)
			}
		}
	}
	if got := call(&pgconn.PgError{Code: "23505"}); got.Code() != codes.Internal {
		t.Errorf("a constraint violation is a fault of ours, not an outage: %v", got.Code())
	}
	warns, errs := 0, 0
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		switch {
		case strings.Contains(l, `"level":"WARN"`):
			warns++
		case strings.Contains(l, `"level":"ERROR"`):
			errs++
		}
	}
	if warns != 1 || errs != 1 || !db.IsDown() {
		t.Errorf("want one WARN for the database outage and one ERROR for the constraint violation, got %d and %d:\n%s", warns, errs, logs.String())
	}
}

// refusedPostgres is what pgx answers when nothing listens where PostgreSQL should.
func refusedPostgres() error {
	conn, err := pgconn.Connect(context.Background(), "postgres://postgres@127.0.0.1:1/db?sslmode=disable&connect_timeout=5")
	if err == nil {
		_ = conn.Close(context.Background())
		return errors.New("something listens on port 1")
	}
	return err
}
