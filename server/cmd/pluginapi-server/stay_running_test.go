package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// crashingPlugin exits 0.3 s after each of its first three activations,
// and counts its starts in the file starts of marks; later it runs on.
func crashingPlugin(marks string) string {
	return fmt.Sprintf(`import os
import threading
import time

import mattermost_plugin as mp

STARTS = os.path.join(%q, "starts")


class TestPlugin(mp.Plugin):
    def on_activate(self):
        with open(STARTS, "a") as f:
            f.write(f"{os.getpid()}\n")
        with open(STARTS) as f:
            starts = len(f.readlines())
        if starts <= 3:
            threading.Thread(target=lambda: (time.sleep(0.3), os._exit(1)), daemon=True).start()
`, marks)
}

// TestAPluginThatFailsToStayRunning runs a plugin that exits soon after
// each activation: after its third failure within the hour, the dev
// server stops restarting it, and GetPluginStatus says state 4 (failed to
// stay running) with the reason, as upstream's health check job marks a
// plugin. EnablePlugin starts it again, as upstream activates such a
// plugin.
func TestAPluginThatFailsToStayRunning(t *testing.T) {
	py := testenv.Python(t)
	const id = "com.example.crashing"
	marks, dir := t.TempDir(), t.TempDir()
	writePlugin(t, dir, id, crashingPlugin(marks), nil)
	s := startServer(t, "-plugin", dir, "-python", py)

	s.waitState(t, id, stateFailedToStayRunning)
	st, err := s.api.GetPluginStatus(callCtx(t), &pluginpb.GetPluginStatusRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	reason := st.GetStatus().GetError()
	for _, want := range []string{"plugin " + id + " failed 3 times within 1h0m0s and is not restarted", "exited with status 1"} {
		if !strings.Contains(reason, want) {
			t.Errorf("GetPluginStatus(%s).Error = %q; want it to say %q", id, reason, want)
		}
	}
	if line := logLine(s.logs.String(), "plugin failed to stay running"); !strings.Contains(line, "level=ERROR") || !strings.Contains(line, id) {
		t.Errorf("the log line of the give-up = %q\nlog:\n%s", line, s.logs)
	}
	starts := func() int {
		data, _ := os.ReadFile(filepath.Join(marks, "starts"))
		return strings.Count(string(data), "\n")
	}
	if n := starts(); n != 3 {
		t.Errorf("the plugin started %d times before the server gave up; want 3", n)
	}

	if _, err := s.api.EnablePlugin(callCtx(t), &pluginpb.EnablePluginRequest{Id: id}); err != nil {
		t.Fatalf("EnablePlugin(%s) = %v", id, err)
	}
	if state, _ := s.pluginState(t, id); state != stateRunning {
		t.Errorf("GetPluginStatus(%s) after EnablePlugin says state %d; want %d (running)", id, state, stateRunning)
	}
	if n := starts(); n != 4 {
		t.Errorf("the plugin started %d times after EnablePlugin; want 4", n)
	}
}
