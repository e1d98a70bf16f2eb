package apperr

import (
	"context"
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ErrorDomain is the domain of the errdetails.ErrorInfo attached to errors with a reason.
const ErrorDomain = "fuzzyllama.dev"

// RetryAfterUnavailable is the retry delay of an Unavailable answer for a dependency outage
// (errdetails.RetryInfo; the gateway's Retry-After) when nothing better is known: long enough
// not to hammer a restarting database, short next to a typical restart, and over the second in
// which a process notices that a dependency is back.
const RetryAfterUnavailable = 2 * time.Second

var kindCodes = map[Kind]codes.Code{
	KindInternal:           codes.Internal,
	KindInvalid:            codes.InvalidArgument,
	KindNotFound:           codes.NotFound,
	KindAlreadyExists:      codes.AlreadyExists,
	KindUnauthenticated:    codes.Unauthenticated,
	KindPermissionDenied:   codes.PermissionDenied,
	KindFailedPrecondition: codes.FailedPrecondition,
	KindAborted:            codes.Aborted,
	KindResourceExhausted:  codes.ResourceExhausted,
	KindUnavailable:        codes.Unavailable,
}

// ToStatus converts err into the gRPC status the caller sees. Errors that already are a status
// pass through; *Error values keep their message and details; context errors map to Canceled and
// DeadlineExceeded; anything else becomes a masked Internal error and masked reports true so the
// caller can log the original.
func ToStatus(err error) (st *status.Status, masked bool) {
	if err == nil {
		return nil, false
	}
	if e, ok := As(err); ok {
		return e.status(), false
	}
	if s, ok := status.FromError(err); ok {
		return s, false
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "request canceled"), false
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded"), false
	}
	return status.New(codes.Internal, "internal error"), true
}

func (e *Error) status() *status.Status {
	st := status.New(kindCodes[e.Kind], e.Message)
	var ds []protoadapt.MessageV1
	if len(e.Fields) > 0 {
		br := &errdetails.BadRequest{}
		for _, f := range e.Fields {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field: f.Field, Description: f.Description,
			})
		}
		ds = append(ds, br)
	}
	if e.RetryAfter > 0 {
		ds = append(ds, &errdetails.RetryInfo{RetryDelay: durationpb.New(e.RetryAfter)})
	}
	if e.Reason != "" {
		ds = append(ds, &errdetails.ErrorInfo{Reason: e.Reason, Domain: ErrorDomain, Metadata: e.Metadata})
	}
	if len(ds) == 0 {
		return st
	}
	withDetails, err := st.WithDetails(ds...)
	if err != nil {
		return st
	}
	return withDetails
}

// Code is the gRPC code err carries, whether it is an *Error or a status from another service
// (codes.OK for nil, codes.Internal for anything else).
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	st, _ := ToStatus(err)
	return st.Code()
}
