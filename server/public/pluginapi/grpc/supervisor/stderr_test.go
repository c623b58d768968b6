package supervisor

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestStderrForwarder checks that the plugin's stderr lines are logged as
// go-plugin's logStderr logs them, except that a JSON line whose hclog
// fields are not strings is a plain line instead of a panic, and that a
// line keeps its level whatever its "@timestamp".
func TestStderrForwarder(t *testing.T) {
	const stamp = "2026-01-02T15:04:05.000000Z"
	tests := []struct {
		name      string
		lines     []string
		wantLevel []string // @level of each record
		wantMsg   []string // @message of each record
	}{
		{
			name:      "an hclog line",
			lines:     []string{`{"@level":"warn","@message":"careful","@timestamp":"` + stamp + `","k":"v"}`},
			wantLevel: []string{"warn"},
			wantMsg:   []string{"careful"},
		},
		{
			name:      "an hclog line without a time",
			lines:     []string{`{"@level":"error","@message":"no time"}`},
			wantLevel: []string{"error"},
			wantMsg:   []string{"no time"},
		},
		{
			name: "fields that are not strings",
			lines: []string{
				`{"@message": 1, "@level": "error"}`,
				`{"@message": "m", "@level": 3}`,
				`{"@message": null}`,
			},
			wantLevel: []string{"debug", "debug", "debug"},
			wantMsg: []string{
				`{"@message": 1, "@level": "error"}`,
				`{"@message": "m", "@level": 3}`,
				`{"@message": null}`,
			},
		},
		{
			name: "a time in another layout, or none that parses",
			lines: []string{
				`{"@level":"warn","@message":"ms","@timestamp":"2026-01-02T15:04:05.000Z"}`,
				`{"@level":"info","@message":"m","@timestamp":17}`,
				`{"@level":"error","@message":"y","@timestamp":"yesterday"}`,
			},
			wantLevel: []string{"warn", "info", "error"},
			wantMsg:   []string{"ms", "m", "y"},
		},
		{
			name:      "levels that hclog does not know, or off",
			lines:     []string{`{"@level":"warning","@message":"m"}`, `{"@level":"off","@message":"m"}`, `{"@level":"error"}`},
			wantLevel: []string{"debug", "debug", "debug"},
			wantMsg:   []string{`{"@level":"warning","@message":"m"}`, `{"@level":"off","@message":"m"}`, `{"@level":"error"}`},
		},
		{
			name:      "JSON that is not hclog's",
			lines:     []string{`{"a":1}`, `[1,2]`},
			wantLevel: []string{"debug", "debug"},
			wantMsg:   []string{`{"a":1}`, `[1,2]`},
		},
		{
			name:      "level prefixes",
			lines:     []string{"[WARN] w", "[ERROR] e", "[INFO] i", "plain"},
			wantLevel: []string{"warn", "error", "info", "debug"},
			wantMsg:   []string{"[WARN] w", "[ERROR] e", "[INFO] i", "plain"},
		},
		{
			name:      "a panic and what follows",
			lines:     []string{"before", "panic: boom", "goroutine 1 [running]:"},
			wantLevel: []string{"debug", "error", "error"},
			wantMsg:   []string{"before", "panic: boom", "goroutine 1 [running]:"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			f := &stderrForwarder{log: newHCLoggerTo(&out).Named("plugin-program")}
			for _, line := range tc.lines {
				f.forward([]byte(line))
			}
			var levels, msgs []string
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("record %q: %v", line, err)
				}
				levels = append(levels, rec["@level"].(string))
				msgs = append(msgs, rec["@message"].(string))
			}
			if strings.Join(levels, ",") != strings.Join(tc.wantLevel, ",") || strings.Join(msgs, "\n") != strings.Join(tc.wantMsg, "\n") {
				t.Errorf("records: levels %q messages %q\nwant levels %q messages %q", levels, msgs, tc.wantLevel, tc.wantMsg)
			}
		})
	}
}

// TestQuietStderrLogger checks that go-plugin's logger of the plugin's
// program is off, which keeps go-plugin from parsing stderr, and that the
// others are not.
func TestQuietStderrLogger(t *testing.T) {
	l := quietStderrLogger{Logger: newHCLoggerTo(&bytes.Buffer{}), program: "python3"}
	if got := l.Named("python3").GetLevel(); got != hclog.Off {
		t.Errorf("Named(program).GetLevel() = %v, want Off", got)
	}
	if got := l.Named("stdio").GetLevel(); got == hclog.Off {
		t.Errorf("Named(\"stdio\").GetLevel() = Off")
	}
}
