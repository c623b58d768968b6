package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

// StartupErrorField is the field of the one hclog JSON line with which a
// plugin that cannot start says why, before it exits: a sentence that
// names the cause. The Python SDK writes it, with the traceback in the
// field "traceback", when the plugin's module does not import or its
// class is refused.
const StartupErrorField = "startup_error"

// Bounds of what a launch keeps of the plugin's output before the
// handshake.
const (
	// maxStartLines is how many of the last lines are kept.
	maxStartLines = 20
	// maxStartBytes bounds the kept lines together.
	maxStartBytes = 64 << 10
	// maxQuotedLine bounds one line quoted in a start error.
	maxQuotedLine = 2 << 10
	// maxQuotedOutput bounds the output quoted in a start error.
	maxQuotedOutput = 4 << 10
)

// startLog watches what a plugin's process writes to stderr until the
// go-plugin handshake is over, to explain a start that fails.
//
// go-plugin logs each stderr line of the plugin through its hclog.Logger:
// one of hclog's JSON lines with its level and fields (and a "timestamp"
// field), any other line at debug level with the line as its message
// (parseHCLogLine parses those that are hclog JSON lines all the same).
// Until the handshake, startLog keeps the last lines (at most
// maxStartLines and maxStartBytes) and holds back the plain ones: when
// the start fails, they are logged at error level, so that a raw Python
// traceback shows at any log level; once the handshake is done, at their
// own level. A line pushed out of the window is logged at once, at its
// own level. JSON lines are logged as they come; the last one's
// StartupErrorField is kept.
type startLog struct {
	logger *slog.Logger
	// module is the hclog module of the plugin's plain stderr lines:
	// hclogName + "." + the program's base name.
	module string

	mu           sync.Mutex
	killing      bool        // the start failed and go-plugin is reaping the process
	over         bool        // the handshake is done, or the start failed
	lines        []startLine // oldest first
	size         int         // bytes of text in lines
	startupError string
}

// startLine is one line of the plugin's stderr.
type startLine struct {
	level slog.Level
	text  string
	attrs []slog.Attr
	held  bool // a plain line, not logged yet
}

// hold takes a record of go-plugin's logger. It keeps the plugin's lines
// until the handshake is over and reports whether it holds r back.
func (s *startLog) hold(r hclogRecord) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.over {
		return false
	}
	if !r.structured && r.module != s.module {
		// go-plugin's own record. Its Kill of a process that never
		// completed the handshake warns that it did not exit gracefully,
		// which misleads: drop it.
		return s.killing && r.msg == "plugin failed to exit gracefully"
	}
	cause, _ := r.fields[StartupErrorField].(string)
	if !r.structured {
		// A JSON line without a level comes as plain text.
		cause = plainStartupError(r.msg)
	}
	if cause != "" {
		s.startupError = cause
	}
	s.add(startLine{level: r.level, text: r.msg, attrs: r.attrs, held: !r.structured})
	return !r.structured
}

// plainStartupError returns the StartupErrorField of line, when line is a
// JSON object that has one: a line that is not an hclog JSON line.
func plainStartupError(line string) string {
	if !strings.HasPrefix(line, "{") {
		return ""
	}
	var fields map[string]any
	if json.Unmarshal([]byte(line), &fields) != nil {
		return ""
	}
	cause, _ := fields[StartupErrorField].(string)
	return cause
}

// add appends l, pushing the oldest lines out of the window. The caller
// holds s.mu.
func (s *startLog) add(l startLine) {
	s.lines = append(s.lines, l)
	s.size += len(l.text)
	for len(s.lines) > maxStartLines || (s.size > maxStartBytes && len(s.lines) > 1) {
		s.log(s.lines[0], s.lines[0].level)
		s.size -= len(s.lines[0].text)
		s.lines[0] = startLine{}
		s.lines = s.lines[1:]
	}
}

// log logs l at level if it is held. The caller holds s.mu.
func (s *startLog) log(l startLine, level slog.Level) {
	if l.held {
		s.logger.LogAttrs(context.Background(), level, l.text, l.attrs...)
	}
}

// kill marks the start as failed, before go-plugin's Kill reaps the
// process.
func (s *startLog) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killing = true
}

// handshake ends the watch after a handshake: the held lines are logged
// at their own level.
func (s *startLog) handshake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		s.log(l, l.level)
	}
	s.over, s.lines, s.size = true, nil, 0
}

// fail ends the watch after a failed start: the held lines are logged at
// error level. It returns the cause that the plugin gave, if any, and the
// last lines.
func (s *startLog) fail() (startupError string, output []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		s.log(l, max(l.level, slog.LevelError))
		output = append(output, l.text)
	}
	s.over, s.lines, s.size = true, nil, 0
	return s.startupError, output
}

// startError is the error of a process that did not get through the
// handshake: a message that names the cause, and go-plugin's error.
type startError struct {
	msg string
	err error
}

func (e *startError) Error() string { return e.msg }

func (e *startError) Unwrap() error { return e.err }

var (
	// noSDK matches the output of a Python that has no mattermost_plugin:
	// "No module named 'mattermost_plugin'", as -m of a submodule and an
	// import say it, or "No module named mattermost_plugin", as -m of the
	// package says it.
	noSDK = regexp.MustCompile(`No module named '?mattermost_plugin'?(?:[^.\w]|$)`)
	// oldSDK matches the output of a Python whose mattermost_plugin has
	// no ServeModule.
	oldSDK = regexp.MustCompile(`No module named '?` + regexp.QuoteMeta(ServeModule) + `'?(?:[^.\w]|$)`)
)

// unrecognized is how go-plugin's error starts when the first line of
// the plugin's stdout is not a handshake line.
const unrecognized = "Unrecognized remote plugin message: "

// explainStart returns the error of a process, run by cmd, that did not
// get through the handshake with go-plugin's error err. startupError and
// output are what the process wrote to stderr (see [startLog.fail]).
// cmd's process must be reaped.
func (s *Supervisor) explainStart(cmd *exec.Cmd, err error, startupError string, output []string) error {
	python := s.bundle.Manifest.Server.Python != nil
	what := "executable"
	if python {
		what = "Python interpreter"
	}
	var cause string
	all := strings.Join(output, "\n")
	stdoutLine, garbage := strings.CutPrefix(err.Error(), unrecognized)
	stdoutLine, _, _ = strings.Cut(stdoutLine, "\n")
	switch {
	case startupError != "":
		cause = startupError
	case python && noSDK.MatchString(all):
		cause = fmt.Sprintf("the plugin's Python (%s) cannot import mattermost_plugin: "+
			"install the SDK into it (pip install mattermost-plugin-sdk) or choose another interpreter with -python or server.python.venv", cmd.Path)
	case python && oldSDK.MatchString(all):
		cause = fmt.Sprintf("the plugin's Python (%s) has a mattermost_plugin without %s: "+
			"upgrade the SDK in it (pip install -U mattermost-plugin-sdk)", cmd.Path, ServeModule)
	case cmd.Process == nil && errors.Is(err, exec.ErrNotFound):
		cause = fmt.Sprintf("the plugin's %s %s is not on PATH", what, cmd.Path)
	case cmd.Process == nil && errors.Is(err, fs.ErrNotExist):
		cause = fmt.Sprintf("the plugin's %s %s does not exist", what, cmd.Path)
		if _, lerr := os.Lstat(cmd.Path); lerr == nil {
			cause = fmt.Sprintf("the plugin's %s %s cannot be run: the interpreter of its #! line, or its dynamic loader, does not exist", what, cmd.Path)
			if _, serr := os.Stat(cmd.Path); serr != nil {
				cause = fmt.Sprintf("the plugin's %s %s is a symbolic link to a file that does not exist", what, cmd.Path)
			}
		}
	case cmd.Process == nil:
		cause = fmt.Sprintf("the plugin's %s %s cannot be run: %v", what, cmd.Path, err)
	case garbage && strings.TrimSpace(stdoutLine) != "":
		cause = fmt.Sprintf("the plugin wrote %q to stdout before the handshake; stdout carries go-plugin's handshake line, "+
			"so write to stderr or log through the plugin's logger", apperror.Truncate(strings.TrimSpace(stdoutLine), maxQuotedLine))
	case refusedHandshake(err) != "":
		cause = refusedHandshake(err) + quoteOutput(output)
	case strings.Contains(err.Error(), "timeout while waiting for plugin to start"):
		cause = fmt.Sprintf("the plugin did not complete the handshake within %v", s.cfg.StartTimeout) + quoteOutput(output)
	case cmd.ProcessState != nil:
		cause = howItEnded(cmd.ProcessState) + quoteOutput(output)
	default:
		first, _, _ := strings.Cut(err.Error(), "\n")
		cause = first + quoteOutput(output)
	}
	return &startError{msg: fmt.Sprintf("supervisor: start plugin %s: %s", s.bundle.Manifest.ID, cause), err: err}
}

// go-plugin's errors for a handshake line that it read and refused.
var (
	otherAppVersion  = regexp.MustCompile(`incompatible API version with plugin\. Plugin version: (\S+), Client versions: \[(\d+)`)
	otherCoreVersion = regexp.MustCompile(`incompatible core API version with plugin\. Plugin version: (\S+), Core version: (\d+)`)
	otherProtocol    = regexp.MustCompile(`unsupported plugin protocol "(.*?)"`)
	badVersion       = regexp.MustCompile(`(?i)^error parsing (core )?protocol version`)
)

// refusedHandshake says why go-plugin refused the plugin's handshake
// line, or returns "" when err is not such a refusal.
func refusedHandshake(err error) string {
	text := err.Error()
	if m := otherAppVersion.FindStringSubmatch(text); m != nil {
		return fmt.Sprintf("the plugin's handshake speaks app protocol version %s; this host speaks version %s, "+
			"Mattermost's: build the plugin with an SDK of this protocol", m[1], m[2])
	}
	if m := otherCoreVersion.FindStringSubmatch(text); m != nil {
		return fmt.Sprintf("the plugin's handshake speaks go-plugin's core protocol version %s; this host speaks version %s", m[1], m[2])
	}
	if m := otherProtocol.FindStringSubmatch(text); m != nil {
		return fmt.Sprintf("the plugin serves go-plugin's %q protocol; this host speaks only %q",
			apperror.Truncate(m[1], maxQuotedLine), "grpc")
	}
	if badVersion.MatchString(text) {
		first, _, _ := strings.Cut(text, "\n")
		return "the plugin's handshake line does not parse: " + apperror.Truncate(first, maxQuotedLine)
	}
	return ""
}

// howItEnded says how a process that ended before the handshake ended.
func howItEnded(ps *os.ProcessState) string {
	sig, signaled := endingSignal(ps)
	switch {
	case signaled && sig == syscall.SIGKILL:
		// go-plugin kills the process once its stdout is closed, which a
		// process that exits may do before its exit status is known.
		return "the plugin exited before the handshake"
	case signaled:
		return fmt.Sprintf("the plugin was killed by %v before the handshake", sig)
	default:
		return fmt.Sprintf("the plugin exited before the handshake with status %d", ps.ExitCode())
	}
}

// quoteOutput returns the tail of output for an error message: at most
// maxQuotedOutput bytes, each line at most maxQuotedLine.
func quoteOutput(output []string) string {
	var tail []string
	size := 0
	for i := len(output) - 1; i >= 0; i-- {
		line := apperror.Truncate(output[i], maxQuotedLine)
		if size+len(line) > maxQuotedOutput && len(tail) > 0 {
			break
		}
		size += len(line) + 1
		tail = append(tail, line)
	}
	if len(tail) == 0 {
		return "; it wrote nothing to stderr"
	}
	var b strings.Builder
	b.WriteString("; its last output:")
	for i := len(tail) - 1; i >= 0; i-- {
		b.WriteString("\n")
		b.WriteString(tail[i])
	}
	return b.String()
}
