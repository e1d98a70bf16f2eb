package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/getkin/kin-openapi/openapi3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fuzzyllama/fuzzyllama/gateway/live"
	"github.com/fuzzyllama/fuzzyllama/gen"
)

// The published contract of the live protocol, gen/api/asyncapi.json (made from protocol.go by
// tools/apigen): every request the tests send (send), every message they read (read, and so recv
// and readFor; the event streams' reader) and every close code they meet is checked against it,
// so the code and the contract cannot drift apart. The fakes send what the services do (asServed).

// contract is the published document's schemas and close codes.
type liveContract struct {
	client, server, streamClose *openapi3.Schema
	wsCloseCodes                map[int]bool
	streamCloseCodes            map[int]bool
}

// wrappedRef is a reference between the document's schemas, which are OpenAPI 3.0 schemas
// wrapped in Multi Format Schema Objects: "#/components/schemas/X/schema".
var wrappedRef = regexp.MustCompile(`"#/components/schemas/([^"/]+)/schema"`)

var loadContract = sync.OnceValues(func() (*liveContract, error) {
	b, err := gen.API.ReadFile("api/asyncapi.json")
	if err != nil {
		return nil, fmt.Errorf("the published live contract: %w (run make gen)", err)
	}
	var doc struct {
		Channels   map[string]map[string]json.RawMessage
		Components struct {
			Schemas map[string]struct {
				SchemaFormat string          `json:"schemaFormat"`
				Schema       json.RawMessage `json:"schema"`
			}
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	schemas := map[string]json.RawMessage{}
	for name, s := range doc.Components.Schemas {
		schemas[name] = wrappedRef.ReplaceAll(s.Schema, []byte(`"#/components/schemas/$1"`))
	}
	b, _ = json.Marshal(map[string]any{
		"openapi": "3.0.3", "info": map[string]any{"title": "live", "version": "0"}, "paths": map[string]any{},
		"components": map[string]any{"schemas": schemas},
	})
	loaded, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, err
	}
	if err := loaded.Validate(context.Background()); err != nil {
		return nil, err
	}
	c := &liveContract{wsCloseCodes: map[int]bool{}, streamCloseCodes: map[int]bool{}}
	for name, s := range map[string]**openapi3.Schema{"LiveClientMessage": &c.client, "LiveServerMessage": &c.server, "LiveStreamClose": &c.streamClose} {
		ref := loaded.Components.Schemas[name]
		if ref == nil {
			return nil, fmt.Errorf("the live contract has no schema %s", name)
		}
		*s = ref.Value
	}
	for channel, codes := range map[string]map[int]bool{"ws": c.wsCloseCodes, "projectEvents": c.streamCloseCodes} {
		var byCode map[string]json.RawMessage
		if err := json.Unmarshal(doc.Channels[channel]["x-close-codes"], &byCode); err != nil || len(byCode) == 0 {
			return nil, fmt.Errorf("the live contract's channel %s has no x-close-codes", channel)
		}
		for code := range byCode {
			n, _ := strconv.Atoi(code)
			codes[n] = true
		}
	}
	return c, nil
})

func contract(t testing.TB) *liveContract {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// conforms reports why the JSON b is not an instance of the schema, if it is not; for a union
// of variants, why it is not the variant its type names.
func conforms(s *openapi3.Schema, b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	err := s.VisitJSON(v, openapi3.MultiErrors(), openapi3.SetSchemaErrorMessageCustomizer(func(err *openapi3.SchemaError) string {
		return fmt.Sprintf("%s: %s", strings.Join(err.JSONPointer(), "."), err.Reason)
	}))
	if err == nil || s.Discriminator == nil {
		return err
	}
	typ, _ := v.(map[string]any)[s.Discriminator.PropertyName].(string)
	for _, variant := range s.OneOf {
		if variant.Ref == s.Discriminator.Mapping[typ].Ref {
			if verr := conforms(variant.Value, b); verr != nil {
				return fmt.Errorf("%s: %w", typ, verr)
			}
		}
	}
	return err
}

// brief is the start of a long message.
func brief(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// checkSent fails the test (it may be called from any goroutine of it) if a request the test sends
// is not one the contract describes.
func checkSent(t testing.TB, b []byte) {
	t.Helper()
	if err := conforms(contract(t).client, b); err != nil {
		t.Errorf("the request %s is not in the live contract: %v", brief(b), err)
	}
}

// checkReceived fails the test if a message from the gateway is not one the contract describes.
func checkReceived(t testing.TB, b []byte) {
	t.Helper()
	if err := conforms(contract(t).server, b); err != nil {
		t.Errorf("the gateway sent %s, which is not in the live contract: %v", brief(b), err)
	}
}

// checkClosed fails the test if the socket was closed with a code the contract does not name.
func checkClosed(t testing.TB, err error) {
	t.Helper()
	if code := websocket.CloseStatus(err); code != -1 && !contract(t).wsCloseCodes[int(code)] {
		t.Errorf("the gateway closed the socket with %d, which is not in the live contract: %v", code, err)
	}
}

// read reads a message from the socket and checks it, or the close code, against the contract.
// The message is checked on the test's checker (afterwards, in order), so that checking does not
// slow a reader down: some tests read at a set pace.
func read(t testing.TB, ctx context.Context, c *websocket.Conn) ([]byte, error) {
	t.Helper()
	_, b, err := c.Read(ctx)
	if err != nil {
		checkClosed(t, err)
		return nil, err
	}
	checkerOf(t).add(b)
	return b, nil
}

// A checker checks the messages a test receives, in order, on its own goroutine; the test waits
// for it when it ends (a message read after that is not checked).
type checker struct {
	t       testing.TB
	mu      sync.Mutex
	more    *sync.Cond
	queue   [][]byte
	closed  bool
	pending sync.WaitGroup
	done    chan struct{}
}

var checkers sync.Map // testing.TB -> *checker

func checkerOf(t testing.TB) *checker {
	if c, ok := checkers.Load(t); ok {
		return c.(*checker)
	}
	c := &checker{t: t, done: make(chan struct{})}
	c.more = sync.NewCond(&c.mu)
	if prev, loaded := checkers.LoadOrStore(t, c); loaded {
		return prev.(*checker)
	}
	go c.run()
	t.Cleanup(func() {
		c.mu.Lock()
		c.closed = true
		c.more.Signal()
		c.mu.Unlock()
		<-c.done
		checkers.Delete(t)
	})
	return c
}

func (c *checker) add(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.pending.Add(1)
		c.queue = append(c.queue, b)
		c.more.Signal()
	}
}

// flush waits until every message added has been checked.
func (c *checker) flush() { c.pending.Wait() }

func (c *checker) run() {
	defer close(c.done)
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closed {
			c.more.Wait()
		}
		if len(c.queue) == 0 {
			c.mu.Unlock()
			return
		}
		b := c.queue[0]
		c.queue = c.queue[1:]
		c.mu.Unlock()
		checkReceived(c.t, b)
		c.pending.Done()
	}
}

// checkStreamEvent checks a server-sent event of the event streams: a live message whose
// timeline event or notification id is the event's id, or the last event, close.
func checkStreamEvent(c *liveContract, e sseEvent) error {
	if e.event == live.StreamCloseEvent {
		if err := conforms(c.streamClose, []byte(e.raw)); err != nil {
			return err
		}
		if !c.streamCloseCodes[e.closing.Code] {
			return fmt.Errorf("close code %d is not in the live contract", e.closing.Code)
		}
		return nil
	}
	if e.event != "" {
		return fmt.Errorf("event %q is not in the live contract", e.event)
	}
	if err := conforms(c.server, []byte(e.raw)); err != nil {
		return err
	}
	var item struct{ ID string }
	switch live.MessageType(e.data.Type) {
	case live.EventMessage:
		_ = json.Unmarshal(e.data.Event, &item)
	case live.NotificationMessage:
		_ = json.Unmarshal(e.data.Notification, &item)
	}
	if e.id != item.ID {
		return fmt.Errorf("the event's id is %q, its item's %q", e.id, item.ID)
	}
	return nil
}

// TestContractCatchesStrayMessages: the checks refuse what the contract does not describe.
func TestContractCatchesStrayMessages(t *testing.T) {
	c := contract(t)
	for _, b := range []string{
		`{"type":"subscribed","projectId":"p1"}`,
		`{"type":"error","code":"NotFound","message":"no such project","projectId":"p1"}`,
	} {
		if err := conforms(c.server, []byte(b)); err != nil {
			t.Errorf("%s: %v", b, err)
		}
	}
	for _, b := range []string{
		`{"type":"welcome"}`,                                              // an unknown type
		`{"type":"subscribed","projectId":"p1","x":1}`,                    // a field it does not have
		`{"type":"event","projectId":"p1"}`,                               // without its payload
		`{"type":"event","projectId":"p1","event":{"id":"1"}}`,            // a payload not the public Event
		`{"type":"error","code":"NOT_FOUND","message":"no such project"}`, // not a gRPC code name
	} {
		if conforms(c.server, []byte(b)) == nil {
			t.Errorf("the contract admits %s", b)
		}
	}
	for _, b := range []string{`{"type":"bogus"}`, `{"type":"watchRun","runId":"r1"}`, `{"type":"subscribe","projectId":"p1","afterEventId":"x"}`} {
		if conforms(c.client, []byte(b)) == nil {
			t.Errorf("the contract admits the request %s", b)
		}
	}
	if c.wsCloseCodes[4010] || !c.wsCloseCodes[int(live.CloseTokenExpired)] || !c.wsCloseCodes[int(live.CloseTooSlow)] || !c.streamCloseCodes[4010] {
		t.Errorf("close codes: socket %v, event streams %v", c.wsCloseCodes, c.streamCloseCodes)
	}
	for _, e := range []sseEvent{
		{event: "close", raw: `{"code":4002,"reason":"?"}`, closing: streamClose{Code: 4002}},
		{event: "ping", raw: `{}`},
		{raw: `{"type":"notification","notification":{}}`},
	} {
		if checkStreamEvent(c, e) == nil {
			t.Errorf("the contract admits the stream event %+v", e)
		}
	}

	// And the checks hooked into the tests' readers fail the test.
	f := newFixture(t, live.Config{})
	conn := f.connect(t, "ann")
	rec := &recorder{TB: t}
	send(rec, conn, map[string]string{"type": "subscribe", "projectId": "p1", "afterEventId": "last"})
	if len(rec.errors) != 1 {
		t.Errorf("send: a request outside the contract reported %q", rec.errors)
	}
	rec.errors = nil
	// The gateway answers the bad request with a good error; the checker refuses a stray message.
	if m := recv(rec, conn); m.Type != "error" {
		t.Errorf("the answer %+v", m)
	}
	checkerOf(rec).flush()
	if len(rec.errors) != 0 {
		t.Errorf("the answer: %q", rec.errors)
	}
	checkerOf(rec).add([]byte(`{"type":"welcome"}`))
	checkerOf(rec).flush()
	if len(rec.errors) != 1 {
		t.Errorf("the checker: a stray message reported %q", rec.errors)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(websocket.StatusCode(4999), "")
	_, _, _ = conn.Read(ctx)
	checkClosed(rec, websocket.CloseError{Code: 4999})
	if len(rec.errors) != 2 {
		t.Errorf("checkClosed: an unknown close code reported %q", rec.errors)
	}
}

// recorder is a testing.TB that records errors instead of failing the test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Helper() {}

// asServed fills in what the services always set and a test left unset (the fields the protos
// mark REQUIRED, timestamps as now), so that the fakes send what the services do: the contract
// describes the services' messages.
func asServed[M proto.Message](m M) M {
	fill(m.ProtoReflect())
	return m
}

func fill(m protoreflect.Message) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.Kind() != protoreflect.MessageKind || f.IsMap() {
			continue
		}
		if f.IsList() {
			list := m.Get(f).List()
			for j := range list.Len() {
				fill(list.Get(j).Message())
			}
			continue
		}
		if !m.Has(f) {
			behaviors, _ := proto.GetExtension(f.Options(), annotations.E_FieldBehavior).([]annotations.FieldBehavior)
			if f.ContainingOneof() != nil || !slices.Contains(behaviors, annotations.FieldBehavior_REQUIRED) {
				continue
			}
			v := m.NewField(f)
			if f.Message().FullName() == "google.protobuf.Timestamp" {
				now := timestamppb.Now()
				v = protoreflect.ValueOfMessage(now.ProtoReflect())
			}
			m.Set(f, v)
		}
		fill(m.Get(f).Message())
	}
}
