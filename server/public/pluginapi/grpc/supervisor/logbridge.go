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
// plugin's stderr among them, go to l with their level and fields.
func newHCLogger(l *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "plugin",
		Level:      hclog.Debug,
		Output:     &lineWriter{emit: func(line []byte) { logHCLogLine(l, line) }},
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

// logHCLogLine logs one of hclog's JSON lines as a slog record with its
// level, message and fields; a line that is not JSON is logged as it is.
func logHCLogLine(l *slog.Logger, line []byte) {
	if len(line) == 0 {
		return
	}
	var entry map[string]any
	if err := json.Unmarshal(line, &entry); err != nil {
		l.Info(strings.ToValidUTF8(string(line), "\uFFFD"))
		return
	}
	level := slog.LevelInfo
	switch entry["@level"] {
	case "trace", "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	msg, _ := entry["@message"].(string)
	attrs := make([]slog.Attr, 0, len(entry))
	for k, v := range entry {
		switch k {
		case "@level", "@message", "@timestamp":
			continue
		case "@module":
			k = "module"
		}
		attrs = append(attrs, slog.Any(k, v))
	}
	l.LogAttrs(context.Background(), level, msg, attrs...)
}
