package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
)

func TestLogRecords(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	many := map[string]string{}
	for i := range 100 {
		many[string(rune('a'+i%26))+strings.Repeat("k", i)] = "v"
	}
	tests := []struct {
		name   string
		msg    string
		fields map[string]string
		check  func(t *testing.T, record map[string]any)
	}{
		{"forged keys stay in the plugin group", "hello", map[string]string{"level": "ERROR", "source": "server", "msg": "x", "time": "0"},
			func(t *testing.T, r map[string]any) {
				if r["level"] != "INFO" || r["source"] != "plugin" || r["msg"] != "hello" {
					t.Errorf("record = %v; want INFO from the plugin", r)
				}
				if g, _ := r["plugin"].(map[string]any); g["level"] != "ERROR" || g["source"] != "server" {
					t.Errorf("plugin group = %v; want the plugin's own fields", r["plugin"])
				}
			}},
		{"huge message and value are cut", long, map[string]string{"k": long},
			func(t *testing.T, r map[string]any) {
				if n := len(r["msg"].(string)); n > maxLogMessageBytes {
					t.Errorf("message has %d bytes; want at most %d", n, maxLogMessageBytes)
				}
				if n := len(r["plugin"].(map[string]any)["k"].(string)); n > maxLogFieldBytes {
					t.Errorf("field has %d bytes; want at most %d", n, maxLogFieldBytes)
				}
			}},
		{"too many fields are dropped and counted", "m", many,
			func(t *testing.T, r map[string]any) {
				g := r["plugin"].(map[string]any)
				if len(g) != maxLogFields+1 || g["fields_dropped"] != float64(100-maxLogFields) {
					t.Errorf("plugin group has %d keys, fields_dropped=%v; want %d and %d", len(g), g["fields_dropped"], maxLogFields+1, 100-maxLogFields)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			b := New(Logger(slog.New(slog.NewJSONHandler(&buf, nil))))
			if _, err := b.LogInfo(context.Background(), &pluginpb.LogInfoRequest{Message: tt.msg, KeyValuePairs: tt.fields}); err != nil {
				t.Fatal(err)
			}
			var record map[string]any
			if err := json.Unmarshal(buf.Bytes(), &record); err != nil {
				t.Fatalf("log line %q: %v", buf.String(), err)
			}
			tt.check(t, record)
		})
	}
}

// TestLogRecordsCarryTheCallersPluginID: LogDebug, LogInfo, LogWarn and
// LogError called through the gRPC server carry the calling plugin's id
// as the record's plugin_id, once, whatever the plugin's fields say.
func TestLogRecordsCarryTheCallersPluginID(t *testing.T) {
	const mainToken, otherToken = "main-token", "other-token"
	logs := &testenv.SyncBuffer{}
	backend := New(
		Logger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		Manifest(&pluginpb.Manifest{Id: "com.example.main"}, &pluginpb.Manifest{Id: "com.example.other"}))
	srv, err := server.New(backend, mainToken,
		server.Logger(slog.New(slog.DiscardHandler)),
		server.PluginTokens(auth.PluginToken{Token: otherToken, PluginID: "com.example.other"}))
	if err != nil {
		t.Fatalf("server.New() = %v", err)
	}
	lis, err := server.ListenUnix("")
	if err != nil {
		t.Fatalf("ListenUnix() = %v", err)
	}
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%q) = %v", lis.Target, err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		lis.Close()
	})
	client := pluginpb.NewPluginAPIClient(conn)
	forged := map[string]string{"plugin_id": "com.example.forged"}
	calls := map[string]func(ctx context.Context, msg string, opt grpc.CallOption) error{
		"DEBUG": func(ctx context.Context, msg string, opt grpc.CallOption) error {
			_, err := client.LogDebug(ctx, &pluginpb.LogDebugRequest{Message: msg, KeyValuePairs: forged}, opt)
			return err
		},
		"INFO": func(ctx context.Context, msg string, opt grpc.CallOption) error {
			_, err := client.LogInfo(ctx, &pluginpb.LogInfoRequest{Message: msg, KeyValuePairs: forged}, opt)
			return err
		},
		"WARN": func(ctx context.Context, msg string, opt grpc.CallOption) error {
			_, err := client.LogWarn(ctx, &pluginpb.LogWarnRequest{Message: msg, KeyValuePairs: forged}, opt)
			return err
		},
		"ERROR": func(ctx context.Context, msg string, opt grpc.CallOption) error {
			_, err := client.LogError(ctx, &pluginpb.LogErrorRequest{Message: msg, KeyValuePairs: forged}, opt)
			return err
		},
	}
	tests := []struct {
		token, want string
	}{
		{otherToken, "com.example.other"},
		{mainToken, "com.example.main"}, // the token that names no plugin acts as the backend's own plugin
	}
	for _, tc := range tests {
		for level, call := range calls {
			t.Run(tc.want+"/"+level, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				msg := "from " + tc.token + " at " + level
				if err := call(ctx, msg, auth.PerRPCCredentials(tc.token)); err != nil {
					t.Fatalf("Log%s = %v", level, err)
				}
				var found []string
				for line := range strings.Lines(logs.String()) {
					if strings.Contains(line, msg) {
						found = append(found, line)
					}
				}
				if len(found) != 1 {
					t.Fatalf("%d records of %q; want 1", len(found), msg)
				}
				if n := strings.Count(found[0], `"plugin_id":`); n != 2 { // the record's and the forged one in the plugin group
					t.Errorf("record has plugin_id %d times; want once at the top and once in the plugin group: %s", n, found[0])
				}
				var record map[string]any
				if err := json.Unmarshal([]byte(found[0]), &record); err != nil {
					t.Fatalf("log line %q: %v", found[0], err)
				}
				group, _ := record[pluginFieldsKey].(map[string]any)
				if record["plugin_id"] != tc.want || record["level"] != level || record["source"] != "plugin" || group["plugin_id"] != "com.example.forged" {
					t.Errorf("record = %v; want plugin_id %s at %s from the plugin, the forged plugin_id in its group", record, tc.want, level)
				}
			})
		}
	}
}
