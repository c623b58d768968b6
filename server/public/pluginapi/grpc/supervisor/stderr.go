package supervisor

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"
)

// A plugin's stderr is read by go-plugin, which logs each line through
// the logger it names after the plugin's program (logStderr in
// go-plugin's client.go). It parses a JSON line with a parser that
// asserts that "@message", "@level" and "@timestamp" are strings
// (parseJSON in its log_entry.go): one line such as {"@message": 1} would
// panic the goroutine that reads the stderr and end the host. So the
// logger given to go-plugin answers that name with a logger whose level
// is Off, which makes go-plugin copy each line to ClientConfig.Stderr and
// parse nothing, and a stderrForwarder there logs the line as go-plugin
// would have, without the panic.

// goPluginTimeLayout is the only layout of "@timestamp" that go-plugin
// accepts in a plugin's hclog JSON line.
const goPluginTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// quietStderrLogger is the hclog.Logger given to go-plugin: it is the
// host's logger, except that the logger it names program is off.
type quietStderrLogger struct {
	hclog.Logger
	program string
}

// Named returns the named logger; the one of the plugin's program is off.
func (l quietStderrLogger) Named(name string) hclog.Logger {
	named := l.Logger.Named(name)
	if name == l.program {
		return offLogger{named}
	}
	return named
}

// offLogger reports the level Off, which go-plugin checks before it
// parses a stderr line; what it is asked to log still goes to the logger
// it wraps.
type offLogger struct{ hclog.Logger }

// GetLevel returns hclog.Off.
func (offLogger) GetLevel() hclog.Level { return hclog.Off }

// stderrForwarder logs the lines of a plugin's stderr through log, the
// logger named after the plugin's program, much as go-plugin's logStderr
// does: an hclog JSON line with its level, message and fields, and a
// "timestamp" field that marks it as the plugin's structured line; any
// other line at debug level, or at the level that its "[LEVEL]" prefix
// names, and from a line starting "panic: " or "fatal error: " on, at
// error level.
//
// It differs from go-plugin in two ways: a JSON line whose "@message" or
// "@level" is not a string is a plain line rather than a panic of the
// host, and a line keeps its level whatever its "@timestamp" (go-plugin
// parses only one layout, and logs any other line at debug level).
//
// Its forward method is the emit of a lineWriter, which calls it for one
// line at a time.
type stderrForwarder struct {
	log     hclog.Logger
	inPanic bool
}

// forward logs one line of the plugin's stderr.
func (f *stderrForwarder) forward(line []byte) {
	if msg, level, kv, ok := hclogJSONLine(line); ok {
		f.log.Log(level, msg, kv...)
		return
	}
	text := string(line)
	for _, p := range []struct {
		prefix string
		log    func(string, ...any)
	}{
		{"[TRACE]", f.log.Trace},
		{"[DEBUG]", f.log.Debug},
		{"[INFO]", f.log.Info},
		{"[WARN]", f.log.Warn},
		{"[ERROR]", f.log.Error},
	} {
		if bytes.HasPrefix(line, []byte(p.prefix)) {
			p.log(text)
			return
		}
	}
	if bytes.HasPrefix(line, []byte("panic: ")) || bytes.HasPrefix(line, []byte("fatal error: ")) {
		f.inPanic = true
	}
	if f.inPanic {
		f.log.Error(text)
		return
	}
	f.log.Debug(text)
}

// hclogJSONLine parses line as an hclog JSON line: its message, its
// level, and its other fields, in key order, as key-value pairs followed
// by "timestamp" (the line's "@timestamp" when it has go-plugin's layout,
// else the zero time). ok is false for a line that is not a JSON object,
// whose "@message" is not a string, or whose "@level" is not a string
// naming one of hclog's levels (Off excepted).
func hclogJSONLine(line []byte) (msg string, level hclog.Level, kv []any, ok bool) {
	if !bytes.HasPrefix(bytes.TrimLeft(line, " \t"), []byte("{")) {
		return "", hclog.NoLevel, nil, false
	}
	var raw map[string]any
	if err := json.Unmarshal(line, &raw); err != nil || raw == nil {
		return "", hclog.NoLevel, nil, false
	}
	msg, isText := raw["@message"].(string)
	levelName, _ := raw["@level"].(string)
	level = hclog.LevelFromString(levelName)
	if !isText || level == hclog.NoLevel || level == hclog.Off {
		return "", hclog.NoLevel, nil, false
	}
	var when time.Time
	if stamp, isText := raw["@timestamp"].(string); isText {
		if t, err := time.Parse(goPluginTimeLayout, stamp); err == nil {
			when = t
		}
	}
	delete(raw, "@message")
	delete(raw, "@level")
	delete(raw, "@timestamp")
	kv = make([]any, 0, 2*len(raw)+2)
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		kv = append(kv, k, raw[k])
	}
	kv = append(kv, "timestamp", when.Format(hclog.TimeFormat))
	return msg, level, kv, true
}
