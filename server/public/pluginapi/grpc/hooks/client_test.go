package hooks_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// fakePlugin answers hooks as its fields say; calls counts the hook calls.
type fakePlugin struct {
	pluginpb.UnimplementedPluginHooksServer
	implemented []string
	implErr     error
	post        *pluginpb.Post
	reason      string
	err         error
	delay       time.Duration
	command     *pluginpb.CommandResponse
	calls       atomic.Int32
}

func (f *fakePlugin) Implemented(context.Context, *pluginpb.ImplementedRequest) (*pluginpb.ImplementedResponse, error) {
	return &pluginpb.ImplementedResponse{Hooks: f.implemented}, f.implErr
}

func (f *fakePlugin) answer(ctx context.Context) error {
	f.calls.Add(1)
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return f.err
}

func (f *fakePlugin) MessageWillBePosted(ctx context.Context, _ *pluginpb.MessageWillBePostedRequest) (*pluginpb.MessageWillBePostedResponse, error) {
	if err := f.answer(ctx); err != nil {
		return nil, err
	}
	return &pluginpb.MessageWillBePostedResponse{Post: f.post, RejectionReason: f.reason}, nil
}

func (f *fakePlugin) MessageWillBeUpdated(ctx context.Context, _ *pluginpb.MessageWillBeUpdatedRequest) (*pluginpb.MessageWillBeUpdatedResponse, error) {
	if err := f.answer(ctx); err != nil {
		return nil, err
	}
	return &pluginpb.MessageWillBeUpdatedResponse{Post: f.post, RejectionReason: f.reason}, nil
}

func (f *fakePlugin) NotificationsWillBeSent(ctx context.Context, req *pluginpb.NotificationsWillBeSentRequest) (*pluginpb.NotificationsWillBeSentResponse, error) {
	if err := f.answer(ctx); err != nil {
		return nil, err
	}
	f.post = req.GetPost()
	return &pluginpb.NotificationsWillBeSentResponse{RejectionReason: f.reason}, nil
}

func (f *fakePlugin) ExecuteCommand(ctx context.Context, _ *pluginpb.ExecuteCommandRequest) (*pluginpb.ExecuteCommandResponse, error) {
	if err := f.answer(ctx); err != nil {
		return nil, err
	}
	return &pluginpb.ExecuteCommandResponse{Response: f.command}, nil
}

func (f *fakePlugin) OnActivate(ctx context.Context, _ *pluginpb.OnActivateRequest) (*pluginpb.OnActivateResponse, error) {
	return &pluginpb.OnActivateResponse{}, f.answer(ctx)
}

// serveUnary runs f on a unix socket and returns a connection to it.
func serveUnary(t *testing.T, f *fakePlugin) *grpc.ClientConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hooks.sock")
	lis, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pluginpb.RegisterPluginHooksServer(srv, f)
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

func newClient(t *testing.T, tr transport, f *fakePlugin) *hooks.Client {
	t.Helper()
	c, err := hooks.NewClient(context.Background(), serve(t, tr, f), hooks.WithTimeout(200*time.Millisecond))
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}
	return c
}

func TestMessageWillBePostedFailsOpen(t *testing.T) {
	forTransports(t, testMessageWillBePostedFailsOpen)
}

func testMessageWillBePostedFailsOpen(t *testing.T, tr transport) {
	sent := &pluginpb.Post{Id: "p", Message: "hello"}
	tests := []struct {
		name       string
		plugin     *fakePlugin
		wantPost   *pluginpb.Post
		wantReason string
		wantCalls  int32
	}{
		{"not implemented: no call, the post unchanged", &fakePlugin{}, sent, "", 0},
		{"kept: no post in the answer", &fakePlugin{implemented: []string{"MessageWillBePosted"}}, sent, "", 1},
		{"replaced", &fakePlugin{implemented: []string{"MessageWillBePosted"}, post: &pluginpb.Post{Message: "new"}}, &pluginpb.Post{Message: "new"}, "", 1},
		{"rejected", &fakePlugin{implemented: []string{"MessageWillBePosted"}, reason: "no"}, sent, "no", 1},
		{"failed: the post unchanged", &fakePlugin{implemented: []string{"MessageWillBePosted"}, err: errors.New("boom")}, sent, "", 1},
		{"hung past the deadline: the post unchanged", &fakePlugin{implemented: []string{"MessageWillBePosted"}, delay: time.Minute}, sent, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tr, tc.plugin)
			start := time.Now()
			got, reason := c.MessageWillBePosted(context.Background(), nil, sent)
			if time.Since(start) > 10*time.Second {
				t.Errorf("the call took %v", time.Since(start))
			}
			if !proto.Equal(got, tc.wantPost) || reason != tc.wantReason {
				t.Errorf("MessageWillBePosted = %v, %q; want %v, %q", got, reason, tc.wantPost, tc.wantReason)
			}
			if n := tc.plugin.calls.Load(); n != tc.wantCalls {
				t.Errorf("the plugin got %d calls, want %d", n, tc.wantCalls)
			}
		})
	}
}

// TestMessageWillBeUpdatedReplaces follows upstream's RPC client,
// server/public/plugin/client_rpc.go@020d1e37:hooksRPCClient.MessageWillBeUpdated:
// a plugin without the hook and a failed call both answer the new post
// unchanged (its default returns), so the edit goes through; only a
// plugin's answer without a post rejects it (App.updatePostWithChannel,
// server/channels/app/post.go@004340fa).
func TestMessageWillBeUpdatedReplaces(t *testing.T) {
	forTransports(t, testMessageWillBeUpdatedReplaces)
}

func testMessageWillBeUpdatedReplaces(t *testing.T, tr transport) {
	newPost, oldPost := &pluginpb.Post{Message: "new"}, &pluginpb.Post{Message: "old"}
	tests := []struct {
		name     string
		plugin   *fakePlugin
		wantPost *pluginpb.Post
	}{
		{"not implemented: the edit unchanged", &fakePlugin{}, newPost},
		{"no post in the answer rejects the edit", &fakePlugin{implemented: []string{"MessageWillBeUpdated"}}, nil},
		{"replaced", &fakePlugin{implemented: []string{"MessageWillBeUpdated"}, post: &pluginpb.Post{Message: "x"}}, &pluginpb.Post{Message: "x"}},
		{"failed: the edit unchanged", &fakePlugin{implemented: []string{"MessageWillBeUpdated"}, err: errors.New("boom")}, newPost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := newClient(t, tr, tc.plugin).MessageWillBeUpdated(context.Background(), nil, newPost, oldPost)
			if !proto.Equal(got, tc.wantPost) {
				t.Errorf("MessageWillBeUpdated = %v, want %v", got, tc.wantPost)
			}
		})
	}
}

// TestNotificationsWillBeSentFailsOpen follows upstream's generated RPC
// client, server/public/plugin/client_rpc_generated.go@003e57ac:hooksRPCClient.NotificationsWillBeSent:
// the answer is the plugin's reason, and empty (the notifications go) when
// the plugin lacks the hook or the call fails; the post is sent as given.
func TestNotificationsWillBeSentFailsOpen(t *testing.T) {
	forTransports(t, testNotificationsWillBeSentFailsOpen)
}

func testNotificationsWillBeSentFailsOpen(t *testing.T, tr transport) {
	sent := &pluginpb.Post{Id: "p1", Message: "hi"}
	tests := []struct {
		name       string
		plugin     *fakePlugin
		wantReason string
		wantCalls  int32
	}{
		{"not implemented: no call, allowed", &fakePlugin{}, "", 0},
		{"allowed", &fakePlugin{implemented: []string{"NotificationsWillBeSent"}}, "", 1},
		{"rejected", &fakePlugin{implemented: []string{"NotificationsWillBeSent"}, reason: "quiet"}, "quiet", 1},
		{"failed: allowed", &fakePlugin{implemented: []string{"NotificationsWillBeSent"}, reason: "x", err: errors.New("boom")}, "", 1},
		{"hung past the deadline: allowed", &fakePlugin{implemented: []string{"NotificationsWillBeSent"}, reason: "x", delay: time.Minute}, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := newClient(t, tr, tc.plugin).NotificationsWillBeSent(context.Background(), sent)
			if got != tc.wantReason {
				t.Errorf("NotificationsWillBeSent = %q, want %q", got, tc.wantReason)
			}
			if n := tc.plugin.calls.Load(); n != tc.wantCalls {
				t.Errorf("calls = %d, want %d", n, tc.wantCalls)
			}
			if tc.wantReason != "" && !proto.Equal(tc.plugin.post, sent) {
				t.Errorf("the plugin got %v, want %v", tc.plugin.post, sent)
			}
		})
	}
}

func TestExecuteCommandErrors(t *testing.T) { forTransports(t, testExecuteCommandErrors) }

func testExecuteCommandErrors(t *testing.T, tr transport) {
	appErr := apperror.New("plugin.bad", "bad", "", 0) // an out-of-range status becomes 500
	tests := []struct {
		name       string
		plugin     *fakePlugin
		wantResp   bool
		wantAppErr string
		wantStatus int
		wantCall   bool
	}{
		{"not implemented: nil, nil", &fakePlugin{}, false, "", 0, false},
		{"answered", &fakePlugin{implemented: []string{"ExecuteCommand"}, command: &pluginpb.CommandResponse{Text: "hi"}}, true, "", 0, false},
		{"AppError passed through", &fakePlugin{implemented: []string{"ExecuteCommand"}, err: appErr.GRPCStatus().Err()}, false, "plugin.bad", 500, false},
		{"other failure: a CallError", &fakePlugin{implemented: []string{"ExecuteCommand"}, err: status.Error(codes.Internal, "garbage")}, false, "", 0, true},
		{"hang: a CallError", &fakePlugin{implemented: []string{"ExecuteCommand"}, delay: time.Minute}, false, "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := newClient(t, tr, tc.plugin).ExecuteCommand(context.Background(), nil, &pluginpb.CommandArgs{Command: "/x"})
			if (resp != nil) != tc.wantResp {
				t.Errorf("response = %v", resp)
			}
			var ae *apperror.Error
			if tc.wantAppErr != "" && (!errors.As(err, &ae) || ae.ID != tc.wantAppErr || ae.StatusCode != tc.wantStatus) {
				t.Errorf("error = %v, want AppError %s (%d)", err, tc.wantAppErr, tc.wantStatus)
			}
			var ce *hooks.CallError
			if errors.As(err, &ce) != tc.wantCall {
				t.Errorf("error = %v; CallError wanted: %v", err, tc.wantCall)
			}
			if tc.wantAppErr == "" && !tc.wantCall && err != nil {
				t.Errorf("error = %v, want none", err)
			}
		})
	}
}

func TestNewClient(t *testing.T) { forTransports(t, testNewClient) }

func testNewClient(t *testing.T, tr transport) {
	if _, err := hooks.NewClient(context.Background(), serve(t, tr, &fakePlugin{implErr: errors.New("no")})); err == nil {
		t.Error("NewClient() succeeded though Implemented failed")
	}
	c := newClient(t, tr, &fakePlugin{implemented: []string{"OnActivate", "NoSuchHook", "MessageWillBePosted"}})
	if got := c.Implemented(); len(got) != 2 || got[0] != "MessageWillBePosted" || got[1] != "OnActivate" {
		t.Errorf("Implemented() = %v; unknown names must be dropped", got)
	}
	if !c.Has("OnActivate") || c.Has("NoSuchHook") {
		t.Error("Has() disagrees with Implemented()")
	}
}

func TestOnActivate(t *testing.T) { forTransports(t, testOnActivate) }

func testOnActivate(t *testing.T, tr transport) {
	appErr := apperror.New("plugin.activate", "cannot start", "", 500)
	tests := []struct {
		name    string
		plugin  *fakePlugin
		wantErr bool
	}{
		{"not implemented", &fakePlugin{}, false},
		{"succeeds", &fakePlugin{implemented: []string{"OnActivate"}}, false},
		{"fails with an AppError", &fakePlugin{implemented: []string{"OnActivate"}, err: appErr.GRPCStatus().Err()}, true},
		{"fails otherwise", &fakePlugin{implemented: []string{"OnActivate"}, err: errors.New("boom")}, true},
		{"hangs past the deadline", &fakePlugin{implemented: []string{"OnActivate"}, delay: time.Minute}, true},
		{"cannot be called: only logged", &fakePlugin{implemented: []string{"OnActivate"}, err: status.Error(codes.Unavailable, "gone")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := newClient(t, tr, tc.plugin).OnActivate(context.Background()); (err != nil) != tc.wantErr {
				t.Errorf("OnActivate() = %v, want an error: %v", err, tc.wantErr)
			}
		})
	}
}

func TestServeHTTPWithoutTheHook(t *testing.T) { forTransports(t, testServeHTTPWithoutTheHook) }

func testServeHTTPWithoutTheHook(t *testing.T, tr transport) {
	for name, h := range map[string]hooks.Hooks{
		"a plugin without ServeHTTP": newClient(t, tr, &fakePlugin{}),
		"no plugin":                  hooks.None{},
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(nil, w, httptest.NewRequest("GET", "/x", nil))
			if w.Code != http.StatusNotFound {
				t.Errorf("ServeHTTP = %d, want 404 from the host", w.Code)
			}
		})
	}
}

// ServeHTTP answers 200 "ok" at once, without reading the request body.
func (f *fakePlugin) ServeHTTP(stream pluginpb.PluginHooks_ServeHTTPServer) error {
	f.calls.Add(1)
	if _, err := stream.Recv(); err != nil { // the head
		return err
	}
	if err := stream.Send(&pluginpb.ServeHTTPResponse{Part: &pluginpb.ServeHTTPResponse_Head{Head: &pluginpb.HTTPResponseHead{StatusCode: 200}}}); err != nil {
		return err
	}
	return stream.Send(&pluginpb.ServeHTTPResponse{Part: &pluginpb.ServeHTTPResponse_Chunk{Chunk: []byte("ok")}})
}

// TestServeHTTPKeepsTheConnectionUsable sends many requests over one
// kept-alive connection, with and without bodies the plugin never reads:
// every one must reach the plugin. Unblocking the body's reader with a
// past read deadline once its body was read to the end canceled the
// connection's context, and every later request on it failed at once.
func TestServeHTTPKeepsTheConnectionUsable(t *testing.T) {
	forTransports(t, testServeHTTPKeepsTheConnectionUsable)
}

func testServeHTTPKeepsTheConnectionUsable(t *testing.T, tr transport) {
	c := newClient(t, tr, &fakePlugin{implemented: []string{"ServeHTTP"}})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.ServeHTTP(&pluginpb.Context{}, w, r)
	}))
	defer front.Close()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	for i := range 300 {
		var resp *http.Response
		var err error
		if i%2 == 0 {
			resp, err = client.Get(front.URL + "/get")
		} else {
			resp, err = client.Post(front.URL+"/post", "text/plain", strings.NewReader("a small body"))
		}
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("request %d = %d %q, want 200 \"ok\"", i, resp.StatusCode, body)
		}
	}
}

// TestServeHTTPDoesNotWaitForAStalledBody answers a request whose client
// sent part of its body and then stalled: the plugin answered without the
// body, and the host must not wait for the rest.
func TestServeHTTPDoesNotWaitForAStalledBody(t *testing.T) {
	forTransports(t, testServeHTTPDoesNotWaitForAStalledBody)
}

func testServeHTTPDoesNotWaitForAStalledBody(t *testing.T, tr transport) {
	c := newClient(t, tr, &fakePlugin{implemented: []string{"ServeHTTP"}})
	returned := make(chan struct{}, 1)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.ServeHTTP(&pluginpb.Context{}, w, r)
		returned <- struct{}{}
	}))
	defer front.Close()
	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// 1 MiB announced, 10 bytes sent, and nothing more.
	if _, err := io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n0123456789"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("ServeHTTP still waits for the stalled body after 10 s")
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, _ := io.ReadAll(io.LimitReader(conn, 4096))
	if !strings.HasPrefix(string(reply), "HTTP/1.1 200 OK") || !strings.Contains(string(reply), "ok") {
		t.Errorf("reply = %q, want 200 and the plugin's body", reply)
	}
}
