package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/wire"
)

// beServerEnv makes the test binary run main() instead of the tests, so
// that a test can run the real server as a child process.
const beServerEnv = "PLUGINAPI_SERVER_TEST_BE_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(beServerEnv) == "1" {
		os.Args = append(os.Args[:1], "-log-format", "json")
		main()
		os.Exit(0)
	}
	code := m.Run()
	if wheelhouse.dir != "" {
		os.RemoveAll(wheelhouse.dir)
	}
	os.Exit(code)
}

// startChild starts the server as a child whose stderr is the write end
// of a pipe; closeRead says whether the read end is closed at once (a
// closed stderr) or left unread (a stalled one).
func startChild(t *testing.T, closeRead bool) (*exec.Cmd, wire.Ready) {
	t.Helper()
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), beServerEnv+"=1")
	cmd.Stderr = stderrW
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stderrW.Close()
	if closeRead {
		stderrR.Close()
	} else {
		t.Cleanup(func() { stderrR.Close() })
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v", err)
	}
	var r wire.Ready
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatal(err)
	}
	return cmd, r
}

// TestStderrHazards logs far more than a pipe holds to a stderr that is
// closed or that nobody reads: the server must keep serving, and stop
// cleanly on SIGTERM.
func TestStderrHazards(t *testing.T) {
	for _, tt := range []struct {
		name      string
		closeRead bool
	}{{"closed stderr", true}, {"unread stderr", false}} {
		t.Run(tt.name, func(t *testing.T) {
			cmd, ready := startChild(t, tt.closeRead)
			conn, err := grpc.NewClient(ready.Target, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			client := pluginpb.NewPluginAPIClient(conn)
			line := strings.Repeat("x", 1024)
			for i := range 500 { // 500 KiB of log: several times a pipe's buffer
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_, err := client.LogInfo(ctx, &pluginpb.LogInfoRequest{Message: line}, auth.PerRPCCredentials(ready.Token))
				cancel()
				if err != nil {
					t.Fatalf("LogInfo #%d = %v; want the server to keep serving", i, err)
				}
			}
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("server exit after SIGTERM = %v; want 0", err)
			}
		})
	}
}
