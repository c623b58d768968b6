package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/wire"
)

func TestRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "carrier-pigeon"}, "unknown transport"},
		{[]string{"-listen", "tcp", "-tcp-addr", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"-log-format", "xml"}, "unknown format"},
		{[]string{"-license", "platinum"}, "unknown SKU"},
		{[]string{"-log-level", "loud"}, "-log-level"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-cpuprofile", "/nonexistent/dir/cpu.pprof"}, "-cpuprofile"},
	}
	for _, tt := range tests {
		err := run(tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v; want an error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestRunPrintsReadyLineAndStopsOnSIGTERM(t *testing.T) {
	t.Setenv(tokenEnv, "fixed-token")
	profile := filepath.Join(t.TempDir(), "cpu.pprof")
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run([]string{"-listen", "tcp", "-cpuprofile", profile}, w, io.Discard) }()

	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the ready line: %v", err)
	}
	var got wire.Ready
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if got.Token != "fixed-token" || !strings.HasPrefix(got.Target, "127.0.0.1:") || got.PID == 0 ||
		got.MaxMessageSize != 64<<20 || got.KeepaliveMinTimeMS != 10_000 {
		t.Errorf("ready = %+v; want the env token, a loopback target and a pid", got)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() after SIGTERM = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run() did not return after SIGTERM")
	}
	// The profile is complete once run returns: a gzipped pprof protobuf.
	data, err := os.ReadFile(profile)
	if err != nil || len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Errorf("-cpuprofile wrote %d bytes (%v); want a gzipped profile", len(data), err)
	}
}

func TestRunRejectsTwoPluginsWithOneID(t *testing.T) {
	var dirs []string
	for range 2 {
		dir := t.TempDir()
		manifest := `{"id": "com.example.same", "server": {"python": {"entry": "plugin.py"}}}`
		if err := os.WriteFile(filepath.Join(dir, "plugin.json"), []byte(manifest), 0o600); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	err := run([]string{"-plugin", dirs[0], "-plugin", dirs[1]}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `are both plugin "com.example.same"`) {
		t.Errorf("run(two plugins with one id) = %v; want the duplicate named", err)
	}
	if err := run([]string{"-plugin", ""}, io.Discard, io.Discard); err == nil {
		t.Error("run(-plugin \"\") succeeded")
	}
}
