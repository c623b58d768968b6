package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
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
