package apperr

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestCode: an error from another service (a gRPC status) and one of ours read the same way.
func TestCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{FailedPrecondition("gate moved on"), codes.FailedPrecondition},
		{fmt.Errorf("wrapped: %w", NotFound("no run")), codes.NotFound},
		{status.Error(codes.PermissionDenied, "from projects"), codes.PermissionDenied},
		{errors.New("disk on fire"), codes.Internal},
	} {
		if got := Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
