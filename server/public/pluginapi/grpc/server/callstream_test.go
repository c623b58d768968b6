package server_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
)

// callClient makes calls on one CallStream and matches answers to them.
type callClient struct {
	stream pluginpb.PluginStreams_CallStreamClient

	mu      sync.Mutex
	nextID  uint64
	waiting map[uint64]chan *pluginpb.CallStreamResponse_Answer
	ended   chan struct{}
	err     error // why the stream ended
}

// openCallStream opens a call stream with token; the first frame says
// that the client accepts frames of up to maxReceive bytes (0: no limit).
func openCallStream(t *testing.T, h *harness, token string, maxReceive uint32) *callClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := pluginpb.NewPluginStreamsClient(h.conn).CallStream(ctx, auth.PerRPCCredentials(token))
	if err != nil {
		t.Fatalf("CallStream() = %v", err)
	}
	c := &callClient{stream: stream, waiting: map[uint64]chan *pluginpb.CallStreamResponse_Answer{}, ended: make(chan struct{})}
	if err := stream.Send(&pluginpb.CallStreamRequest{MaxReceiveBytes: maxReceive}); err != nil {
		t.Fatalf("Send(hello) = %v", err)
	}
	go c.read()
	return c
}

func (c *callClient) read() {
	defer close(c.ended)
	for {
		frame, err := c.stream.Recv()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		for _, a := range frame.GetAnswers() {
			if ch, ok := c.waiting[a.GetId()]; ok {
				delete(c.waiting, a.GetId())
				ch <- a
			}
		}
		c.mu.Unlock()
	}
}

// start sends a call of method with the request bytes payload and returns
// its id and the channel of its answer.
func (c *callClient) start(t *testing.T, method string, payload []byte, timeout time.Duration) (uint64, <-chan *pluginpb.CallStreamResponse_Answer) {
	t.Helper()
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan *pluginpb.CallStreamResponse_Answer, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	call := &pluginpb.CallStreamRequest_Call{Id: id, Method: method, Payload: payload, TimeoutMicros: timeout.Microseconds()}
	if err := c.stream.Send(&pluginpb.CallStreamRequest{Calls: []*pluginpb.CallStreamRequest_Call{call}}); err != nil {
		t.Fatalf("Send(%s) = %v", method, err)
	}
	return id, ch
}

// call makes one call and waits for its answer: the response bytes, or
// the status.
func (c *callClient) call(t *testing.T, method string, payload []byte) ([]byte, *status.Status) {
	t.Helper()
	_, ch := c.start(t, method, payload, 0)
	select {
	case a := <-ch:
		return a.GetPayload(), answerStatus(a)
	case <-c.ended:
		t.Fatalf("%s: the stream ended: %v", method, c.err)
	case <-time.After(testTimeout):
		t.Fatalf("%s: no answer", method)
	}
	return nil, nil
}

// answerStatus is the status an answer carries, as a unary call's
// grpc-status-details-bin trailer would give it; OK for a success.
func answerStatus(a *pluginpb.CallStreamResponse_Answer) *status.Status {
	if a.GetStatus() == nil {
		return status.New(codes.OK, "")
	}
	b, err := proto.Marshal(a.GetStatus())
	if err != nil {
		panic(err)
	}
	// ErrorStatus is wire-compatible with google.rpc.Status.
	var st spb.Status
	if err := proto.Unmarshal(b, &st); err != nil {
		panic(err)
	}
	return status.FromProto(&st)
}

// unaryCall makes the same call as a unary call with the request bytes
// payload.
func unaryCall(t *testing.T, h *harness, token, method string, payload []byte) ([]byte, *status.Status) {
	t.Helper()
	var out rawResponse
	err := h.conn.Invoke(ctxWithTimeout(t), method, rawBytes(payload), &out,
		grpc.ForceCodec(rawResponseCodec{}), auth.PerRPCCredentials(token))
	return out, status.Convert(err)
}

// rawResponse holds a response's bytes undecoded.
type rawResponse []byte

// rawResponseCodec sends rawBytes and keeps the response's bytes.
type rawResponseCodec struct{}

func (rawResponseCodec) Marshal(v any) ([]byte, error) { return v.(rawBytes), nil }
func (rawResponseCodec) Unmarshal(data []byte, v any) error {
	*v.(*rawResponse) = append(rawResponse(nil), data...)
	return nil
}
func (rawResponseCodec) Name() string { return "proto" }

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// callStreamBackend is the memory backend with a failure, a panic and an
// echo of the request id and plugin identity.
type callStreamBackend struct {
	faulty
}

func (callStreamBackend) GetDiagnosticId(ctx context.Context, _ *pluginpb.GetDiagnosticIdRequest) (*pluginpb.GetDiagnosticIdResponse, error) {
	id, _ := auth.PluginIDFromContext(ctx)
	return &pluginpb.GetDiagnosticIdResponse{DiagnosticId: server.RequestID(ctx) + "," + id}, nil
}

// TestCallStreamAnswersAsUnary: each call on the stream answers what the
// same unary call answers, bytes and status (AppError details included),
// on the same backend.
func TestCallStreamAnswersAsUnary(t *testing.T) {
	const pluginToken = "plugin-token"
	backend := memory.New(memory.Manifest(&pluginpb.Manifest{Id: "com.example.main"}))
	h := start(t, &callStreamBackend{faulty{Backend: backend}}, server.PluginTokens(auth.PluginToken{Token: pluginToken, PluginID: "com.example.p"}))
	api := "/mattermost.plugin.PluginAPI/"
	tests := []struct {
		name    string
		method  string
		payload []byte
		code    codes.Code
	}{
		{"a success", api + "KVSet", marshal(t, &pluginpb.KVSetRequest{Key: "k", Value: []byte("v")}), codes.OK},
		{"a success with a response", api + "KVGet", marshal(t, &pluginpb.KVGetRequest{Key: "k"}), codes.OK},
		{"an AppError", api + "GetUser", marshal(t, &pluginpb.GetUserRequest{UserId: "nobody"}), codes.NotFound},
		{"an AppError of validation", api + "CreateUser", marshal(t, &pluginpb.CreateUserRequest{User: &pluginpb.User{Username: "x"}}), codes.InvalidArgument},
		{"a plain error", api + "GetServerVersion", marshal(t, &pluginpb.GetServerVersionRequest{}), codes.Unknown},
		{"a panic", api + "KVDeleteAll", marshal(t, &pluginpb.KVDeleteAllRequest{}), codes.Internal},
		{"a request that does not parse", api + "KVGet", []byte{0xff, 0xff, 0xff}, codes.InvalidArgument},
		{"invalid UTF-8", api + "KVGet", []byte{0x0a, 0x02, 0xc3, 0x28}, codes.InvalidArgument},
		{"the plugin's identity", api + "GetPluginID", marshal(t, &pluginpb.GetPluginIDRequest{}), codes.OK},
		{"an unknown method", api + "NoSuchMethod", nil, codes.Unimplemented},
		{"an unknown service", "/mattermost.plugin.PluginHooks/OnActivate", nil, codes.Unimplemented},
	}
	for _, token := range []string{testToken, pluginToken} {
		stream := openCallStream(t, h, token, 0)
		for _, tt := range tests {
			t.Run(tt.name+" with "+token, func(t *testing.T) {
				gotBytes, got := stream.call(t, tt.method, tt.payload)
				wantBytes, want := unaryCall(t, h, token, tt.method, tt.payload)
				if got.Code() != tt.code || want.Code() != tt.code {
					t.Fatalf("codes: stream %v, unary %v; want %v", got.Code(), want.Code(), tt.code)
				}
				if tt.code != codes.OK && !proto.Equal(got.Proto(), want.Proto()) {
					t.Errorf("stream status %v; unary %v", got.Proto(), want.Proto())
				}
				if string(gotBytes) != string(wantBytes) {
					t.Errorf("stream answer %x; unary %x", gotBytes, wantBytes)
				}
			})
		}
	}
	if !strings.Contains(h.logString(), "handler bug") {
		t.Errorf("log = %q; want the panic logged as for unary calls", h.logString())
	}
}

// TestCallStreamRequestIDsAndIdentity: every call of a stream has a
// request id of its own and the identity of the stream's token.
func TestCallStreamRequestIDsAndIdentity(t *testing.T) {
	h := start(t, &callStreamBackend{faulty{Backend: memory.New()}}, server.PluginTokens(auth.PluginToken{Token: "p", PluginID: "com.example.p"}))
	stream := openCallStream(t, h, "p", 0)
	seen := map[string]bool{}
	for range 3 {
		b, st := stream.call(t, "/mattermost.plugin.PluginAPI/GetDiagnosticId", nil)
		var resp pluginpb.GetDiagnosticIdResponse
		if st.Code() != codes.OK || proto.Unmarshal(b, &resp) != nil {
			t.Fatalf("GetDiagnosticId = %v", st)
		}
		id, plugin, _ := strings.Cut(resp.GetDiagnosticId(), ",")
		if len(id) != 26 || seen[id] || plugin != "com.example.p" {
			t.Errorf("request id %q, plugin %q; want a new id per call and com.example.p", id, plugin)
		}
		seen[id] = true
	}
}

// TestCallStreamAuthentication: the stream opens only with a token the
// server accepts, and nothing is read before.
func TestCallStreamAuthentication(t *testing.T) {
	h := start(t, memory.New())
	for _, token := range []string{"", "wrong"} {
		stream, err := pluginpb.NewPluginStreamsClient(h.conn).CallStream(ctxWithTimeout(t), auth.PerRPCCredentials(token))
		if err == nil {
			_, err = stream.Recv()
		}
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("CallStream with token %q = %v; want Unauthenticated", token, err)
		}
	}
}

// TestCallStreamDeadlineAndCancel: a call's deadline and cancellation reach
// its handler's context, and leave the other calls of the stream alone.
func TestCallStreamDeadlineAndCancel(t *testing.T) {
	f := newHoldingBackend()
	h := start(t, f)
	stream := openCallStream(t, h, testToken, 0)
	held := marshal(t, &pluginpb.LogDebugRequest{Message: "held"})

	_, answer := stream.start(t, "/mattermost.plugin.PluginAPI/LogDebug", held, 50*time.Millisecond)
	select {
	case a := <-answer:
		if st := answerStatus(a); st.Code() != codes.DeadlineExceeded {
			t.Errorf("a held call past its deadline = %v; want DeadlineExceeded", st)
		}
	case <-time.After(testTimeout):
		t.Fatal("the deadline never ended the held call")
	}

	// A cancellation ends the handler (the backend's ctx.Done) and sends
	// no answer; the stream still serves.
	f2 := newHoldingBackend()
	h2 := start(t, f2)
	stream2 := openCallStream(t, h2, testToken, 0)
	id, answer2 := stream2.start(t, "/mattermost.plugin.PluginAPI/LogDebug", held, 0)
	<-f2.entered
	if err := stream2.stream.Send(&pluginpb.CallStreamRequest{Cancels: []uint64{id}}); err != nil {
		t.Fatal(err)
	}
	if _, st := stream2.call(t, "/mattermost.plugin.PluginAPI/KVGet", marshal(t, &pluginpb.KVGetRequest{Key: "k"})); st.Code() != codes.OK {
		t.Errorf("a call after a cancellation = %v", st)
	}
	select {
	case a := <-answer2:
		t.Errorf("a cancelled call was answered: %v", a)
	case <-time.After(100 * time.Millisecond):
	}
}

// TestCallStreamAnswerLimit: an answer larger than the client accepts
// fails its call alone with RESOURCE_EXHAUSTED, as the client's limit
// fails a unary call.
func TestCallStreamAnswerLimit(t *testing.T) {
	h := start(t, memory.New())
	stream := openCallStream(t, h, testToken, 1<<20)
	api := "/mattermost.plugin.PluginAPI/"
	if _, st := stream.call(t, api+"KVSet", marshal(t, &pluginpb.KVSetRequest{Key: "big", Value: make([]byte, 2<<20)})); st.Code() != codes.OK {
		t.Fatalf("KVSet(2 MiB) = %v", st)
	}
	if _, st := stream.call(t, api+"KVGet", marshal(t, &pluginpb.KVGetRequest{Key: "big"})); st.Code() != codes.ResourceExhausted {
		t.Errorf("KVGet(2 MiB) to a 1 MiB client = %v; want ResourceExhausted", st)
	}
	if _, st := stream.call(t, api+"KVGet", marshal(t, &pluginpb.KVGetRequest{Key: "small"})); st.Code() != codes.OK {
		t.Errorf("KVGet after = %v; want OK", st)
	}
}

// TestCallStreamGracefulStop: a stop waits for the stream's calls in
// flight, answers them, and then ends the stream.
func TestCallStreamGracefulStop(t *testing.T) {
	f := newHoldingBackend()
	h := start(t, f, server.StopTimeout(testTimeout))
	stream := openCallStream(t, h, testToken, 0)
	_, answer := stream.start(t, "/mattermost.plugin.PluginAPI/LogDebug", marshal(t, &pluginpb.LogDebugRequest{Message: "held"}), 0)
	<-f.entered
	stopped := make(chan bool, 1)
	go func() { stopped <- h.srv.GracefulStop() }()
	time.Sleep(200 * time.Millisecond)
	select {
	case <-stopped:
		t.Fatal("GracefulStop returned while a stream call was in flight")
	case <-stream.ended:
		t.Fatalf("the stream ended before its call: %v", stream.err)
	default:
	}
	close(f.release)
	select {
	case a := <-answer:
		if st := answerStatus(a); st.Code() != codes.OK {
			t.Errorf("the held call = %v; want OK", st)
		}
	case <-time.After(testTimeout):
		t.Fatal("the held call was never answered")
	}
	if ok := <-stopped; !ok {
		t.Error("GracefulStop() = false; want true")
	}
	<-stream.ended
	if !errors.Is(stream.err, io.EOF) {
		t.Errorf("the stream ended with %v; want its end (EOF)", stream.err)
	}
}
