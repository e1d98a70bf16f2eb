package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	agentsv1 "github.com/fuzzyllama/fuzzyllama/gen/go/fuzzyllama/agents/v1"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
)

// watchRunPattern is the route of WatchRun, declared in its proto.
const watchRunPattern = "/api/v1/projects/{project_id}/runs/{run_id}:watch"

// sseHeartbeat keeps idle connections (and proxies in between) from timing out, and finds
// clients that went away.
const sseHeartbeat = 15 * time.Second

// serveWatchRun answers WatchRun as server-sent events, which browsers read with EventSource:
// "event: run" carries the run (its state changed), "event: chunk" a piece of its output, each
// as the JSON of its message; the stream ends when the run has finished. It replaces the
// generated route, whose newline-delimited JSON no browser API reads as it arrives.
//
// An error before the first event is the usual JSON envelope with its HTTP status; one after it
// is an "event: error" with the code and message, and the end of the stream.
//
// The stream also ends when streams does (the gateway shutting down): the client reconnects.
func serveWatchRun(mux *runtime.ServeMux, client agentsv1.AgentsServiceClient, streams context.Context, log *slog.Logger) runtime.HandlerFunc {
	const method = "/fuzzyllama.agents.v1.AgentsService/WatchRun"
	pj := edge.JSON
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		ctx, fail, ok := annotate(mux, w, r, method, watchRunPattern)
		if !ok {
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(streams, cancel)()
		stream, err := client.WatchRun(ctx, &agentsv1.WatchRunRequest{ProjectId: params["project_id"], RunId: params["run_id"]})
		var first *agentsv1.WatchRunResponse
		if err == nil {
			first, err = stream.Recv()
		}
		if err != nil {
			fail(err)
			return
		}
		live.StartEventStream(w)
		rc := http.NewResponseController(w)

		messages := make(chan *agentsv1.WatchRunResponse)
		failed := make(chan error, 1)
		go func() {
			defer close(messages)
			for {
				msg, err := stream.Recv()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						failed <- err
					}
					return
				}
				select {
				case messages <- msg:
				case <-ctx.Done():
					return
				}
			}
		}()
		beat := time.NewTicker(sseHeartbeat)
		defer beat.Stop()
		id := 0
		write := func(event string, m proto.Message) bool {
			id++
			b, _ := pj.Marshal(m)
			_, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", id, event, b)
			return err == nil && rc.Flush() == nil
		}
		send := func(msg *agentsv1.WatchRunResponse) bool {
			if run := msg.GetRun(); run != nil {
				return write("run", run)
			}
			return write("chunk", msg.GetChunk())
		}
		if !send(first) {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-beat.C:
				if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
					return
				}
			case msg, ok := <-messages:
				if !ok {
					select {
					case err := <-failed:
						st := status.Convert(err)
						log.InfoContext(ctx, "run watch ended with an error", "code", st.Code().String(), "error", st.Message())
						b, _ := json.Marshal(map[string]string{"code": codeName(st.Code()), "message": st.Message()})
						_, _ = fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
						_ = rc.Flush()
					default:
					}
					return
				}
				if !send(msg) {
					return
				}
			}
		}
	}
}
