package supervisor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
)

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", maxLogLine+10)
	tests := []struct {
		name   string
		writes []string
		want   []string
	}{
		{"lines across writes", []string{"a\nb", "c\n", "d"}, []string{"a", "bc"}},
		{"an empty line", []string{"\n"}, []string{""}},
		{"a long line in pieces", []string{long + "\nz\n"}, []string{long[:maxLogLine], long[maxLogLine:], "z"}},
		{"a long line without its end", []string{long}, []string{long[:maxLogLine]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			w := &lineWriter{emit: func(line []byte) { got = append(got, string(bytes.Clone(line))) }}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("lines = %d %q..., want %d", len(got), first(got), len(tc.want))
			}
			if len(w.buf) > maxLogLine {
				t.Errorf("holds %d bytes, more than %d", len(w.buf), maxLogLine)
			}
		})
	}
}

func first(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return lines[0][:min(len(lines[0]), 20)]
}

// pluginID is the plugin_id that the supervisor's logger gives every
// record of its plugin.
const pluginID = "com.example.mine"

// bridge returns go-plugin's logger as newHCLogger makes it, logging to a
// JSON slog handler, as the dev server's -log-format json does, with the
// plugin's id, as the supervisor's logger does; and the handler's output.
// start's watch is over, as after a handshake.
func bridge(t *testing.T) (hclog.Logger, *testenv.SyncBuffer) {
	t.Helper()
	out := &testenv.SyncBuffer{}
	l := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: levelTrace})).With(slog.String("plugin_id", pluginID))
	start := &startLog{logger: l, module: hclogName + ".python3"}
	start.handshake()
	return newHCLogger(l, start), out
}

// jsonRecords parses the JSON records of out, one a line, and fails the
// test when a line has a top-level key twice.
func jsonRecords(t *testing.T, out string) []map[string]any {
	t.Helper()
	var records []map[string]any
	var twice []string
	for line := range strings.Lines(out) {
		if keys := topLevelKeys(t, line); len(keys) != len(slices.Compact(slices.Sorted(slices.Values(keys)))) {
			twice = append(twice, fmt.Sprintf("%v in %.300s", keys, line))
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		records = append(records, r)
	}
	if len(twice) > 0 {
		t.Errorf("%d records have a top-level key twice, the first: %s", len(twice), twice[0])
	}
	return records
}

// topLevelKeys returns the keys of the JSON object line, in order, with
// their repeats.
func topLevelKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("log line %q is not a JSON object: %v", line, err)
	}
	var keys []string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		keys = append(keys, key.(string))
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
	}
	return keys
}

// TestHCLogRecords: go-plugin's records of a plugin's stderr lines keep
// the record's plugin_id, level, source, time and message the server's,
// with the plugin's fields in their group.
func TestHCLogRecords(t *testing.T) {
	const stamp = "2026-01-02T15:04:05.000Z" // go-plugin's "timestamp" field
	tests := []struct {
		name  string
		log   func(l hclog.Logger) // as go-plugin logs
		level string
		msg   string
		top   map[string]any // the top-level keys, but time
		group map[string]any // the plugin group, nil for none
	}{
		{
			// go-plugin parses {"@level":"error","@message":"x","plugin_id":"other","source":"server","level":"DEBUG"}
			// and logs it with its fields so.
			name: "the issue's line",
			log: func(l hclog.Logger) {
				l.Named("python3").Error("x", "plugin_id", "other", "source", "server", "level", "DEBUG", "timestamp", stamp)
			},
			level: "ERROR", msg: "x",
			top:   map[string]any{"plugin_id": pluginID, "module": "plugin.python3", "source": stderrSource},
			group: map[string]any{"plugin_id": "other", "source": "server", "level": "DEBUG"},
		},
		{
			name: "fields named as the record's own, and another module",
			log: func(l hclog.Logger) {
				l.Named("python3").Warn("y", "msg", "forged", "time", "0", "module", "m", "@module", "plugin", "plugin", "p", "timestamp", stamp)
			},
			level: "WARN", msg: "y",
			top:   map[string]any{"plugin_id": pluginID, "module": "plugin.python3", "source": stderrSource},
			group: map[string]any{"msg": "forged", "time": "0", "module": "m", "@module": "plugin", "plugin": "p"},
		},
		{
			name:  "a line without fields",
			log:   func(l hclog.Logger) { l.Named("python3").Info("z", "timestamp", stamp) },
			level: "INFO", msg: "z",
			top: map[string]any{"plugin_id": pluginID, "module": "plugin.python3", "source": stderrSource},
		},
		{
			name:  "a trace line is below debug",
			log:   func(l hclog.Logger) { l.Named("python3").Trace("t", "timestamp", stamp) },
			level: "DEBUG-4", msg: "t",
			top: map[string]any{"plugin_id": pluginID, "module": "plugin.python3", "source": stderrSource},
		},
		{
			name:  "a plain line",
			log:   func(l hclog.Logger) { l.Named("python3").Debug("Traceback (most recent call last):") },
			level: "DEBUG", msg: "Traceback (most recent call last):",
			top: map[string]any{"plugin_id": pluginID, "module": "plugin.python3", "source": stderrSource},
		},
		{
			name:  "go-plugin's own record keeps its fields",
			log:   func(l hclog.Logger) { l.Debug("plugin started", "path", "/bin/python3", "pid", 7) },
			level: "DEBUG", msg: "plugin started",
			top: map[string]any{"plugin_id": pluginID, "module": "plugin", "path": "/bin/python3", "pid": float64(7)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, out := bridge(t)
			tc.log(l)
			records := jsonRecords(t, out.String())
			if len(records) != 1 {
				t.Fatalf("%d records; want 1:\n%s", len(records), out)
			}
			r := records[0]
			if r["level"] != tc.level || r["msg"] != tc.msg {
				t.Errorf("record at %v: %q; want %s: %q", r["level"], r["msg"], tc.level, tc.msg)
			}
			group, _ := r[pluginFieldsKey].(map[string]any)
			delete(r, "time")
			delete(r, "level")
			delete(r, "msg")
			if tc.group != nil {
				delete(r, pluginFieldsKey)
			}
			if !reflect.DeepEqual(r, tc.top) {
				t.Errorf("top-level fields = %v; want %v", r, tc.top)
			}
			if !reflect.DeepEqual(group, tc.group) {
				t.Errorf("plugin group = %v; want %v", group, tc.group)
			}
		})
	}
}

// TestHCLogLinesGoPluginCouldNotParse: go-plugin would log a stderr line
// whose "@timestamp" does not have its one layout at debug level, as it
// is; through stderrForwarder and the bridge, an hclog JSON line keeps its
// level, message and fields whatever its timestamp.
func TestHCLogLinesGoPluginCouldNotParse(t *testing.T) {
	layouts := map[string]string{
		"milliseconds":          "2026-01-02T15:04:05.123Z",
		"seconds (RFC 3339)":    "2026-01-02T15:04:05Z",
		"an offset":             "2026-01-02T15:04:05.123+02:00",
		"nanoseconds":           "2026-01-02T15:04:05.123456789Z",
		"a space for the T":     "2026-01-02 15:04:05.123456Z",
		"not a time":            "yesterday",
		"an empty one":          "",
		"six digits, no offset": "2026-01-02T15:04:05.123456",
	}
	levels := map[string]string{"trace": "DEBUG-4", "debug": "DEBUG", "info": "INFO", "warn": "WARN", "error": "ERROR", "ERROR": "ERROR"}
	for layout, stamp := range layouts {
		for level, want := range levels {
			t.Run(layout+"/"+level, func(t *testing.T) {
				line := fmt.Sprintf(`{"@level":%q,"@message":"m","@timestamp":%q,"@module":"mattermost_plugin","k":"v","level":"forged"}`, level, stamp)
				l, out := bridge(t)
				(&stderrForwarder{log: l.Named("python3")}).forward([]byte(line))
				records := jsonRecords(t, out.String())
				if len(records) != 1 {
					t.Fatalf("%d records; want 1:\n%s", len(records), out)
				}
				r := records[0]
				group := map[string]any{"k": "v", "level": "forged", "@module": "mattermost_plugin"}
				if r["level"] != want || r["msg"] != "m" || r["source"] != stderrSource || r["plugin_id"] != pluginID || !reflect.DeepEqual(r[pluginFieldsKey], group) {
					t.Errorf("record = %v; want %s: \"m\" from %s, the fields %v in its group", r, want, stderrSource, group)
				}
			})
		}
	}
	// Lines that are not hclog lines stay as go-plugin logged them.
	for _, line := range []string{
		`{"@level":"warning","@message":"m"}`, // a level that hclog does not know
		`{"@level":"off","@message":"m"}`,
		`{"@level":"error"}`,
		`{"@level":"error","@message":5}`,
		`{"@message":"m"}`,
		`{"a":1}`,
		`{"@level":"error","@message":"m"`,
		`[1]`,
	} {
		t.Run(line, func(t *testing.T) {
			l, out := bridge(t)
			(&stderrForwarder{log: l.Named("python3")}).forward([]byte(line))
			records := jsonRecords(t, out.String())
			if len(records) != 1 || records[0]["level"] != "DEBUG" || records[0]["msg"] != line || records[0][pluginFieldsKey] != nil {
				t.Errorf("records = %v; want the line at DEBUG as it is", records)
			}
		})
	}
	// go-plugin's own records are not the plugin's lines.
	l, out := bridge(t)
	l.Debug(`{"@level":"error","@message":"m"}`)
	if records := jsonRecords(t, out.String()); len(records) != 1 || records[0]["level"] != "DEBUG" {
		t.Errorf("records = %v; want go-plugin's own record at DEBUG", records)
	}
}

// fallbackScript logs, through the SDK's APILogHandler whose API cannot be
// reached, argv[2] records at each level in each of the "@timestamp"
// layouts named by argv[1]: each goes to stderr as the SDK's hclog line
// with the timestamp in that layout. "sdk" is the SDK's own layout; the
// others stand for older SDKs and other loggers. Then it writes the
// issue's line, which gives fields named as the record's own.
const fallbackScript = `
import datetime, json, logging, sys
from mattermost_plugin._plugin import logs

sdk_timestamp, sdk_line = logs.hclog_timestamp, logs.hclog_line

def utc(created):
    return datetime.datetime.fromtimestamp(created, tz=datetime.timezone.utc)

def without_timestamp(record, message):
    entry = json.loads(sdk_line(record, message))
    del entry["@timestamp"]
    return json.dumps(entry)

layouts = {
    "sdk": sdk_timestamp,
    "milliseconds": lambda c: utc(c).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    "seconds": lambda c: utc(c).strftime("%Y-%m-%dT%H:%M:%SZ"),
    "offset": lambda c: utc(c).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00",
    "isoformat": lambda c: utc(c).isoformat(),
    "nanoseconds": lambda c: utc(c).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z",
    "none": None,
}
count = int(sys.argv[2])
logger = logging.getLogger("load")
logger.propagate = False
logger.setLevel(logging.DEBUG)
for name in sys.argv[1].split(","):
    handler = logs.APILogHandler(lambda: 1 / 0)
    logger.addHandler(handler)
    if layouts[name] is None:
        logs.hclog_line = without_timestamp
    else:
        logs.hclog_timestamp = layouts[name]
    for i in range(count):
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
            logger.log(level, "%s %s %d", name, logging.getLevelName(level), i)
    handler.close(timeout=600)
    logger.removeHandler(handler)
    logs.hclog_timestamp, logs.hclog_line = sdk_timestamp, sdk_line
sys.stderr.write('{"@level":"error","@message":"x","plugin_id":"other","source":"server","level":"DEBUG"}\n')
`

// scriptLine matches the message of a record that fallbackScript logs:
// the layout, the level and the line's number.
var scriptLine = regexp.MustCompile(`^(\w+) (DEBUG|INFO|WARNING|ERROR) \d+$`)

// TestSDKFallbackLinesUnderGoPlugin runs the SDK's fallback logger in a
// Python process under a real go-plugin client wired as the supervisor
// wires it (quietStderrLogger and a stderrForwarder): every line arrives
// with its level, whatever the layout of its timestamp, and none reaches
// the bridge as a plain line.
func TestSDKFallbackLinesUnderGoPlugin(t *testing.T) {
	const perLevel = 1000
	layouts := []string{"sdk", "milliseconds", "seconds", "offset", "isoformat", "nanoseconds", "none"}
	levels := map[string]string{"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR"}

	out := &testenv.SyncBuffer{}
	l := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})).With(slog.String("plugin_id", pluginID))
	cmd := exec.Command(testenv.Python(t), "-c", fallbackScript, strings.Join(layouts, ","), fmt.Sprint(perLevel))
	program := filepath.Base(cmd.Path)
	start := &startLog{logger: l, module: hclogName + "." + program}
	start.handshake() // the script makes no handshake; its lines come as after one
	// Each line that the hclog logger writes, before the bridge.
	var mu sync.Mutex
	plain := map[string]int{} // the SDK's lines that reached the bridge as plain text, by layout
	hclogger := newHCLoggerTo(&lineWriter{emit: func(line []byte) {
		var raw, inner struct {
			Module    string  `json:"@module"`
			Message   string  `json:"@message"`
			Timestamp *string `json:"timestamp"`
		}
		if json.Unmarshal(line, &raw) == nil && raw.Module == start.module && raw.Timestamp == nil &&
			json.Unmarshal([]byte(raw.Message), &inner) == nil {
			layout, _, _ := strings.Cut(inner.Message, " ")
			mu.Lock()
			plain[layout]++
			mu.Unlock()
		}
		logHCLogLine(l, start, line)
	}})
	stderr := &stderrForwarder{log: hclogger.Named(program)}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          plugin.PluginSet{pluginName: hooksPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           quietStderrLogger{Logger: hclogger, program: program},
		Stderr:           &lineWriter{emit: stderr.forward},
		StartTimeout:     10 * time.Minute, // the script ends without a handshake
	})
	if _, err := client.Start(); err == nil {
		t.Fatal("Start() = nil; the script makes no handshake")
	}
	client.Kill() // returns once the plugin's stderr is read

	got := map[string]map[string]int{} // layout -> level -> records at that level
	var issue []map[string]any
	var others []string
	for _, r := range jsonRecords(t, out.String()) {
		msg, _ := r["msg"].(string)
		if r["module"] == hclogName {
			continue // go-plugin's own
		}
		if msg == "x" {
			issue = append(issue, r)
			continue
		}
		m := scriptLine.FindStringSubmatch(msg)
		if m == nil || r["level"] != levels[m[2]] {
			others = append(others, fmt.Sprintf("%.100q at %v", msg, r["level"]))
			continue
		}
		layout, level := m[1], m[2]
		if got[layout] == nil {
			got[layout] = map[string]int{}
		}
		got[layout][level]++
	}
	if len(others) > 0 {
		t.Errorf("%d records not at the level of their line, the first: %s", len(others), others[0])
	}
	for _, layout := range layouts {
		for level := range levels {
			if n := got[layout][level]; n != perLevel {
				t.Errorf("%s: %d %s records at %s; want %d", layout, n, level, levels[level], perLevel)
			}
		}
	}
	if len(plain) != 0 {
		t.Errorf("lines that reached the bridge as plain text, by layout: %v; want none", plain)
	}
	if len(issue) != 1 {
		t.Fatalf("%d records of the issue's line; want 1", len(issue))
	}
	want := map[string]any{"plugin_id": "other", "source": "server", "level": "DEBUG"}
	if r := issue[0]; r["plugin_id"] != pluginID || r["level"] != "ERROR" || r["source"] != stderrSource || !reflect.DeepEqual(r[pluginFieldsKey], want) {
		t.Errorf("the issue's line = %v; want plugin_id %s at ERROR from %s, its fields %v in the plugin group", r, pluginID, stderrSource, want)
	}
}
