package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	documentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/documents/v1"
)

// exportPattern is the route of ExportDocuments, declared in its proto.
const exportPattern = "/api/v1/projects/{project_id}/documents:export"

// exportQuery lists the request fields the path fills, which the query may not set.
var exportQuery = utilities.NewDoubleArray([][]string{{"project_id"}})

// serveExport answers ExportDocuments as a file download. grpc-gateway's own handler for a
// server stream writes each message as a JSON object (and a newline after each chunk), which
// suits event streams but corrupts a binary file; this one writes the archive's bytes as they
// arrive, named by the first message, and replaces the generated route (registered later, so it
// is matched first).
//
// An error before the first byte is the usual JSON envelope with its HTTP status. An error after
// it aborts the response, so the client sees a broken transfer instead of an archive that looks
// complete but is not.
func serveExport(mux *runtime.ServeMux, client documentsv1.DocumentsServiceClient, log *slog.Logger) runtime.HandlerFunc {
	const method = "/fuzzyllama.documents.v1.DocumentsService/ExportDocuments"
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		ctx, fail, ok := annotate(mux, w, r, method, exportPattern)
		if !ok {
			return
		}
		req := &documentsv1.ExportDocumentsRequest{ProjectId: params["project_id"]}
		if err := r.ParseForm(); err != nil {
			fail(err)
			return
		}
		if err := runtime.PopulateQueryParameters(req, r.Form, exportQuery); err != nil {
			fail(status.Errorf(codes.InvalidArgument, "%v", err))
			return
		}
		stream, err := client.ExportDocuments(ctx, req)
		var first *documentsv1.ExportDocumentsResponse
		if err == nil {
			first, err = stream.Recv()
		}
		if err != nil {
			fail(err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", first.GetContentType())
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": first.GetFilename()}))
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for msg := first; ; {
			if _, err := w.Write(msg.GetData()); err != nil {
				return // the client went away; its context ends the stream
			}
			_ = rc.Flush()
			if msg, err = stream.Recv(); errors.Is(err, io.EOF) {
				return
			} else if err != nil {
				log.WarnContext(ctx, "export stream failed after the download started", "error", err.Error())
				panic(http.ErrAbortHandler)
			}
		}
	}
}

// annotate prepares a hand-written route the way grpc-gateway prepares its generated ones: ctx
// carries the outgoing metadata (the caller's token, the request id), and fail answers an error
// as the usual envelope. ok is false when the request could not be prepared (already answered).
func annotate(mux *runtime.ServeMux, w http.ResponseWriter, r *http.Request, method, pattern string) (ctx context.Context, fail func(error), ok bool) {
	_, marshaler := runtime.MarshalerForRequest(mux, r)
	ctx, err := runtime.AnnotateContext(r.Context(), mux, r, method, runtime.WithHTTPPathPattern(pattern))
	fail = func(err error) { runtime.HTTPError(ctx, mux, marshaler, w, r, err) }
	if err != nil {
		fail(err)
		return nil, nil, false
	}
	return ctx, fail, true
}
