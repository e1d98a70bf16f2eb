package grpcx

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
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
		_, err := errorsUnary(log)(context.Background(), nil, info, func(ctx context.Context, req any) (any, error) {
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
