package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
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
	return hclog.New(&hclog.LoggerOptions{
		Name:       hclogName,
		Level:      hclog.Debug,
		Output:     &lineWriter{emit: func(line []byte) { logHCLogLine(l, start, line) }},
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

// hclogRecord is one of hclog's JSON lines as a slog record.
type hclogRecord struct {
	level slog.Level
	msg   string
	attrs []slog.Attr
	// fields holds the line's JSON object.
	fields map[string]any
}

// parseHCLogLine parses one of hclog's JSON lines; ok is false for a line
// that is not a JSON object.
func parseHCLogLine(line []byte) (r hclogRecord, ok bool) {
	if err := json.Unmarshal(line, &r.fields); err != nil || r.fields == nil {
		return hclogRecord{}, false
	}
	r.level = slog.LevelInfo
	switch r.fields["@level"] {
	case "trace", "debug":
		r.level = slog.LevelDebug
	case "warn":
		r.level = slog.LevelWarn
	case "error":
		r.level = slog.LevelError
	}
	r.msg, _ = r.fields["@message"].(string)
	r.attrs = make([]slog.Attr, 0, len(r.fields))
	for k, v := range r.fields {
		switch k {
		case "@level", "@message", "@timestamp":
			continue
		case "@module":
			k = "module"
		}
		r.attrs = append(r.attrs, slog.Any(k, v))
	}
	return r, true
}

// logHCLogLine logs one of hclog's JSON lines as a slog record with its
// level, message and fields, unless start holds it; a line that is not
// JSON is logged as it is.
func logHCLogLine(l *slog.Logger, start *startLog, line []byte) {
	if len(line) == 0 {
		return
	}
	r, ok := parseHCLogLine(line)
	if !ok {
		l.Info(strings.ToValidUTF8(string(line), "\uFFFD"))
		return
	}
	if start != nil && start.hold(r) {
		return
	}
	l.LogAttrs(context.Background(), r.level, r.msg, r.attrs...)
}
