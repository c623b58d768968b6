package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
)

// fuzzToken is the token of the fuzzed server, which the seeds carry.
const fuzzToken = "fuzz-token"

// maxFuzzInput bounds the frames of one input; longer inputs are skipped.
const maxFuzzInput = 256 << 10

// fuzzSettle bounds how long the server may take to close a connection
// whose client has stopped writing, and to end that connection's
// goroutines. It is a bound on a wait, not a measure: the server takes
// milliseconds.
const fuzzSettle = 10 * time.Second

// panicCounter is a slog.Handler that counts the handler panics that the
// recovery interceptor logs, which would otherwise look like INTERNAL
// answers.
type panicCounter struct{ n *atomic.Int64 }

func (h panicCounter) Enabled(context.Context, slog.Level) bool { return true }

func (h panicCounter) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		h.n.Add(1)
	}
	return nil
}

func (h panicCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h panicCounter) WithGroup(string) slog.Handler      { return h }

// h2Seed builds the frames of one seed input with a framer.
type h2Seed struct {
	buf bytes.Buffer
	fr  *http2.Framer
}

func newH2Seed() *h2Seed {
	s := &h2Seed{}
	s.fr = http2.NewFramer(&s.buf, nil)
	return s
}

// headers writes a HEADERS frame of a gRPC call to method, with the
// extra header fields given as name, value pairs.
func (s *h2Seed) headers(stream uint32, method string, extra ...string) *h2Seed {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := append([]string{":method", "POST", ":scheme", "http", ":path", method,
		":authority", "localhost", "content-type", "application/grpc", "te", "trailers"}, extra...)
	for i := 0; i+1 < len(fields); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: fields[i], Value: fields[i+1]})
	}
	s.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: block.Bytes(), EndHeaders: true})
	return s
}

// message writes a DATA frame that holds m as one gRPC message.
func (s *h2Seed) message(stream uint32, m proto.Message, end bool) *h2Seed {
	body, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	msg := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(msg[1:], uint32(len(body)))
	s.fr.WriteData(stream, end, append(msg, body...))
	return s
}

func (s *h2Seed) bytes() []byte { return s.buf.Bytes() }

// h2Case is a seed input and the grpc-status that the server answers on
// each of its streams that ends ("" for any status).
type h2Case struct {
	name   string
	frames []byte
	want   map[uint32]string
}

// h2Seeds are valid client conversations: the SETTINGS that follow the
// preface, then calls with and without the token, streams, flow control,
// pings, resets and a GOAWAY.
func h2Seeds() []h2Case {
	bearer := []string{"authorization", "Bearer " + fuzzToken}
	settings := func() *h2Seed {
		s := newH2Seed()
		s.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
		return s
	}
	const api = "/mattermost.plugin.PluginAPI/"
	kv := &pluginpb.KVSetRequest{Key: "k", Value: []byte("v")}
	logLine := &pluginpb.LogInfoRequest{Message: "m", KeyValuePairs: map[string]string{"k": "v"}}
	flow := settings().headers(1, api+"KVGet", bearer...)
	flow.fr.WriteWindowUpdate(0, 1<<16)
	flow.fr.WriteWindowUpdate(1, 1<<16)
	flow.fr.WritePing(false, [8]byte{1})
	flow.fr.WriteSettingsAck()
	flow.fr.WriteRSTStream(1, http2.ErrCodeCancel)
	flow.fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	return []h2Case{
		{"settings", settings().bytes(), nil},
		{"unary call", settings().headers(1, api+"GetServerVersion", bearer...).
			message(1, &pluginpb.GetServerVersionRequest{}, true).bytes(), map[uint32]string{1: "0"}},
		{"write", settings().headers(1, api+"KVSet", bearer...).message(1, kv, true).bytes(), map[uint32]string{1: "0"}},
		{"no token", settings().headers(1, api+"KVSet").message(1, kv, true).bytes(), map[uint32]string{1: "16"}},
		{"health", settings().headers(1, "/grpc.health.v1.Health/Check").
			message(1, &healthpb.HealthCheckRequest{}, true).bytes(), map[uint32]string{1: "0"}},
		{"client stream", settings().headers(1, api+"UploadData", bearer...).
			message(1, &pluginpb.UploadDataRequest{}, false).
			message(1, &pluginpb.UploadDataRequest{}, true).bytes(), map[uint32]string{1: ""}},
		{"open bidi stream", settings().headers(1, api+"PluginHTTP", bearer...).
			message(1, &pluginpb.PluginHTTPRequest{}, false).bytes(), nil},
		{"two streams", settings().headers(1, api+"LogInfo", bearer...).message(1, logLine, true).
			headers(3, api+"GetUser", bearer...).message(3, &pluginpb.GetUserRequest{UserId: "x"}, true).bytes(),
			map[uint32]string{1: "0", 3: ""}},
		{"flow control, ping, reset, goaway", flow.bytes(), nil},
	}
}

// fuzzServer is the real server that the fuzz target feeds.
type fuzzServer struct {
	socket string
	health healthpb.HealthClient
	panics *atomic.Int64
}

func startFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	fs := &fuzzServer{panics: new(atomic.Int64)}
	backend := memory.New(memory.Logger(slog.New(slog.DiscardHandler)))
	srv, err := server.New(backend, fuzzToken, server.Logger(slog.New(panicCounter{fs.panics})))
	if err != nil {
		tb.Fatal(err)
	}
	lis, err := server.ListenUnix("")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(lis)
	tb.Cleanup(func() {
		srv.Stop()
		lis.Close()
	})
	conn, err := grpc.NewClient(lis.Target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	fs.socket = strings.TrimPrefix(lis.Target, "unix://")
	fs.health = healthpb.NewHealthClient(conn)
	fs.check(tb)
	return fs
}

// check fails tb unless the server answers a health check with SERVING.
func (fs *fuzzServer) check(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), fuzzSettle)
	defer cancel()
	resp, err := fs.health.Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		tb.Fatalf("health check = %v, %v; want SERVING", resp, err)
	}
}

// TestHTTP2SeedsAreServed checks the fuzz target's seeds: each is a
// conversation that the server serves, each call answered with its
// grpc-status, so that fuzzing starts from frames that reach the handlers.
func TestHTTP2SeedsAreServed(t *testing.T) {
	fs := startFuzzServer(t)
	for _, seed := range h2Seeds() {
		if seed.want == nil {
			continue
		}
		t.Run(seed.name, func(t *testing.T) {
			c, err := net.Dial("unix", fs.socket)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(append([]byte(http2.ClientPreface), seed.frames...)); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(fuzzSettle))
			fr := http2.NewFramer(nil, c)
			fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
			got := map[uint32]string{}
			for len(got) < len(seed.want) {
				f, err := fr.ReadFrame()
				if err != nil {
					t.Fatalf("after statuses %v: %v", got, err)
				}
				if h, ok := f.(*http2.MetaHeadersFrame); ok && h.StreamEnded() {
					got[h.StreamID] = "none"
					for _, field := range h.Fields {
						if field.Name == "grpc-status" {
							got[h.StreamID] = field.Value
						}
					}
				}
			}
			for id, want := range seed.want {
				if got[id] == "" || (want != "" && got[id] != want) {
					t.Errorf("stream %d: grpc-status %q; want %q (any when empty)", id, got[id], want)
				}
			}
		})
	}
	if n := fs.panics.Load(); n > 0 {
		t.Errorf("the server recovered from %d handler panics", n)
	}
}

// fuzzPing is the payload of the PING that follows an input made of whole
// frames: its ack says that the server has read every frame before it.
var fuzzPing = [8]byte{'f', 'u', 'z', 'z', 'd', 'o', 'n', 'e'}

// wholeFrames reports whether b is a sequence of complete frames, by their
// headers' lengths, so that a frame appended to it is read as one.
func wholeFrames(b []byte) bool {
	for len(b) >= 9 {
		n := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		if len(b) < 9+n {
			return false
		}
		b = b[9+n:]
	}
	return len(b) == 0
}

// FuzzHTTP2Frames feeds raw HTTP/2 frames to the real gRPC server over a
// real connection: the client preface, then the input as it is, then, when
// the input is made of whole frames, a PING whose ack says that the server
// has read them all (and dispatched the calls they carry). Whatever the
// frames, the server must not crash or panic (in its transport or in a
// handler), must close the connection once the client stops writing, must
// end that connection's goroutines, its calls' included, and must still
// answer a health check.
func FuzzHTTP2Frames(f *testing.F) {
	for _, seed := range h2Seeds() {
		f.Add(seed.frames)
	}
	fs := startFuzzServer(f)
	f.Fuzz(func(t *testing.T, frames []byte) {
		if len(frames) > maxFuzzInput {
			t.Skip("input over the bound")
		}
		// The goroutines before the connection (the previous inputs'
		// have ended, or that input failed), and the panics so far.
		before, panics := runtime.NumGoroutine(), fs.panics.Load()
		c, err := net.Dial("unix", fs.socket)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		// Whatever the server answers is read as it comes, so that its
		// writes never wait for this client; acked is closed at the ack
		// of fuzzPing, closed when the server closes the connection.
		acked, closed := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(closed)
			fr := http2.NewFramer(nil, c)
			for {
				f, err := fr.ReadFrame()
				if err != nil {
					break
				}
				if p, ok := f.(*http2.PingFrame); ok && p.IsAck() && p.Data == fuzzPing {
					close(acked)
					break
				}
			}
			_, _ = io.Copy(io.Discard, c)
		}()
		out := append([]byte(http2.ClientPreface), frames...)
		if wholeFrames(frames) {
			var ping bytes.Buffer
			http2.NewFramer(&ping, nil).WritePing(false, fuzzPing)
			out = append(out, ping.Bytes()...)
		} else {
			close(acked)
		}
		// The server may close the connection before it has read
		// everything; a failed write is one of its answers.
		_, _ = c.Write(out)
		select {
		case <-acked:
		case <-closed:
		case <-time.After(fuzzSettle):
			t.Fatalf("the server neither answered a PING nor closed the connection in %v", fuzzSettle)
		}
		_ = c.(*net.UnixConn).CloseWrite()
		select {
		case <-closed:
		case <-time.After(fuzzSettle):
			t.Fatalf("the server kept the connection open %v after the client stopped writing", fuzzSettle)
		}
		// Its calls run on the server's workers as well as on goroutines
		// of their own: none may be left in a handler.
		for deadline := time.Now().Add(fuzzSettle); runtime.NumGoroutine() > before || inHandler(); {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines %v after the connection closed, %d before it, or a call still in its handler:\n%s",
					runtime.NumGoroutine(), fuzzSettle, before, goroutineDump())
			}
			time.Sleep(time.Millisecond)
		}
		if n := fs.panics.Load() - panics; n > 0 {
			t.Fatalf("the server recovered from %d handler panics", n)
		}
		fs.check(t)
	})
}

// inHandler reports whether a goroutine is in a Plugin API handler.
func inHandler() bool {
	return strings.Contains(allStacks(), "._PluginAPI_")
}

// allStacks returns the stacks of every goroutine.
func allStacks() string {
	buf := make([]byte, 64<<10)
	for {
		if n := runtime.Stack(buf, true); n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineDump returns the stacks of every goroutine, the first 64 KiB.
func goroutineDump() string {
	stacks := allStacks()
	return stacks[:min(len(stacks), 64<<10)]
}
