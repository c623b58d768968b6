package supervisor

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// plainLine is how go-plugin's logger writes a plugin's stderr line that
// is not JSON.
func plainLine(text string) []byte {
	return fmt.Appendf(nil, `{"@level":"debug","@message":%q,"@module":"plugin.python3","@timestamp":"2026-01-02T15:04:05.000000Z"}`, text)
}

// forwarded returns the hclog line that stderrForwarder writes for line,
// a line of the program python3's stderr.
func forwarded(t *testing.T, line string) []byte {
	t.Helper()
	var out bytes.Buffer
	(&stderrForwarder{log: newHCLoggerTo(&out).Named("python3")}).forward([]byte(line))
	return bytes.TrimSuffix(out.Bytes(), []byte("\n"))
}

func TestStartLog(t *testing.T) {
	structured := []byte(`{"@level":"error","@message":"plugin.py cannot be imported","@module":"mattermost_plugin",` +
		`"@timestamp":"2026-01-02T15:04:05.000000Z","startup_error":"plugin.py cannot be imported","timestamp":"2026-01-02T15:04:05.000Z","traceback":"Traceback..."}`)
	own := []byte(`{"@level":"debug","@message":"waiting for RPC address","@module":"plugin","@timestamp":"2026-01-02T15:04:05.000000Z"}`)
	// A JSON line whose timestamp go-plugin could not parse.
	badTime := forwarded(t, `{"@level":"error","@message":"m","@timestamp":"yesterday","startup_error":"the cause"}`)
	var many [][]byte
	for i := range maxStartLines + 5 {
		many = append(many, plainLine(fmt.Sprintf("line %d", i)))
	}
	tests := []struct {
		name      string
		lines     [][]byte
		fail      bool
		wantCause string
		wantLines int      // lines returned by fail
		wantLog   []string // in the log, in order
		wantNot   []string
	}{
		{
			name:      "a failed start logs the held lines at error level",
			lines:     [][]byte{own, plainLine("Traceback (most recent call last):"), plainLine("NameError: x")},
			fail:      true,
			wantLines: 2,
			wantLog:   []string{`level=DEBUG msg="waiting for RPC address"`, `level=ERROR msg="Traceback (most recent call last):"`, `level=ERROR msg="NameError: x"`},
		},
		{
			name:    "a handshake logs them at their own level",
			lines:   [][]byte{plainLine("a warning from an import")},
			wantLog: []string{`level=DEBUG msg="a warning from an import"`},
			wantNot: []string{"ERROR"},
		},
		{
			name:      "the startup error of a JSON line, which is logged at once",
			lines:     [][]byte{structured},
			fail:      true,
			wantCause: "plugin.py cannot be imported",
			wantLines: 1,
			wantLog:   []string{`level=ERROR msg="plugin.py cannot be imported"`, "traceback=Traceback..."},
		},
		{
			name:      "the startup error of a JSON line with a bad timestamp",
			lines:     [][]byte{badTime},
			fail:      true,
			wantCause: "the cause",
			wantLines: 1,
		},
		{
			name:      "a JSON line with a bad timestamp is logged at once at its level, not held",
			lines:     [][]byte{forwarded(t, `{"@level":"warn","@message":"careful","@timestamp":"2026-01-02T15:04:05.123Z"}`)},
			fail:      true,
			wantLines: 1,
			wantLog:   []string{`level=WARN msg=careful module=plugin.python3 source=plugin_stderr`},
			wantNot:   []string{"ERROR"},
		},
		{
			name:      "lines pushed out of the window are logged at their own level",
			lines:     many,
			fail:      true,
			wantLines: maxStartLines,
			wantLog:   []string{`level=DEBUG msg="line 0"`, `level=DEBUG msg="line 4"`, `level=ERROR msg="line 5"`, `level=ERROR msg="line 24"`},
			wantNot:   []string{`level=ERROR msg="line 4"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			start := &startLog{logger: l, module: "plugin.python3"}
			for _, line := range tc.lines {
				logHCLogLine(l, start, line)
			}
			var cause string
			var output []string
			if tc.fail {
				cause, output = start.fail()
			} else {
				start.handshake()
			}
			// After the watch, lines pass straight through.
			logHCLogLine(l, start, plainLine("after"))
			log := buf.String()
			if cause != tc.wantCause || len(output) != tc.wantLines {
				t.Errorf("fail() = %q, %d lines; want %q, %d lines", cause, len(output), tc.wantCause, tc.wantLines)
			}
			rest := log
			for _, want := range append(tc.wantLog, `level=DEBUG msg=after`) {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Errorf("log lacks %q after what came before; log:\n%s", want, log)
					break
				}
				rest = rest[i+len(want):]
			}
			for _, not := range tc.wantNot {
				if strings.Contains(log, not) {
					t.Errorf("log has %q:\n%s", not, log)
				}
			}
		})
	}
}

func TestStartLogBoundsItsBytes(t *testing.T) {
	l := slog.New(slog.DiscardHandler)
	start := &startLog{logger: l, module: "plugin.python3"}
	long := strings.Repeat("x", maxLogLine-200)
	for range 5 {
		logHCLogLine(l, start, plainLine(long))
	}
	if start.size > maxStartBytes {
		t.Errorf("holds %d bytes, more than %d", start.size, maxStartBytes)
	}
	_, output := start.fail()
	if msg := quoteOutput(output); len(msg) > maxQuotedOutput+100 {
		t.Errorf("quoteOutput() = %d bytes, want at most about %d", len(msg), maxQuotedOutput)
	}
}
