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
		Output:     &slogWriter{logger: l},
		JSONFormat: true,
	})
}

// slogWriter turns hclog's JSON lines into slog records.
type slogWriter struct {
	logger *slog.Logger
	mu     sync.Mutex
	buf    []byte
}

func (w *slogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > maxLogLine {
				w.emit(w.buf)
				w.buf = w.buf[:0]
			}
			return len(p), nil
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

func (w *slogWriter) emit(line []byte) {
	if len(line) == 0 {
		return
	}
	if len(line) > maxLogLine {
		line = line[:maxLogLine]
	}
	var entry map[string]any
	if err := json.Unmarshal(line, &entry); err != nil {
		w.logger.Info(strings.ToValidUTF8(string(line), "\uFFFD"))
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
	w.logger.LogAttrs(context.Background(), level, msg, attrs...)
}

// lineLogger is an io.Writer that logs each line written to it.
type lineLogger struct {
	logger *slog.Logger
	attr   slog.Attr
	mu     sync.Mutex
	buf    []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 || len(w.buf) > maxLogLine {
			if i < 0 && len(w.buf) <= maxLogLine {
				return len(p), nil
			}
			if i < 0 {
				i = len(w.buf)
			}
		}
		line := w.buf[:min(i, maxLogLine)]
		w.logger.LogAttrs(context.Background(), slog.LevelInfo, strings.ToValidUTF8(string(line), "\uFFFD"), w.attr)
		if i >= len(w.buf) {
			w.buf = w.buf[:0]
			return len(p), nil
		}
		w.buf = w.buf[i+1:]
	}
}
