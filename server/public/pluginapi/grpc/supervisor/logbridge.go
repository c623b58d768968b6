package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// maxLogLine bounds one forwarded log line; longer ones are cut.
const maxLogLine = 64 << 10

// newHCLogger returns an hclog.Logger for go-plugin whose lines, the
// plugin's stderr among them, go to l with their level and fields. When
// start is not nil, each line goes through it first (see [startLog]).
func newHCLogger(l *slog.Logger, start *startLog) hclog.Logger {
	return newHCLoggerTo(&lineWriter{emit: func(line []byte) { logHCLogLine(l, start, line) }})
}

// newHCLoggerTo returns the hclog.Logger for go-plugin that writes its
// JSON lines, at every level, to w.
func newHCLoggerTo(w io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       hclogName,
		Level:      hclog.Trace,
		Output:     w,
		JSONFormat: true,
	})
}

// newLineLogger returns a writer that logs each line written to it at info
// level, with attr: where go-plugin copies the plugin's output.
func newLineLogger(l *slog.Logger, attr slog.Attr) *lineWriter {
	return &lineWriter{emit: func(line []byte) {
		l.LogAttrs(context.Background(), slog.LevelInfo, strings.ToValidUTF8(string(line), "\uFFFD"), attr)
	}}
}

// lineWriter is an io.Writer that hands each line written to it, without
// its newline, to emit. A line longer than maxLogLine is handed on in
// pieces of maxLogLine bytes, so that it holds at most that much.
type lineWriter struct {
	emit func(line []byte)
	mu   sync.Mutex
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		switch {
		case i < 0 && len(w.buf) <= maxLogLine:
			return len(p), nil
		case i < 0 || i > maxLogLine:
			w.emit(w.buf[:maxLogLine])
			w.buf = w.buf[maxLogLine:]
		default:
			w.emit(w.buf[:i])
			w.buf = w.buf[i+1:]
		}
	}
}

// hclogName is the name of the hclog.Logger given to go-plugin; it names
// the plugin's stderr lines hclogName + "." + the program's base name.
const hclogName = "plugin"

// pluginFieldsKey is the group that holds the fields of the plugin's JSON
// log lines, as it holds those of LogInfo and friends in the reference
// backend. Inside it a plugin may use any key; outside it, it cannot set
// or forge the record's plugin_id, level, source, time or message.
const pluginFieldsKey = "plugin"

// stderrSource is the source of the records of the plugin's stderr lines.
const stderrSource = "plugin_stderr"

// levelTrace is the slog level of hclog's trace records, below debug.
const levelTrace = slog.LevelDebug - 4

// hclogRecord is one of hclog's JSON lines as a slog record.
type hclogRecord struct {
	level slog.Level
	msg   string
	// module is the hclog module that go-plugin gave the record:
	// hclogName for its own records, hclogName + "." + the program's
	// base name for the plugin's stderr lines.
	module string
	// structured reports one of the plugin's JSON log lines, with its
	// level, message and fields, as stderrForwarder logs them.
	structured bool
	// fields holds the plugin's own fields of a structured line, or
	// go-plugin's fields of its own records. A plain line of the plugin
	// has none.
	fields map[string]any
	attrs  []slog.Attr
}

// parseHCLogLine parses one of hclog's JSON lines; ok is false for a line
// that is not a JSON object. module is the hclog module of the plugin's
// stderr lines, "" when it is not known.
//
// A plugin's fields cannot reach the top level of the record: they go
// into the pluginFieldsKey group.
func parseHCLogLine(line []byte, module string) (r hclogRecord, ok bool) {
	var raw map[string]any
	if err := json.Unmarshal(line, &raw); err != nil || raw == nil {
		return hclogRecord{}, false
	}
	r.level = hclogLevel(raw["@level"])
	r.msg, _ = raw["@message"].(string)
	r.module, _ = raw["@module"].(string)
	// stderrForwarder adds "timestamp", after the plugin's own fields, to
	// each of the plugin's hclog lines.
	_, r.structured = raw["timestamp"]
	delete(raw, "@level")
	delete(raw, "@message")
	delete(raw, "@timestamp")
	if r.structured {
		// "@module" is the plugin's own field if it gave one.
		delete(raw, "timestamp")
		if raw["@module"] == module {
			delete(raw, "@module")
		}
		r.module = module
	} else {
		delete(raw, "@module")
	}
	r.fields = raw
	r.attrs = recordAttrs(r)
	return r, true
}

// hclogLevel returns the slog level of hclog's "@level".
func hclogLevel(level any) slog.Level {
	switch level {
	case "trace":
		return levelTrace
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// recordAttrs returns the attributes of r: its module; for the plugin's
// lines, their source and the plugin's fields in the pluginFieldsKey
// group; for go-plugin's own records, go-plugin's fields. Fields are in
// key order.
func recordAttrs(r hclogRecord) []slog.Attr {
	fields := make([]slog.Attr, 0, len(r.fields))
	for _, k := range slices.Sorted(maps.Keys(r.fields)) {
		fields = append(fields, slog.Any(k, r.fields[k]))
	}
	attrs := make([]slog.Attr, 0, 3)
	if r.module != "" {
		attrs = append(attrs, slog.String("module", r.module))
	}
	if !r.structured && r.module == hclogName {
		return append(attrs, fields...)
	}
	attrs = append(attrs, slog.String("source", stderrSource))
	if len(fields) > 0 {
		attrs = append(attrs, slog.Attr{Key: pluginFieldsKey, Value: slog.GroupValue(fields...)})
	}
	return attrs
}

// logHCLogLine logs one of hclog's JSON lines as a slog record with its
// level, message and fields, unless start holds it; a line that is not
// JSON is logged as it is.
func logHCLogLine(l *slog.Logger, start *startLog, line []byte) {
	if len(line) == 0 {
		return
	}
	module := ""
	if start != nil {
		module = start.module
	}
	r, ok := parseHCLogLine(line, module)
	if !ok {
		l.Info(strings.ToValidUTF8(string(line), "\uFFFD"))
		return
	}
	if start != nil && start.hold(r) {
		return
	}
	l.LogAttrs(context.Background(), r.level, r.msg, r.attrs...)
}
