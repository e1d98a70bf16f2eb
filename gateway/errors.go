package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
	"github.com/fuzzyllama/fuzzyllama/gateway/internal/middleware"
	"github.com/fuzzyllama/fuzzyllama/platform/apperr"
)

// httpStatus maps a gRPC code to the HTTP status of the answer: grpc-gateway's table
// (runtime.HTTPStatusFromCode), which already follows google.rpc.Code's documented mapping.
func httpStatus(c codes.Code) int { return runtime.HTTPStatusFromCode(c) }

// errorHandler writes every error of a proxied call as the envelope: code name, message, and the
// structured details the service attached (offending fields, retry delay, reason).
func errorHandler(log *slog.Logger) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		// A body read past HTTP_MAX_BODY_BYTES (a chunked body: a declared one is refused
		// before) reaches here as the mux's InvalidArgument: it is a 413.
		if max, ok := middleware.BodyTooLarge(r); ok {
			middleware.WriteTooLarge(w, r, max)
			return
		}
		var he *runtime.HTTPStatusError
		if errors.As(err, &he) { // routing errors such as 405 carry their own HTTP status
			writeStatus(w, r, he.HTTPStatus, status.Convert(he.Err))
			return
		}
		st := status.Convert(err)
		switch st.Code() {
		case codes.Unknown, codes.Internal, codes.DataLoss:
			log.ErrorContext(ctx, "backend error", "code", st.Code().String(), "error", envelope.ClipWords(st.Message()))
			st = status.New(codes.Internal, "internal error")
		}
		endRefusedSession(w, r, st.Code())
		writeStatus(w, r, httpStatus(st.Code()), st)
	}
}

// writeStatus writes st as the envelope with httpCode. An Unavailable status, whoever sent it
// (a backend that is down, or whose database or Redis is), becomes unavailableStatus: a
// message without internals and a Retry-After.
func writeStatus(w http.ResponseWriter, r *http.Request, httpCode int, st *status.Status) {
	if st.Code() == codes.Unavailable {
		st = unavailableStatus(st)
	}
	var d envelope.Details
	for _, detail := range st.Details() {
		switch v := detail.(type) {
		case *errdetails.BadRequest:
			for _, f := range v.GetFieldViolations() {
				d.Fields = append(d.Fields, envelope.Field{Field: f.GetField(), Description: f.GetDescription()})
			}
		case *errdetails.RetryInfo:
			if s := v.GetRetryDelay().AsDuration().Seconds(); s > 0 {
				d.RetryAfterSeconds = int64(s + 0.999) // round up: never invite an early retry
			}
		case *errdetails.ErrorInfo:
			d.Reason, d.Metadata = v.GetReason(), v.GetMetadata()
		}
	}
	if st.Code() == codes.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fuzzyllama"`)
	}
	var details *envelope.Details
	if len(d.Fields) > 0 || d.Reason != "" || d.RetryAfterSeconds > 0 || len(d.Metadata) > 0 {
		details = &d
	}
	envelope.WriteError(w, r, httpCode, codeName(st.Code()), st.Message(), details)
}

// unavailableStatus is what a client learns of an outage: 503 UNAVAILABLE, try again shortly,
// and when (the delay the backend asked for, else apperr.RetryAfterUnavailable). Its message is
// the gateway's own: a backend's may name internal addresses ("dial tcp 10.0.3.7:9090"). It is
// not logged: the outage is reported once, at WARN, by whoever notices it (the backend's outage
// log for its database, the gateway's probe of each backend), and each 503 is in the access log.
func unavailableStatus(from *status.Status) *status.Status {
	delay := apperr.RetryAfterUnavailable
	for _, d := range from.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().AsDuration() > 0 {
			delay = ri.GetRetryDelay().AsDuration()
		}
	}
	st, err := status.New(codes.Unavailable, "service temporarily unavailable; try again shortly").
		WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)})
	if err != nil { // only for a detail that cannot be marshalled; RetryInfo always can
		return status.New(codes.Unavailable, "service temporarily unavailable; try again shortly")
	}
	return st
}

// codeName is the google.rpc.Code name of c, e.g. INVALID_ARGUMENT.
func codeName(c codes.Code) string {
	if name, ok := codeNames[c]; ok {
		return name
	}
	return "UNKNOWN"
}

var codeNames = map[codes.Code]string{
	codes.OK: "OK", codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN",
	codes.InvalidArgument: "INVALID_ARGUMENT", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
	codes.NotFound: "NOT_FOUND", codes.AlreadyExists: "ALREADY_EXISTS",
	codes.PermissionDenied: "PERMISSION_DENIED", codes.ResourceExhausted: "RESOURCE_EXHAUSTED",
	codes.FailedPrecondition: "FAILED_PRECONDITION", codes.Aborted: "ABORTED",
	codes.OutOfRange: "OUT_OF_RANGE", codes.Unimplemented: "UNIMPLEMENTED", codes.Internal: "INTERNAL",
	codes.Unavailable: "UNAVAILABLE", codes.DataLoss: "DATA_LOSS", codes.Unauthenticated: "UNAUTHENTICATED",
}

// routingErrorHandler answers requests that match no route: 404, or 405 for a known path with
// the wrong method (grpc-gateway's default would say 501).
func routingErrorHandler(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpCode int) {
	switch httpCode {
	case http.StatusMethodNotAllowed:
		envelope.WriteError(w, r, httpCode, "METHOD_NOT_ALLOWED", "method "+r.Method+" is not allowed on "+envelope.Clip(r.URL.Path), nil)
	case http.StatusBadRequest:
		envelope.WriteError(w, r, httpCode, "INVALID_ARGUMENT", "malformed request path", nil)
	default:
		envelope.WriteError(w, r, http.StatusNotFound, "NOT_FOUND", "no route for "+envelope.Clip(r.Method)+" "+envelope.Clip(r.URL.Path), nil)
	}
}
