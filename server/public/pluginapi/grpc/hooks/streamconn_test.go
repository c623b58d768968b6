package hooks_test

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// transport is how a test's hooks client reaches its plugin.
type transport struct {
	name string
	// stream sends the unary hook calls on a hook stream (a
	// hooks.StreamConn); otherwise they go on the plugin's connection.
	stream bool
}

var transports = []transport{{"unary", false}, {"stream", true}}

// forTransports runs test once per transport.
func forTransports(t *testing.T, test func(*testing.T, transport)) {
	t.Helper()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { test(t, tr) })
	}
}

// serve runs f and returns the connection of a hooks client to it over tr.
func serve(t *testing.T, tr transport, f *fakePlugin) grpc.ClientConnInterface {
	t.Helper()
	unary := serveUnary(t, f)
	if !tr.stream {
		return unary
	}
	sc := hooks.NewStreamConn(unary, nil)
	p := openStream(t, sc, f)
	t.Cleanup(p.stop)
	return sc
}

// hostStreams is the host's PluginStreams service in these tests: it
// hands every hook stream to conn.
type hostStreams struct {
	pluginpb.UnimplementedPluginStreamsServer
	conn *hooks.StreamConn
	// frames counts the frames the host received.
	frames atomic.Int32
}

func (h *hostStreams) HookStream(stream pluginpb.PluginStreams_HookStreamServer) error {
	if _, err := stream.Recv(); err != nil { // the hello
		return err
	}
	return h.conn.Serve(countingStream{stream, &h.frames})
}

type countingStream struct {
	pluginpb.PluginStreams_HookStreamServer
	n *atomic.Int32
}

func (s countingStream) Recv() (*pluginpb.HookStreamRequest, error) {
	m, err := s.PluginStreams_HookStreamServer.Recv()
	if err == nil {
		s.n.Add(1)
	}
	return m, err
}

// streamPlugin is the plugin's end of a hook stream over real gRPC, in Go:
// it runs each call through the PluginHooks handler of its server, with
// the call's deadline, cancels a call on its cancellation frame, and
// splits answers into pieces of at most piece bytes.
type streamPlugin struct {
	impl   pluginpb.PluginHooksServer
	stream pluginpb.PluginStreams_HookStreamClient
	piece  int
	host   *hostStreams
	cancel context.CancelFunc
	done   chan struct{}

	sendMu sync.Mutex
	mu     sync.Mutex
	calls  map[uint64]context.CancelFunc
	// cancelled counts the handlers whose context a cancellation frame
	// ended.
	cancelled atomic.Int32
}

// openStream serves a host's PluginStreams for sc on a unix socket and
// opens a hook stream to it for impl; it returns once sc has the stream.
func openStream(t *testing.T, sc *hooks.StreamConn, impl pluginpb.PluginHooksServer) *streamPlugin {
	t.Helper()
	path := filepath.Join(t.TempDir(), "api.sock")
	lis, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	host := &hostStreams{conn: sc}
	srv := grpc.NewServer()
	pluginpb.RegisterPluginStreamsServer(srv, host)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := pluginpb.NewPluginStreamsClient(conn).HookStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&pluginpb.HookStreamRequest{Hello: &pluginpb.HookStreamRequest_Hello{StreamId: "s"}}); err != nil {
		t.Fatal(err)
	}
	p := &streamPlugin{impl: impl, stream: stream, piece: 64 << 10, host: host, calls: map[uint64]context.CancelFunc{}, done: make(chan struct{})}
	p.cancel = func() {
		cancel()
		conn.Close()
		srv.Stop()
	}
	go p.run()
	for deadline := time.Now().Add(10 * time.Second); !sc.Open(); {
		if time.Now().After(deadline) {
			t.Fatal("the host did not take the hook stream within 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	return p
}

// stop drops the stream and the host's server, as a crashed plugin does.
func (p *streamPlugin) stop() {
	p.cancel()
	<-p.done
}

func (p *streamPlugin) run() {
	defer close(p.done)
	for {
		frame, err := p.stream.Recv()
		if err != nil {
			return
		}
		p.mu.Lock()
		for _, id := range frame.GetCancels() {
			if cancel, ok := p.calls[id]; ok {
				cancel()
				p.cancelled.Add(1)
			}
		}
		p.mu.Unlock()
		for _, call := range frame.GetCalls() {
			ctx, cancel := context.WithCancel(p.stream.Context())
			if us := call.GetTimeoutMicros(); us > 0 {
				ctx, cancel = context.WithTimeout(p.stream.Context(), time.Duration(us)*time.Microsecond)
			}
			p.mu.Lock()
			p.calls[call.GetId()] = cancel
			p.mu.Unlock()
			go p.handle(ctx, cancel, call)
		}
	}
}

// handle runs one call through impl's PluginHooks handler and answers it.
func (p *streamPlugin) handle(ctx context.Context, cancel context.CancelFunc, call *pluginpb.HookStreamResponse_Call) {
	defer cancel()
	name := call.GetMethod()[strings.LastIndex(call.GetMethod(), "/")+1:]
	var reply any
	err := status.Errorf(codes.Unimplemented, "no method %s", name)
	for _, m := range pluginpb.PluginHooks_ServiceDesc.Methods {
		if m.MethodName == name {
			reply, err = m.Handler(p.impl, ctx, func(v any) error { return proto.Unmarshal(call.GetPayload(), v.(proto.Message)) }, nil)
		}
	}
	p.mu.Lock()
	_, live := p.calls[call.GetId()]
	delete(p.calls, call.GetId())
	p.mu.Unlock()
	if !live || ctx.Err() != nil {
		return // cancelled or past its deadline: the host waits no more
	}
	var answers []*pluginpb.HookStreamRequest_Answer
	if err != nil {
		st := status.Convert(err).Proto()
		data, _ := proto.Marshal(st)
		es := &pluginpb.ErrorStatus{}
		_ = proto.Unmarshal(data, es)
		answers = append(answers, &pluginpb.HookStreamRequest_Answer{Id: call.GetId(), Status: es})
	} else {
		data, _ := proto.Marshal(reply.(proto.Message))
		for len(data) > p.piece {
			answers = append(answers, &pluginpb.HookStreamRequest_Answer{Id: call.GetId(), Payload: data[:p.piece], More: true})
			data = data[p.piece:]
		}
		answers = append(answers, &pluginpb.HookStreamRequest_Answer{Id: call.GetId(), Payload: data})
	}
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	for _, a := range answers {
		_ = p.stream.Send(&pluginpb.HookStreamRequest{Answers: []*pluginpb.HookStreamRequest_Answer{a}})
	}
}

// TestStreamConnAnnouncesTheStream: Implemented goes on the plugin's own
// connection, and its stream id reaches the host.
func TestStreamConnAnnouncesTheStream(t *testing.T) {
	var got string
	impl := &announcingPlugin{fakePlugin: fakePlugin{implemented: []string{"OnActivate"}}, id: "abc"}
	conn := serveUnaryImpl(t, impl)
	sc := hooks.NewStreamConn(conn, func(id string) { got = id })
	if _, err := hooks.NewClient(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	if got != "abc" {
		t.Errorf("announced %q, want %q", got, "abc")
	}
	if sc.Open() {
		t.Error("Open() before any stream")
	}
}

type announcingPlugin struct {
	fakePlugin
	id string
}

func (a *announcingPlugin) Implemented(context.Context, *pluginpb.ImplementedRequest) (*pluginpb.ImplementedResponse, error) {
	return &pluginpb.ImplementedResponse{Hooks: a.implemented, HookStreamId: a.id}, nil
}

func serveUnaryImpl(t *testing.T, impl pluginpb.PluginHooksServer) *grpc.ClientConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hooks.sock")
	lis, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pluginpb.RegisterPluginHooksServer(srv, impl)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
	})
	return conn
}

// splitPlugin counts the calls that reach it on each path.
type splitPlugin struct {
	pluginpb.UnimplementedPluginHooksServer
	started chan struct{}
	// release ends the held calls.
	release  chan struct{}
	answer   *pluginpb.Post
	direct   atomic.Int32
	canceled atomic.Int32
}

func (s *splitPlugin) Implemented(context.Context, *pluginpb.ImplementedRequest) (*pluginpb.ImplementedResponse, error) {
	return &pluginpb.ImplementedResponse{Hooks: []string{"MessageWillBePosted", "OnActivate"}}, nil
}

func (s *splitPlugin) MessageWillBePosted(ctx context.Context, req *pluginpb.MessageWillBePostedRequest) (*pluginpb.MessageWillBePostedResponse, error) {
	if req.GetPost().GetMessage() == "hold" {
		s.started <- struct{}{}
		select {
		case <-s.release:
		case <-ctx.Done():
			s.canceled.Add(1)
			return nil, ctx.Err()
		}
	}
	return &pluginpb.MessageWillBePostedResponse{Post: s.answer}, nil
}

// unaryCounter counts the hook calls that go on the plugin's own
// connection.
type unaryCounter struct {
	grpc.ClientConnInterface
	n atomic.Int32
}

func (u *unaryCounter) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	u.n.Add(1)
	return u.ClientConnInterface.Invoke(ctx, method, args, reply, opts...)
}

// TestStreamConnFaults are the hook stream's fault cases: a cancelled
// call, a call past its deadline, a giant answer, a large request, and a
// stream that drops with a call in flight.
func TestStreamConnFaults(t *testing.T) {
	newSetup := func(t *testing.T) (*splitPlugin, *unaryCounter, *hooks.StreamConn, *streamPlugin) {
		impl := &splitPlugin{started: make(chan struct{}, 64), release: make(chan struct{})}
		unary := &unaryCounter{ClientConnInterface: serveUnaryImpl(t, impl)}
		sc := hooks.NewStreamConn(unary, nil)
		p := openStream(t, sc, impl)
		t.Cleanup(p.stop)
		return impl, unary, sc, p
	}
	post := func(msg string) *pluginpb.MessageWillBePostedRequest {
		return &pluginpb.MessageWillBePostedRequest{Post: &pluginpb.Post{Message: msg}}
	}
	rpc := func(sc grpc.ClientConnInterface) pluginpb.PluginHooksClient { return pluginpb.NewPluginHooksClient(sc) }

	t.Run("a cancelled call cancels the handler", func(t *testing.T) {
		impl, unary, sc, p := newSetup(t)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, err := rpc(sc).MessageWillBePosted(ctx, post("hold")); errc <- err }()
		<-impl.started
		cancel()
		if err := <-errc; status.Code(err) != codes.Canceled {
			t.Errorf("error = %v, want CANCELED", err)
		}
		waitFor(t, func() bool { return impl.canceled.Load() == 1 && p.cancelled.Load() == 1 }, "the handler's cancellation")
		if n := unary.n.Load(); n != 0 {
			t.Errorf("%d calls went unary", n)
		}
	})
	t.Run("a deadline passing ends the handler", func(t *testing.T) {
		impl, _, sc, _ := newSetup(t)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := rpc(sc).MessageWillBePosted(ctx, post("hold"))
		if status.Code(err) != codes.DeadlineExceeded {
			t.Errorf("error = %v, want DEADLINE_EXCEEDED", err)
		}
		waitFor(t, func() bool { return impl.canceled.Load() == 1 }, "the handler's deadline")
	})
	t.Run("a giant answer comes in pieces", func(t *testing.T) {
		impl, unary, sc, p := newSetup(t)
		impl.answer = &pluginpb.Post{Message: strings.Repeat("x", 3<<20)}
		resp, err := rpc(sc).MessageWillBePosted(context.Background(), post("big"))
		if err != nil || len(resp.GetPost().GetMessage()) != 3<<20 {
			t.Fatalf("MessageWillBePosted = %d bytes, %v", len(resp.GetPost().GetMessage()), err)
		}
		if unary.n.Load() != 0 || p.host.frames.Load() < 40 {
			t.Errorf("unary calls %d, frames %d: want the answer in pieces on the stream", unary.n.Load(), p.host.frames.Load())
		}
	})
	t.Run("a large request goes unary", func(t *testing.T) {
		_, unary, sc, _ := newSetup(t)
		if _, err := rpc(sc).MessageWillBePosted(context.Background(), post(strings.Repeat("y", hooks.StreamRequestThreshold))); err != nil {
			t.Fatal(err)
		}
		if n := unary.n.Load(); n != 1 {
			t.Errorf("%d unary calls, want 1", n)
		}
	})
	t.Run("a dropped stream fails its calls and falls back to unary", func(t *testing.T) {
		impl, unary, sc, p := newSetup(t)
		client, err := hooks.NewClient(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		unary.n.Store(0)
		got := make(chan *pluginpb.Post, 1)
		sent := &pluginpb.Post{Message: "hold"}
		impl.answer = &pluginpb.Post{Message: "replaced"}
		go func() { out, _ := client.MessageWillBePosted(context.Background(), nil, sent); got <- out }()
		<-impl.started
		p.stop() // the plugin's end of the stream is gone
		select {
		case out := <-got:
			if !proto.Equal(out, sent) {
				t.Errorf("MessageWillBePosted = %v; a call in flight on a dropped stream fails open", out)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the call in flight did not end with its stream")
		}
		waitFor(t, func() bool { return !sc.Open() }, "the stream's end")
		out, _ := client.MessageWillBePosted(context.Background(), nil, &pluginpb.Post{Message: "after"})
		if out.GetMessage() != "replaced" || unary.n.Load() != 1 {
			t.Errorf("after the drop: %v, %d unary calls; want the plugin's answer through PluginHooks", out, unary.n.Load())
		}
		close(impl.release)
	})
	t.Run("a reopened stream takes the calls again", func(t *testing.T) {
		impl, unary, sc, p := newSetup(t)
		p.stop()
		waitFor(t, func() bool { return !sc.Open() }, "the stream's end")
		p2 := openStream(t, sc, impl)
		defer p2.stop()
		if _, err := rpc(sc).MessageWillBePosted(context.Background(), post("again")); err != nil {
			t.Fatal(err)
		}
		if unary.n.Load() != 0 || p2.host.frames.Load() != 1 {
			t.Errorf("unary calls %d, answers on the new stream %d", unary.n.Load(), p2.host.frames.Load())
		}
	})
	t.Run("calls in flight share frames", func(t *testing.T) {
		_, _, sc, p := newSetup(t)
		var wg sync.WaitGroup
		var failed atomic.Int32
		for range 64 {
			wg.Go(func() {
				for range 20 {
					if _, err := rpc(sc).MessageWillBePosted(context.Background(), post("n")); err != nil {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if failed.Load() != 0 {
			t.Fatalf("%d calls failed", failed.Load())
		}
		if frames := p.host.frames.Load(); frames != 64*20 {
			t.Logf("answer frames: %d for %d calls", frames, 64*20)
		}
	})
}

// TestStreamConnRefusesBadAnswers: an answer that does not parse fails
// its call as a unary call with a garbage response does (INTERNAL), and
// an answer to no call in flight is dropped.
func TestStreamConnRefusesBadAnswers(t *testing.T) {
	unary := serveUnaryImpl(t, &fakePlugin{})
	sc := hooks.NewStreamConn(unary, nil)
	host := &hostStreams{conn: sc}
	path := filepath.Join(t.TempDir(), "api.sock")
	lis, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pluginpb.RegisterPluginStreamsServer(srv, host)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := pluginpb.NewPluginStreamsClient(conn).HookStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Send(&pluginpb.HookStreamRequest{Hello: &pluginpb.HookStreamRequest_Hello{StreamId: "s"}})
	waitFor(t, sc.Open, "the stream")
	go func() {
		frame, err := stream.Recv()
		if err != nil {
			return
		}
		id := frame.GetCalls()[0].GetId()
		_ = stream.Send(&pluginpb.HookStreamRequest{Answers: []*pluginpb.HookStreamRequest_Answer{
			{Id: id + 1000, Payload: []byte("nobody's")},
			{Id: id, Payload: []byte{0xff, 0xff, 0xff}},
		}})
	}()
	_, err = pluginpb.NewPluginHooksClient(sc).MessageWillBePosted(context.Background(), &pluginpb.MessageWillBePostedRequest{})
	if status.Code(err) != codes.Internal {
		t.Errorf("error = %v, want INTERNAL", err)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
