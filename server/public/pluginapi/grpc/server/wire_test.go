package server_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding/gzip"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
)

// rawBytes is a request message that is sent exactly as given.
type rawBytes []byte

// rawCodec sends rawBytes unchanged, so that a test can put any bytes on
// the wire; it decodes responses with the proto codec's rules.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.(rawBytes), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	return nil // responses are not read by these tests
}
func (rawCodec) Name() string { return "proto" }

// bytesField returns field num of a message as a length-delimited value.
func bytesField(num protowire.Number, value []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), value)
}

// TestBadRequestBytesAreInvalidArgument: a request that does not parse,
// or whose string, map key or Struct key holds invalid UTF-8, fails with
// INVALID_ARGUMENT and an AppError that a client decodes from the status
// details, on unary calls and on client streams alike.
func TestBadRequestBytesAreInvalidArgument(t *testing.T) {
	h := start(t, memory.New())
	ctx := ctxWithTimeout(t)
	bad := []byte("k\xff")
	// KVGetRequest.key (1).
	badString := bytesField(1, bad)
	// LogInfoRequest.key_value_pairs (2): an entry whose key (1) is bad.
	badMapKey := bytesField(2, append(bytesField(1, bad), bytesField(2, []byte("v"))...))
	// SavePluginConfigRequest.config (1): a Struct whose fields (1) map has
	// an entry with a bad key and the Value {string_value (3): "v"}.
	badStructKey := bytesField(1, bytesField(1, append(bytesField(1, bad), bytesField(2, bytesField(3, []byte("v")))...)))
	tests := []struct {
		name   string
		method string
		body   rawBytes
		want   string // part of the AppError's details
	}{
		{"garbage", "KVGet", rawBytes{0xff, 0xff, 0xff, 0xff}, "not a valid mattermost.plugin.KVGetRequest"},
		{"truncated", "KVGet", rawBytes{0x0a, 0x10, 'k'}, "not a valid mattermost.plugin.KVGetRequest"},
		{"invalid UTF-8 in a string", "KVGet", badString, "invalid UTF-8"},
		{"invalid UTF-8 in a map key", "LogInfo", badMapKey, "invalid UTF-8"},
		{"invalid UTF-8 in a Struct key", "SavePluginConfig", badStructKey, "invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := h.conn.Invoke(ctx, "/mattermost.plugin.PluginAPI/"+tt.method, tt.body, new(rawBytes),
				grpc.ForceCodec(rawCodec{}), auth.PerRPCCredentials(testToken))
			checkInvalidParam(t, err, tt.method, "request", tt.want)
		})
	}
	for _, service := range []string{"grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"} {
		t.Run("garbage to "+service, func(t *testing.T) {
			desc := &grpc.StreamDesc{StreamName: "ServerReflectionInfo", ClientStreams: true, ServerStreams: true}
			stream, err := h.conn.NewStream(ctx, desc, "/"+service+"/ServerReflectionInfo",
				grpc.ForceCodec(rawCodec{}), auth.PerRPCCredentials(testToken))
			if err != nil {
				t.Fatal(err)
			}
			_ = stream.SendMsg(rawBytes{0xff, 0xff, 0xff}) // the server may answer first
			checkInvalidParam(t, stream.RecvMsg(new(rawBytes)), "ServerReflectionInfo", "request", "not a valid "+strings.TrimSuffix(service, "ServerReflection")+"ServerReflectionRequest")
		})
	}
	t.Run("invalid UTF-8 in a client stream", func(t *testing.T) {
		// UploadFileRequest.head (1) whose filename (2) is bad.
		body := rawBytes(bytesField(1, bytesField(2, bad)))
		desc := &grpc.StreamDesc{StreamName: "UploadFile", ClientStreams: true}
		stream, err := h.conn.NewStream(ctx, desc, "/mattermost.plugin.PluginAPI/UploadFile",
			grpc.ForceCodec(rawCodec{}), auth.PerRPCCredentials(testToken))
		if err != nil {
			t.Fatal(err)
		}
		_ = stream.SendMsg(body) // the server may answer first
		_ = stream.CloseSend()
		checkInvalidParam(t, stream.RecvMsg(new(rawBytes)), "UploadFile", "request", "invalid UTF-8")
	})
}

// checkInvalidParam fails t unless err is INVALID_ARGUMENT carrying the
// AppError of an invalid request part name in method, whose details
// contain want.
func checkInvalidParam(t *testing.T, err error, method, name, want string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("%s = %v; want InvalidArgument", method, err)
	}
	appErr, ok := apperror.FromStatus(st)
	if !ok {
		t.Fatalf("%s = %v; want an AppError in the status details", method, err)
	}
	if appErr.ID != apperror.InvalidParamID || appErr.StatusCode != http.StatusBadRequest ||
		appErr.Where != method || appErr.Params["Name"] != name || !strings.Contains(appErr.DetailedError, want) {
		t.Errorf("%s: AppError %+v; want %s, 400, where %s, Name %q, details containing %q",
			method, *appErr, apperror.InvalidParamID, method, name, want)
	}
	if st.Message() != appErr.Message {
		t.Errorf("%s: status message %q; want the AppError's %q", method, st.Message(), appErr.Message)
	}
}

func TestTokenIsCheckedBeforeTheMessage(t *testing.T) {
	h := start(t, memory.New())
	err := h.conn.Invoke(ctxWithTimeout(t), "/mattermost.plugin.PluginAPI/KVGet", rawBytes{0xff, 0xff}, new(rawBytes),
		grpc.ForceCodec(rawCodec{}))
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("KVGet(garbage, no token) = %v; want Unauthenticated", err)
	}
}

func TestGzipRequests(t *testing.T) {
	h := start(t, memory.New())
	client := pluginpb.NewPluginAPIClient(h.conn)
	ctx := ctxWithTimeout(t)
	value := bytes.Repeat([]byte("compressible "), 10000)
	_, err := client.KVSet(ctx, &pluginpb.KVSetRequest{Key: "k", Value: value},
		grpc.UseCompressor(gzip.Name), auth.PerRPCCredentials(testToken))
	if err != nil {
		t.Fatalf("KVSet with gzip = %v", err)
	}
	got, err := client.KVGet(ctx, &pluginpb.KVGetRequest{Key: "k"}, grpc.UseCompressor(gzip.Name), auth.PerRPCCredentials(testToken))
	if err != nil || !bytes.Equal(got.GetValue(), value) {
		t.Fatalf("KVGet with gzip = %d bytes, %v; want the value back", len(got.GetValue()), err)
	}
}

// TestErrorsNameTheMethod checks that the server fills AppError.where.
func TestErrorsNameTheMethod(t *testing.T) {
	h := start(t, memory.New())
	client := pluginpb.NewPluginAPIClient(h.conn)
	_, err := client.GetUser(ctxWithTimeout(t), &pluginpb.GetUserRequest{UserId: strings.Repeat("a", 26)}, auth.PerRPCCredentials(testToken))
	appErr, ok := apperror.FromStatus(status.Convert(err))
	if !ok || appErr.Where != "GetUser" {
		t.Fatalf("GetUser(unknown) = %v; want an AppError with where GetUser", err)
	}
}

// rawConn is a hand-driven HTTP/2 client connection, for what a gRPC
// client library will not do: stall, flood and ping too often.
type rawConn struct {
	t  *testing.T
	c  net.Conn
	fr *http2.Framer
	mu sync.Mutex

	flow    sync.Cond
	connWin int64
	window  map[uint32]int64
	closed  map[uint32]bool
	goAways []*http2.GoAwayFrame
	done    bool
}

func dialRaw(t *testing.T, target string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", strings.TrimPrefix(target, "unix://"))
	if err != nil {
		t.Fatalf("dial %s: %v", target, err)
	}
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	r := &rawConn{t: t, c: c, fr: http2.NewFramer(c, c), connWin: 65535, window: map[uint32]int64{}, closed: map[uint32]bool{}}
	r.flow.L = &r.mu
	if err := r.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	go r.read()
	t.Cleanup(func() { c.Close() })
	return r
}

// read handles the server's frames: flow control, resets and GOAWAYs.
func (r *rawConn) read() {
	defer func() {
		r.mu.Lock()
		r.done = true
		r.flow.Broadcast()
		r.mu.Unlock()
	}()
	for {
		f, err := r.fr.ReadFrame()
		if err != nil {
			return
		}
		r.mu.Lock()
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				r.fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				r.fr.WritePing(true, f.Data)
			}
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				r.connWin += int64(f.Increment)
			} else {
				r.window[f.StreamID] += int64(f.Increment)
			}
		case *http2.RSTStreamFrame:
			r.closed[f.StreamID] = true
		case *http2.HeadersFrame:
			if f.StreamEnded() {
				r.closed[f.StreamID] = true
			}
		case *http2.GoAwayFrame:
			r.goAways = append(r.goAways, f)
		}
		r.flow.Broadcast()
		r.mu.Unlock()
	}
}

// openCall sends the headers of a call to method, with md as metadata.
func (r *rawConn) openCall(id uint32, method string, md ...string) {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := []string{":method", "POST", ":scheme", "http", ":path", method, ":authority", "localhost",
		"content-type", "application/grpc", "te", "trailers"}
	for i := 0; i+1 < len(fields); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	for i := 0; i+1 < len(md); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: md[i], Value: md[i+1]})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.window[id] += 65535
	if err := r.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
		r.t.Fatal(err)
	}
}

// send writes n bytes of the stream's body as flow control allows, until
// the deadline, a reset or the connection's end; it returns what it sent.
func (r *rawConn) send(id uint32, body []byte, deadline time.Time) int {
	sent := 0
	timer := time.AfterFunc(time.Until(deadline), func() {
		r.mu.Lock()
		r.flow.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for sent < len(body) {
		for !r.done && !r.closed[id] && time.Now().Before(deadline) && (r.connWin <= 0 || r.window[id] <= 0) {
			r.flow.Wait()
		}
		if r.done || r.closed[id] || !time.Now().Before(deadline) {
			return sent
		}
		k := int(min(int64(len(body)-sent), r.connWin, r.window[id], 16384))
		if err := r.fr.WriteData(id, false, body[sent:sent+k]); err != nil {
			return sent
		}
		r.connWin -= int64(k)
		r.window[id] -= int64(k)
		sent += k
	}
	return sent
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestTokenlessStreamsHoldNoMemory is the buffering-before-auth attack:
// four tokenless calls each announce a 60 MiB message and push as much of
// it as flow control allows, then stall. The server must refuse them at
// their headers instead of buffering what they send.
func TestTokenlessStreamsHoldNoMemory(t *testing.T) {
	h := start(t, memory.New())
	before := heapInUse()
	r := dialRaw(t, h.lis.Target)
	const streams, claimed, pushed = 4, 60 << 20, 24 << 20
	body := make([]byte, pushed)
	binary.BigEndian.PutUint32(body[1:5], claimed)
	var total int
	var wg sync.WaitGroup
	var mu sync.Mutex
	deadline := time.Now().Add(5 * time.Second)
	for i := range streams {
		id := uint32(2*i + 1)
		r.openCall(id, "/mattermost.plugin.PluginAPI/KVSet")
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := r.send(id, body, deadline)
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	held := int64(heapInUse()) - int64(before)
	t.Logf("pushed %d bytes over %d tokenless calls; server heap grew by %d bytes", total, streams, held)
	if held > 16<<20 {
		t.Errorf("the server holds %d MiB for tokenless calls; want under 16 MiB", held>>20)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range streams {
		if id := uint32(2*i + 1); !r.closed[id] {
			t.Errorf("stream %d is still open; want it refused at its headers", id)
		}
	}
}

// TestGoAwayIsLogged pings faster than the keepalive policy allows and
// checks that the server's GOAWAY shows in its log.
func TestGoAwayIsLogged(t *testing.T) {
	h := start(t, memory.New())
	r := dialRaw(t, h.lis.Target)
	for i := range 5 {
		r.mu.Lock()
		r.fr.WritePing(false, [8]byte{byte(i)})
		r.mu.Unlock()
	}
	ctx := ctxWithTimeout(t)
	for {
		r.mu.Lock()
		n := len(r.goAways)
		r.mu.Unlock()
		if n > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no GOAWAY for a ping flood")
		case <-time.After(10 * time.Millisecond):
		}
	}
	waitForLog(t, h, "too_many_pings")
	if log := h.logString(); !strings.Contains(log, "sent GOAWAY") || !strings.Contains(log, "ENHANCE_YOUR_CALM") {
		t.Errorf("log = %q; want the GOAWAY with ENHANCE_YOUR_CALM", log)
	}
}

func waitForLog(t *testing.T, h *harness, text string) {
	t.Helper()
	ctx := ctxWithTimeout(t)
	for !strings.Contains(h.logString(), text) {
		select {
		case <-ctx.Done():
			t.Fatalf("log never had %q; log = %q", text, h.logString())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestReflectionNeedsTheToken lists the services as grpcurl does, with and
// without the token.
func TestReflectionNeedsTheToken(t *testing.T) {
	h := start(t, memory.New())
	list := func(opts ...grpc.CallOption) ([]string, error) {
		stream, err := reflectionpb.NewServerReflectionClient(h.conn).ServerReflectionInfo(ctxWithTimeout(t), opts...)
		if err != nil {
			return nil, err
		}
		req := &reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}
		// A refused stream may fail Send with io.EOF; Recv has the status.
		_ = stream.Send(req)
		resp, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		var names []string
		for _, s := range resp.GetListServicesResponse().GetService() {
			names = append(names, s.GetName())
		}
		return names, nil
	}
	if _, err := list(); status.Code(err) != codes.Unauthenticated {
		t.Errorf("reflection without a token = %v; want Unauthenticated", err)
	}
	names, err := list(auth.PerRPCCredentials(testToken))
	if err != nil || !slices.Contains(names, "mattermost.plugin.PluginAPI") {
		t.Errorf("reflection services = %v, %v; want mattermost.plugin.PluginAPI among them", names, err)
	}
}

// TestStalledTokenlessConnectionIsClosed opens a connection whose only
// call is refused for its missing token, then stalls: the server closes it
// once the idle limit passes, however often the client retries.
func TestStalledTokenlessConnectionIsClosed(t *testing.T) {
	h := start(t, memory.New(), server.MaxConnectionIdle(200*time.Millisecond))
	r := dialRaw(t, h.lis.Target)
	for i := range 3 {
		r.openCall(uint32(2*i+1), "/mattermost.plugin.PluginAPI/GetServerVersion")
		time.Sleep(100 * time.Millisecond)
	}
	ctx := ctxWithTimeout(t)
	for {
		r.mu.Lock()
		n, done := len(r.goAways), r.done
		r.mu.Unlock()
		if n > 0 || done {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the stalled tokenless connection was never closed")
		case <-time.After(10 * time.Millisecond):
		}
	}
	waitForLog(t, h, "max_idle")
}
