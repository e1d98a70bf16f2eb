package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	"github.com/fuzzyllama/fuzzyllama/gateway/internal/envelope"
	"github.com/fuzzyllama/fuzzyllama/platform/edge"
)

// unenveloped routes answer the bare message because their consumers expect a standard shape:
// the JWKS (RFC 7517) is read by JWT libraries.
var unenveloped = map[string]bool{"/.well-known/jwks.json": true}

var dataJSON = edge.JSON

// envelopeRewriter wraps every successful response message in the envelope.
func envelopeRewriter(ctx context.Context, resp proto.Message) (any, error) {
	if p, ok := runtime.HTTPPathPattern(ctx); ok && unenveloped[p] {
		return resp, nil
	}
	data, err := dataJSON.Marshal(resp)
	if err != nil {
		return nil, err
	}
	return encodedJSON(envelope.AppendSuccess(make([]byte, 0, len(data)+128), data, envelope.NewMeta(ctx))), nil
}

// encodedJSON is a body that is already JSON; marshaler writes it as is.
type encodedJSON []byte

// marshaler is grpc-gateway's JSONPb, passing encodedJSON through untouched.
type marshaler struct{ runtime.JSONPb }

func (m *marshaler) Marshal(v any) ([]byte, error) {
	if b, ok := v.(encodedJSON); ok {
		return b, nil
	}
	return m.JSONPb.Marshal(v)
}

// NewDecoder is JSONPb's decoder, strict about the end of the body: after the one JSON value,
// only whitespace may follow (`{} trailing` is refused, not half-read).
func (m *marshaler) NewDecoder(r io.Reader) runtime.Decoder {
	d := json.NewDecoder(r)
	return strictDecoder{DecoderWrapper: runtime.DecoderWrapper{Decoder: d, UnmarshalOptions: m.UnmarshalOptions}, r: r}
}

type strictDecoder struct {
	runtime.DecoderWrapper
	r io.Reader
}

var errTrailingData = errors.New("request body: unexpected data after the JSON value")

func (d strictDecoder) Decode(v any) error {
	if err := d.DecoderWrapper.Decode(v); err != nil {
		return err
	}
	rest := bufio.NewReader(io.MultiReader(d.Decoder.Buffered(), d.r))
	for {
		c, err := rest.ReadByte()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			return errTrailingData
		}
	}
}

// successStatus marks API responses uncacheable (they carry tokens and private data; RFC 6749
// §5.1) and applies the HTTP status a service asked for (edge.SetHTTPStatus), e.g. 201.
func successStatus(ctx context.Context, w http.ResponseWriter, _ proto.Message) error {
	w.Header().Set("Cache-Control", "no-store")
	md, ok := runtime.ServerMetadataFromContext(ctx)
	if !ok {
		return nil
	}
	if v := md.HeaderMD.Get(edge.HTTPStatusKey); len(v) > 0 {
		if code, err := strconv.Atoi(v[0]); err == nil && code >= 200 && code < 300 {
			w.WriteHeader(code)
		}
	}
	return nil
}
