package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/pgtest"
	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

func TestNodeIDFlag(t *testing.T) {
	tests := []struct {
		flag    string
		want    string // "" for a generated id
		wantErr bool
	}{
		{flag: "", want: ""},
		{flag: "node-1", want: "node-1"},
		{flag: strings.Repeat("n", maxNodeIDBytes), want: strings.Repeat("n", maxNodeIDBytes)},
		{flag: strings.Repeat("n", maxNodeIDBytes+1), wantErr: true},
	}
	for _, tt := range tests {
		got, err := nodeID(tt.flag)
		switch {
		case tt.wantErr:
			if err == nil {
				t.Errorf("nodeID(%d bytes) = %q, want an error", len(tt.flag), got)
			}
		case err != nil:
			t.Errorf("nodeID(%q): %v", tt.flag, err)
		case tt.want == "" && len(got) != 26:
			t.Errorf("nodeID(\"\") = %q, want a generated 26-character id", got)
		case tt.want != "" && got != tt.want:
			t.Errorf("nodeID(%q) = %q", tt.flag, got)
		}
	}
	a, _ := nodeID("")
	b, _ := nodeID("")
	if a == b {
		t.Errorf("two generated node ids are both %q", a)
	}
}

// clusterPlugin records each cluster event it receives in the file
// MARKS, one line each: the event id, the data's size and its SHA-256.
const clusterPlugin = `import hashlib

import mattermost_plugin as mp

MARKS = %q


class TestPlugin(mp.Plugin):
    def on_plugin_cluster_event(self, context, event):
        with open(MARKS, "a") as f:
            f.write(f"{event.id} {len(event.data)} {hashlib.sha256(event.data).hexdigest()}\n")
`

// clusterNode is one dev server of the cluster test, with the marks of
// its plugins.
type clusterNode struct {
	*devServer
	marks, otherMarks string
}

// received returns the lines that the node's plugin recorded, whole
// lines only: the plugin creates the file before it writes its line.
func received(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	end := bytes.LastIndexByte(data, '\n')
	if end < 0 {
		return nil
	}
	return strings.Split(string(data[:end]), "\n")
}

// waitReceived waits until the plugin's marks hold n lines, and returns
// them.
func waitReceived(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := received(path)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d events after 30 s, want %d: %q", path, len(got), n, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mark is the line that the plugin records for an event.
func mark(id string, data []byte) string {
	sum := sha256.Sum256(data)
	return fmt.Sprintf("%s %d %s", id, len(data), hex.EncodeToString(sum[:]))
}

// TestClusterEventsBetweenTwoNodes runs two dev servers on one database
// (-store, -node-id), each with the same Python plugin; node-b also runs
// another plugin. Events that node-a's plugin publishes reach the plugin
// on node-b alone (not its other plugin, never node-a), once and in
// order, big ones intact; TargetId picks the node; an event without an id
// is dropped, as upstream's receiving node drops it.
func TestClusterEventsBetweenTwoNodes(t *testing.T) {
	py := testenv.Python(t)
	dsn := pgtest.Start(t).NewDatabase(t)
	const id, otherID = "com.example.clustered", "com.example.other"
	start := func(node string) *clusterNode {
		marks := filepath.Join(t.TempDir(), "events")
		dir := t.TempDir()
		writePlugin(t, dir, id, fmt.Sprintf(clusterPlugin, marks), nil)
		args := []string{"-store", dsn, "-node-id", node, "-python", py, "-plugin", dir}
		n := &clusterNode{marks: marks}
		if node == "node-b" {
			n.otherMarks = filepath.Join(t.TempDir(), "events")
			other := t.TempDir()
			writePlugin(t, other, otherID, fmt.Sprintf(clusterPlugin, n.otherMarks), nil)
			args = append(args, "-plugin", other)
		}
		n.devServer = startServer(t, args...)
		return n
	}
	a, b := start("node-a"), start("node-b")
	ctx := callCtx(t)
	publish := func(s *clusterNode, evID string, data []byte, opts *pluginpb.PluginClusterEventSendOptions) {
		t.Helper()
		_, err := s.api.PublishPluginClusterEvent(ctx, &pluginpb.PublishPluginClusterEventRequest{
			Ev: &pluginpb.PluginClusterEvent{Id: evID, Data: data}, Opts: opts,
		})
		if err != nil {
			t.Fatalf("PublishPluginClusterEvent(%q): %v", evID, err)
		}
	}

	var want []string
	for i := range 20 {
		sendType := store.SendReliable
		if i%2 == 1 {
			sendType = store.SendBestEffort
		}
		data := fmt.Appendf(nil, "event %d", i)
		publish(a, fmt.Sprint("e", i), data, &pluginpb.PluginClusterEventSendOptions{SendType: sendType})
		want = append(want, mark(fmt.Sprint("e", i), data))
	}
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	publish(a, "big", big, &pluginpb.PluginClusterEventSendOptions{SendType: store.SendReliable})
	want = append(want, mark("big", big))
	publish(a, "", []byte("no id"), nil)
	publish(a, "to-a", nil, &pluginpb.PluginClusterEventSendOptions{TargetId: "node-a"})
	publish(a, "to-b", nil, &pluginpb.PluginClusterEventSendOptions{TargetId: "node-b"})
	want = append(want, mark("to-b", nil))
	if got := waitReceived(t, b.marks, len(want)); !slices.Equal(got, want) {
		t.Errorf("node-b's plugin received\n%q\nwant\n%q", got, want)
	}

	// The other way, as a marker that node-a received nothing before.
	publish(b, "from-b", []byte("hello"), nil)
	if got := waitReceived(t, a.marks, 1); !slices.Equal(got, []string{mark("from-b", []byte("hello"))}) {
		t.Errorf("node-a's plugin received %q, want node-b's event alone", got)
	}
	if got := received(b.otherMarks); len(got) != 0 {
		t.Errorf("the other plugin of node-b received %q", got)
	}
	if !strings.Contains(b.logs.String(), "invalid cluster event dropped") {
		t.Errorf("node-b's log lacks the dropped event without an id:\n%s", b.logs)
	}
}
