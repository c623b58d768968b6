package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/wire"
)

// devServer is the server run in-process by runContext.
type devServer struct {
	ready wire.Ready
	logs  *testenv.SyncBuffer
	api   pluginpb.PluginAPIClient
	// stop stops the server gracefully and returns runContext's error.
	stop func() error
}

// startServer runs the server with args until the test ends or stop is
// called.
func startServer(t *testing.T, args ...string) *devServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	logs := &testenv.SyncBuffer{}
	done := make(chan error, 1)
	go func() {
		err := runContext(ctx, args, w, logs)
		w.Close()
		done <- err
	}()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no ready line: %v; run() = %v\nlog:\n%s", err, <-done, logs)
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	var ready wire.Ready
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		cancel()
		t.Fatalf("ready line %q: %v", line, err)
	}
	conn, err := grpc.NewClient(ready.Target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(auth.PerRPCCredentials(ready.Token)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stop := sync.OnceValue(func() error {
		conn.Close()
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Errorf("the server did not stop within 60 s\nlog:\n%s", logs)
			return nil
		}
	})
	t.Cleanup(func() { _ = stop() })
	return &devServer{ready: ready, logs: logs, api: pluginpb.NewPluginAPIClient(conn), stop: stop}
}

// get fetches a path of the server's HTTP port and returns the status and
// body; an error is a status of 0.
func (s *devServer) get(path string) (int, string) {
	resp, err := http.Get(s.ready.HTTPURL + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitLog waits until the log has want.
func (s *devServer) waitLog(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(s.logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log lacks %q after 30 s:\n%s", want, s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logLine returns the first line of log that has substr, or "".
func logLine(log, substr string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, substr) {
			return strings.TrimSuffix(line, "\n")
		}
	}
	return ""
}

// writePlugin writes a plugin directory with a manifest for id and
// plugin.py.
func writePlugin(t *testing.T, dir, id, code string, manifestExtra map[string]any) {
	t.Helper()
	manifest := map[string]any{"id": id, "server": map[string]any{"python": map[string]any{"entry": "plugin.py:TestPlugin"}}}
	for k, v := range manifestExtra {
		manifest[k] = v
	}
	data, _ := json.Marshal(manifest)
	if err := os.WriteFile(filepath.Join(dir, "plugin.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "plugin.py"), code)
}

// writeFile writes a file, making its directory.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
