package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
)

const (
	testToken   = "test-token"
	testTimeout = 10 * time.Second
)

// faulty wraps the memory backend and misbehaves on request.
type faulty struct {
	*memory.Backend
	entered chan struct{}
	release chan struct{}
}

func (f *faulty) GetServerVersion(ctx context.Context, req *pluginpb.GetServerVersionRequest) (*pluginpb.GetServerVersionResponse, error) {
	return nil, errors.New("plain failure")
}

func (f *faulty) KVDeleteAll(ctx context.Context, req *pluginpb.KVDeleteAllRequest) (*pluginpb.KVDeleteAllResponse, error) {
	panic("handler bug")
}

func (f *faulty) LogDebug(ctx context.Context, req *pluginpb.LogDebugRequest) (*pluginpb.LogDebugResponse, error) {
	close(f.entered)
	select {
	case <-f.release:
		return &pluginpb.LogDebugResponse{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type harness struct {
	srv    *server.Server
	lis    *server.Listener
	conn   *grpc.ClientConn
	logs   *syncBuffer
	served chan error
}

// syncBuffer is a bytes.Buffer that the server and a test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (h *harness) logString() string { return h.logs.String() }

func start(t *testing.T, impl pluginpb.PluginAPIServer, opts ...server.Option) *harness {
	t.Helper()
	logs := &syncBuffer{}
	opts = append([]server.Option{server.Logger(slog.New(slog.NewTextHandler(logs, nil)))}, opts...)
	srv, err := server.New(impl, testToken, opts...)
	if err != nil {
		t.Fatalf("server.New() = %v", err)
	}
	lis, err := server.ListenUnix("")
	if err != nil {
		t.Fatalf("ListenUnix() = %v", err)
	}
	h := &harness{srv: srv, lis: lis, logs: logs, served: make(chan error, 1)}
	go func() { h.served <- srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatalf("grpc.NewClient(%q) = %v", lis.Target, err)
	}
	h.conn = conn
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		lis.Close()
	})
	return h
}

func ctxWithTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestAuthentication(t *testing.T) {
	h := start(t, memory.New())
	client := pluginpb.NewPluginAPIClient(h.conn)
	ctx := ctxWithTimeout(t)
	tests := []struct {
		name string
		opts []grpc.CallOption
		want codes.Code
	}{
		{"no token", nil, codes.Unauthenticated},
		{"wrong token", []grpc.CallOption{auth.PerRPCCredentials("nope")}, codes.Unauthenticated},
		{"right token", []grpc.CallOption{auth.PerRPCCredentials(testToken)}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.GetServerVersion(ctx, &pluginpb.GetServerVersionRequest{}, tt.opts...)
			if got := status.Code(err); got != tt.want {
				t.Errorf("GetServerVersion() = %v; want %v", err, tt.want)
			}
			// The health service answers with or without a token: probes
			// such as grpc-health-probe cannot send one.
			if _, err := healthpb.NewHealthClient(h.conn).Check(ctx, &healthpb.HealthCheckRequest{}, tt.opts...); err != nil {
				t.Errorf("Health.Check() = %v; want SERVING", err)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	h := start(t, memory.New())
	ctx := ctxWithTimeout(t)
	hc := healthpb.NewHealthClient(h.conn)
	for _, name := range []string{"", server.ServiceName} {
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: name}, auth.PerRPCCredentials(testToken))
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("Check(%q) = %v, %v; want SERVING", name, resp.GetStatus(), err)
		}
	}
	_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}, auth.PerRPCCredentials(testToken))
	if status.Code(err) != codes.NotFound {
		t.Errorf("Check(nope) = %v; want NotFound", err)
	}
}

func TestErrorMapping(t *testing.T) {
	h := start(t, &faulty{Backend: memory.New()})
	client := pluginpb.NewPluginAPIClient(h.conn)
	ctx := ctxWithTimeout(t)
	creds := auth.PerRPCCredentials(testToken)

	// An AppError keeps every field through the wire.
	_, err := client.GetUser(ctx, &pluginpb.GetUserRequest{UserId: strings.Repeat("a", 26)}, creds)
	st := status.Convert(err)
	if st.Code() != codes.NotFound {
		t.Fatalf("GetUser(unknown) = %v; want NotFound", err)
	}
	appErr, ok := apperror.FromStatus(st)
	if !ok || appErr.ID != "app.user.missing_account.const" || appErr.StatusCode != http.StatusNotFound || appErr.Where != "GetUser" {
		t.Errorf("GetUser(unknown) AppError = %+v, %v; want the missing-account error", appErr, ok)
	}

	// A plain error becomes Unknown with its text.
	_, err = client.GetServerVersion(ctx, &pluginpb.GetServerVersionRequest{}, creds)
	if st := status.Convert(err); st.Code() != codes.Unknown || st.Message() != "plain failure" {
		t.Errorf("GetServerVersion() = %v; want Unknown \"plain failure\"", err)
	}
}

func TestPanicRecovery(t *testing.T) {
	h := start(t, &faulty{Backend: memory.New()})
	client := pluginpb.NewPluginAPIClient(h.conn)
	ctx := ctxWithTimeout(t)
	creds := auth.PerRPCCredentials(testToken)
	for i := range 3 {
		_, err := client.KVDeleteAll(ctx, &pluginpb.KVDeleteAllRequest{}, creds)
		if status.Code(err) != codes.Internal {
			t.Fatalf("KVDeleteAll() #%d = %v; want Internal", i, err)
		}
	}
	if !strings.Contains(h.logs.String(), "handler bug") {
		t.Errorf("log = %q; want the panic value", h.logs.String())
	}
	// The server still serves.
	if _, err := client.KVSet(ctx, &pluginpb.KVSetRequest{Key: "k", Value: []byte("v")}, creds); err != nil {
		t.Errorf("KVSet() after panics = %v; want nil", err)
	}
}

func TestMessageSize(t *testing.T) {
	h := start(t, memory.New())
	client := pluginpb.NewPluginAPIClient(h.conn)
	ctx := ctxWithTimeout(t)
	creds := auth.PerRPCCredentials(testToken)

	big := bytes.Repeat([]byte{0xab}, 20<<20)
	if _, err := client.KVSet(ctx, &pluginpb.KVSetRequest{Key: "big", Value: big}, creds); err != nil {
		t.Fatalf("KVSet(20 MiB) = %v", err)
	}
	resp, err := client.KVGet(ctx, &pluginpb.KVGetRequest{Key: "big"}, creds)
	if err != nil || !bytes.Equal(resp.GetValue(), big) {
		t.Fatalf("KVGet(20 MiB) = %d bytes, %v; want the value back", len(resp.GetValue()), err)
	}

	small := start(t, memory.New(), server.MaxMessageSize(1<<20))
	_, err = pluginpb.NewPluginAPIClient(small.conn).KVSet(ctx, &pluginpb.KVSetRequest{Key: "big", Value: big[:2<<20]}, creds)
	if status.Code(err) != codes.ResourceExhausted {
		t.Errorf("KVSet(2 MiB) over a 1 MiB limit = %v; want ResourceExhausted", err)
	}
}

// blockedCall starts a LogDebug call that the faulty backend holds until
// f.release is closed, waits until it is on the server, and returns the
// channel that receives its result.
func blockedCall(t *testing.T, h *harness, f *faulty) <-chan error {
	t.Helper()
	ctx := ctxWithTimeout(t)
	inflight := make(chan error, 1)
	go func() {
		_, err := pluginpb.NewPluginAPIClient(h.conn).LogDebug(ctx,
			&pluginpb.LogDebugRequest{Message: "held"}, auth.PerRPCCredentials(testToken))
		inflight <- err
	}()
	select {
	case <-f.entered:
	case <-ctx.Done():
		t.Fatal("the call never reached the handler")
	}
	return inflight
}

func newHoldingBackend() *faulty {
	return &faulty{Backend: memory.New(), entered: make(chan struct{}), release: make(chan struct{})}
}

func TestGracefulStop(t *testing.T) {
	f := newHoldingBackend()
	h := start(t, f, server.StopTimeout(testTimeout))
	inflight := blockedCall(t, h, f)
	stopped := make(chan bool, 1)
	go func() { stopped <- h.srv.GracefulStop() }()
	time.Sleep(100 * time.Millisecond)
	select {
	case <-stopped:
		t.Fatal("GracefulStop returned while a call was in flight")
	default:
	}
	close(f.release)
	if err := <-inflight; err != nil {
		t.Errorf("in-flight call = %v; want it to finish", err)
	}
	if ok := <-stopped; !ok {
		t.Errorf("GracefulStop() = false; want true")
	}
	if err := <-h.served; err != nil {
		t.Errorf("Serve() = %v; want nil after a stop", err)
	}
}

// TestGracefulStopUnderTraffic stops the server while four clients call
// it without pause and an upload is in flight: new calls must be refused
// early (UNAVAILABLE), not served until the stop timeout, while the upload,
// which sends the rest of its data only once they are, must finish, and the
// stop must then return true, before its timeout.
func TestGracefulStopUnderTraffic(t *testing.T) {
	const stopTimeout = 30 * time.Second
	dir := t.TempDir()
	h := start(t, memory.New(memory.FileDir(dir)), server.StopTimeout(stopTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), 2*stopTimeout)
	defer cancel()
	client := pluginpb.NewPluginAPIClient(h.conn)
	creds := auth.PerRPCCredentials(testToken)
	town := townSquare(t, client)

	// The upload: its head and a first chunk, on disk before the stop.
	up, err := client.UploadFile(ctx, creds)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("u"), 1<<20)
	if err := up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Head{Head: &pluginpb.UploadFileHead{ChannelId: town, Filename: "slow.bin"}}}); err != nil {
		t.Fatal(err)
	}
	if err := up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Chunk{Chunk: chunk}}); err != nil {
		t.Fatal(err)
	}
	for filesIn(t, dir) == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the upload never reached the store")
		case <-time.After(time.Millisecond):
		}
	}

	// Steady traffic: four callers, each calling until a call fails.
	const callers = 4
	var served, servedWhileStopping atomic.Int64
	var stopping atomic.Bool
	refused := make(chan struct{})
	var refuseOnce sync.Once
	failures := make(chan error, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for {
				if _, err := client.GetServerVersion(ctx, &pluginpb.GetServerVersionRequest{}, creds); err != nil {
					failures <- err
					refuseOnce.Do(func() { close(refused) })
					return
				}
				served.Add(1)
				if stopping.Load() {
					servedWhileStopping.Add(1)
				}
			}
		})
	}
	for served.Load() < 100 {
		select {
		case <-ctx.Done():
			t.Fatal("the callers never got going")
		case <-time.After(time.Millisecond):
		}
	}

	stopping.Store(true)
	stopped := make(chan bool, 1)
	go func() { stopped <- h.srv.GracefulStop() }()
	select {
	case <-refused:
	case ok := <-stopped:
		t.Fatalf("GracefulStop() = %v with new calls still served and an upload in flight", ok)
	}
	select {
	case ok := <-stopped:
		t.Fatalf("GracefulStop() = %v while an upload was in flight", ok)
	default:
	}
	for range 3 {
		if err := up.Send(&pluginpb.UploadFileRequest{Part: &pluginpb.UploadFileRequest_Chunk{Chunk: chunk}}); err != nil {
			break // CloseAndRecv reports why
		}
	}
	resp, err := up.CloseAndRecv()
	if err != nil || resp.GetFileInfo().GetSize() != 4<<20 {
		t.Errorf("upload in flight across the stop = %v, %d bytes; want OK, %d bytes", err, resp.GetFileInfo().GetSize(), 4<<20)
	}
	if ok := <-stopped; !ok {
		t.Errorf("GracefulStop() = false; want true once the upload was done, before the %v timeout", stopTimeout)
	}
	wg.Wait()
	close(failures)
	for err := range failures {
		if status.Code(err) != codes.Unavailable {
			t.Errorf("a call after the stop = %v; want Unavailable", err)
		}
	}
	t.Logf("%d calls served after the stop began", servedWhileStopping.Load())
}

func TestListenUnixPermissions(t *testing.T) {
	lis, err := server.ListenUnix("")
	if err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(lis.Target, "unix://")
	dir := filepath.Dir(path)
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %o; want %o", p, got, want)
		}
	}
	if err := lis.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("socket dir after Close: %v; want it removed", err)
	}
}

func TestListenUnixPathTooLong(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	if _, err := server.ListenUnix(long); !errors.Is(err, server.ErrSocketPathTooLong) {
		t.Errorf("ListenUnix(%d-byte parent) = %v; want ErrSocketPathTooLong", len(long), err)
	}
	// With no parent, a temporary directory whose path is too long falls
	// back to /tmp, as under Bazel's test sandbox.
	t.Setenv("TMPDIR", long)
	lis, err := server.ListenUnix("")
	if err != nil {
		t.Fatalf("ListenUnix(\"\") with a long TMPDIR = %v; want the /tmp fallback", err)
	}
	defer lis.Close()
	if !strings.HasPrefix(lis.Target, "unix:///tmp/pluginapi-") {
		t.Errorf("Target = %q; want a socket under /tmp", lis.Target)
	}
}

func TestListenTCPLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"0.0.0.0:0", false},
		{"192.168.1.1:0", false},
		{"localhost:0", false}, // names are not resolved; say 127.0.0.1
		{"nonsense", false},
	}
	for _, tt := range tests {
		lis, err := server.ListenTCP(tt.addr)
		if (err == nil) != tt.ok {
			t.Errorf("ListenTCP(%q) = %v; want ok=%v", tt.addr, err, tt.ok)
		}
		if lis != nil {
			lis.Close()
		}
	}
}

func TestGracefulStopTimeout(t *testing.T) {
	f := newHoldingBackend()
	h := start(t, f, server.StopTimeout(200*time.Millisecond))
	inflight := blockedCall(t, h, f)
	if ok := h.srv.GracefulStop(); ok {
		t.Errorf("GracefulStop() = true; want false for a call that never ends")
	}
	if err := <-inflight; err == nil {
		t.Errorf("stuck call = nil; want it cancelled")
	}
}

func TestListenUnixReclaimsDeadServersDirs(t *testing.T) {
	parent := t.TempDir()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(parent, fmt.Sprintf("pluginapi-%d-123", cmd.Process.Pid))
	alive := filepath.Join(parent, fmt.Sprintf("pluginapi-%d-456", os.Getpid()))
	other := filepath.Join(parent, "pluginapi-notapid")
	for _, dir := range []string{dead, alive, other} {
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	lis, err := server.ListenUnix(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead server's dir survived: %v", err)
	}
	for _, dir := range []string{alive, other} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s was removed: %v", dir, err)
		}
	}
	if want := fmt.Sprintf("pluginapi-%d-", os.Getpid()); !strings.Contains(lis.Target, want) {
		t.Errorf("Target = %q; want a directory named %s*", lis.Target, want)
	}
}

// headersSent counts the calls whose request headers a client has sent.
type headersSent struct {
	n atomic.Int64
}

func (*headersSent) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (*headersSent) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (*headersSent) HandleConn(context.Context, stats.ConnStats) {}
func (h *headersSent) HandleRPC(_ context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.OutHeader); ok {
		h.n.Add(1)
	}
}

// TestGracefulStopFinishesStartedCalls stops the server while 50 clients
// are sending 4 MiB each: every call that the client has started on its
// connection must finish and be stored, none half-applied.
func TestGracefulStopFinishesStartedCalls(t *testing.T) {
	backend := memory.New()
	h := start(t, backend, server.StopTimeout(testTimeout))
	sent := &headersSent{}
	conn, err := grpc.NewClient(h.lis.Target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(sent))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pluginpb.NewPluginAPIClient(conn)
	ctx := ctxWithTimeout(t)
	creds := auth.PerRPCCredentials(testToken)
	if _, err := client.GetServerVersion(ctx, &pluginpb.GetServerVersionRequest{}, creds); err != nil {
		t.Fatal(err) // connect first: the calls below share this connection
	}
	const calls = 50
	value := bytes.Repeat([]byte("v"), 4<<20)
	errs := make(chan error, calls)
	for i := range calls {
		go func() {
			_, err := client.KVSet(ctx, &pluginpb.KVSetRequest{Key: fmt.Sprint("k", i), Value: value}, creds)
			errs <- err
		}()
	}
	for sent.n.Load() < calls+1 { // every call has started
		select {
		case <-ctx.Done():
			t.Fatal("the calls never started")
		case <-time.After(time.Millisecond):
		}
	}
	if !h.srv.GracefulStop() {
		t.Error("GracefulStop() = false; want every call finished in time")
	}
	failed := 0
	for range calls {
		if err := <-errs; err != nil {
			failed++
			t.Logf("call failed: %v", err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d started calls failed during a graceful stop; want 0", failed, calls)
	}
	list, err := backend.KVList(ctx, &pluginpb.KVListRequest{PerPage: 100})
	if err != nil || len(list.GetKeys()) != calls-failed {
		t.Errorf("stored %d keys, %v; want %d", len(list.GetKeys()), err, calls-failed)
	}
}

// idEcho answers GetServerVersion with the call's request id, read twice.
type idEcho struct{ *memory.Backend }

func (idEcho) GetServerVersion(ctx context.Context, _ *pluginpb.GetServerVersionRequest) (*pluginpb.GetServerVersionResponse, error) {
	return &pluginpb.GetServerVersionResponse{Version: server.RequestID(ctx) + "," + server.RequestID(ctx)}, nil
}

// TestRequestID: every call has a request id of its own, the same each
// time the call asks for it.
func TestRequestID(t *testing.T) {
	h := start(t, idEcho{memory.New()})
	client := pluginpb.NewPluginAPIClient(h.conn)
	seen := map[string]bool{}
	for range 3 {
		resp, err := client.GetServerVersion(ctxWithTimeout(t), &pluginpb.GetServerVersionRequest{}, auth.PerRPCCredentials(testToken))
		if err != nil {
			t.Fatal(err)
		}
		first, second, _ := strings.Cut(resp.GetVersion(), ",")
		if len(first) != 26 || first != second || seen[first] {
			t.Errorf("request ids %q; want one new 26-character id per call", resp.GetVersion())
		}
		seen[first] = true
	}
	if got := server.RequestID(context.Background()); got != "" {
		t.Errorf("RequestID outside a call = %q; want empty", got)
	}
}

// TestPluginTokens: a call with a plugin's token carries the plugin's id;
// one with the main token carries none; a duplicate token fails New.
func TestPluginTokens(t *testing.T) {
	backend := memory.New(memory.Manifest(&pluginpb.Manifest{Id: "com.example.main"}, &pluginpb.Manifest{Id: "com.example.other"}))
	h := start(t, backend, server.PluginTokens(auth.PluginToken{Token: "other-token", PluginID: "com.example.other"}))
	client := pluginpb.NewPluginAPIClient(h.conn)
	for token, want := range map[string]string{testToken: "com.example.main", "other-token": "com.example.other"} {
		resp, err := client.GetPluginID(ctxWithTimeout(t), &pluginpb.GetPluginIDRequest{}, auth.PerRPCCredentials(token))
		if err != nil || resp.GetId() != want {
			t.Errorf("GetPluginID with %s = %q, %v; want %s", token, resp.GetId(), err, want)
		}
	}
	if _, err := server.New(backend, testToken, server.PluginTokens(auth.PluginToken{Token: testToken, PluginID: "x"})); err == nil {
		t.Error("New accepted a plugin token equal to the main token")
	}
}
