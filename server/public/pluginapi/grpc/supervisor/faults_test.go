package supervisor_test

// This file holds the supervisor's fault table: a plugin process that
// crashes mid-hook, hangs past the hook's deadline, is frozen by SIGSTOP,
// writes 50 MB of output, never completes the handshake, writes a wrong
// handshake line, or crashes soon after each activation; and a host that
// is killed -9 before the handshake, after it and mid-hook. The plugin is
// this test binary, run as a go-plugin Go plugin (see TestMain), so that
// the faults come at exact points of the protocol.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/supervisor"
)

// Variables of the test binary run as a plugin or as a host.
const (
	// faultPluginEnv makes the test binary a plugin; its value names the
	// plugin's fault (see serveFaultPlugin).
	faultPluginEnv = "SUPERVISOR_TEST_FAULT_PLUGIN"
	// faultFromEnv is the first start of the plugin that has a start
	// fault (no handshake, a wrong handshake line); 1 if unset.
	faultFromEnv = "SUPERVISOR_TEST_FAULT_FROM"
	// crashAfterEnv is how long after its activation a crash-loop plugin
	// exits.
	crashAfterEnv = "SUPERVISOR_TEST_CRASH_AFTER"
	// faultHostEnv makes the test binary a host of the plugin directory
	// that it names (see runFaultHost).
	faultHostEnv = "SUPERVISOR_TEST_FAULT_HOST"
	// hostFaultEnv is the fault of the host's plugin.
	hostFaultEnv = "SUPERVISOR_TEST_HOST_FAULT"
	// hostCallEnv names the hook call that the host makes once the plugin
	// runs; none if unset.
	hostCallEnv = "SUPERVISOR_TEST_HOST_CALL"
)

// Files that the fault plugin writes in its directory, one line a record.
const (
	// startsFile has a line per start: the process id and the socket
	// directory that the supervisor gave the process.
	startsFile = "starts"
	// callsFile has a line per ExecuteCommand call that reached the
	// plugin: the command.
	callsFile = "calls"
)

// Faults of the fault plugin.
const (
	faultNone           = "none"
	faultNoHandshake    = "no-handshake"
	faultWrongHandshake = "wrong-handshake"
	faultOtherVersion   = "other-version"
	faultCrashLoop      = "crash-loop"
)

func TestMain(m *testing.M) {
	if fault, ok := os.LookupEnv(faultPluginEnv); ok {
		serveFaultPlugin(fault)
		os.Exit(0)
	}
	if dir, ok := os.LookupEnv(faultHostEnv); ok {
		runFaultHost(dir)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveFaultPlugin serves the fault plugin with go-plugin, as a Go plugin
// of Mattermost does, after it records its start; from the start that
// faultFromEnv names, a start fault keeps it from serving.
func serveFaultPlugin(fault string) {
	n := appendLine(startsFile, fmt.Sprintf("%d %s", os.Getpid(), os.Getenv(plugin.EnvUnixSocketDir)))
	from, _ := strconv.Atoi(cmp.Or(os.Getenv(faultFromEnv), "1"))
	if n >= from {
		switch fault {
		case faultNoHandshake:
			sleepForever()
		case faultWrongHandshake:
			// A handshake line cut short.
			fmt.Println("1|1|unix")
			sleepForever()
		case faultOtherVersion:
			// A whole handshake line of another app protocol version.
			fmt.Println("1|99|unix|/nonexistent/plugin.sock|grpc")
			sleepForever()
		}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: supervisor.Handshake,
		Plugins:         plugin.PluginSet{"hooks": faultPlugin{fault: fault}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}

// sleepForever blocks without looking like a deadlock to the runtime.
func sleepForever() {
	for {
		time.Sleep(time.Hour)
	}
}

// appendLine appends line to the file name and returns how many lines the
// file has then.
func appendLine(name, line string) int {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		panic(err)
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		panic(err)
	}
	f.Close()
	data, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return bytes.Count(data, []byte("\n"))
}

// faultPlugin is the go-plugin Plugin of the fault plugin's hooks.
type faultPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	fault string
}

func (p faultPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginpb.RegisterPluginHooksServer(s, &faultHooks{fault: p.fault})
	return nil
}

func (faultPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("the fault plugin is not a host")
}

// faultHooks are the fault plugin's hooks. ExecuteCommand records each
// call, then acts on the command's first word: /crash exits at once,
// /hang never answers, /spew writes 50 MB of output before it answers,
// and any other command is answered "done " + the command.
type faultHooks struct {
	pluginpb.UnimplementedPluginHooksServer
	fault string
}

func (*faultHooks) Implemented(context.Context, *pluginpb.ImplementedRequest) (*pluginpb.ImplementedResponse, error) {
	return &pluginpb.ImplementedResponse{Hooks: []string{"ExecuteCommand", "OnActivate", "OnDeactivate"}}, nil
}

func (h *faultHooks) OnActivate(context.Context, *pluginpb.OnActivateRequest) (*pluginpb.OnActivateResponse, error) {
	if h.fault == faultCrashLoop {
		after, err := time.ParseDuration(os.Getenv(crashAfterEnv))
		if err != nil {
			panic(err)
		}
		go func() {
			time.Sleep(after)
			os.Exit(1)
		}()
	}
	return &pluginpb.OnActivateResponse{}, nil
}

func (*faultHooks) OnDeactivate(context.Context, *pluginpb.OnDeactivateRequest) (*pluginpb.OnDeactivateResponse, error) {
	return &pluginpb.OnDeactivateResponse{}, nil
}

func (*faultHooks) ExecuteCommand(_ context.Context, req *pluginpb.ExecuteCommandRequest) (*pluginpb.ExecuteCommandResponse, error) {
	command := req.GetArgs().GetCommand()
	appendLine(callsFile, command)
	switch verb, _, _ := strings.Cut(command, " "); verb {
	case "/crash":
		os.Exit(2)
	case "/hang":
		sleepForever()
	case "/spew":
		spew()
	case "/forge":
		forge()
	}
	return &pluginpb.ExecuteCommandResponse{Response: &pluginpb.CommandResponse{Text: "done " + command}}, nil
}

// Output of /spew.
const (
	spewMiB = 50
	// spewDone ends what /spew writes to each of its outputs.
	spewDone = "spew: the end of the output"
)

// spew writes spewMiB MiB: half to os.Stdout, which go-plugin's server
// streams to the host (SyncStdout), in lines of 1 KiB; half to the
// process's stderr, which the host reads as log lines, in lines of 1 KiB
// and one line of 12.5 MiB. Each output ends with spewDone.
func spew() {
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	half := spewMiB << 20 / 2
	stdout := bufio.NewWriter(os.Stdout)
	for range half / len(line) {
		stdout.Write(line)
	}
	stdout.WriteString(spewDone + "\n")
	stdout.Flush()
	stderr := bufio.NewWriter(os.NewFile(2, "stderr")) // go-plugin's Serve took os.Stderr for its stream
	for range half / 2 / len(line) {
		stderr.Write(line)
	}
	stderr.Write(bytes.Repeat([]byte("y"), half/2))
	stderr.WriteString("\n" + spewDone + "\n")
	stderr.Flush()
}

// forgedLines are what /forge writes to stderr: JSON lines whose hclog
// fields are not strings, which go-plugin's own parser panics on.
var forgedLines = []string{
	`{"@message": 1, "@level": "error"}`,
	`{"@message": "m", "@level": ["error"]}`,
	`{"@message": null}`,
	`{"@message": "forge: a number for a time", "@level": "warn", "@timestamp": 1700000000}`,
}

// forgedAfter is the hclog line that /forge writes after forgedLines.
const forgedAfter = "forge: a warning after the forged lines"

// forge writes forgedLines, then forgedAfter as an hclog warning, to the
// process's stderr.
func forge() {
	stderr := os.NewFile(2, "stderr") // go-plugin's Serve took os.Stderr for its stream
	for _, line := range forgedLines {
		fmt.Fprintln(stderr, line)
	}
	fmt.Fprintf(stderr, `{"@level":"warn","@message":%q,"@timestamp":%q}`+"\n",
		forgedAfter, time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
}

// faultBundle writes the fault plugin's directory: the test binary, linked
// as the plugin's executable, and its manifest.
func faultBundle(t *testing.T) *supervisor.Bundle {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(self, filepath.Join(dir, "fault-plugin")); err != nil {
		t.Fatal(err)
	}
	manifest := `{"id": "com.example.faults", "server": {"executable": "fault-plugin"}}`
	if err := os.WriteFile(filepath.Join(dir, supervisor.ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := supervisor.Load(dir)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	return b
}

// faultStart is one start of the fault plugin, as it recorded it.
type faultStart struct {
	pid       int
	socketDir string
}

// starts returns the starts that the fault plugin recorded in dir.
func starts(t *testing.T, dir string) []faultStart {
	t.Helper()
	var got []faultStart
	for _, line := range readLines(t, filepath.Join(dir, startsFile)) {
		pid, socketDir, _ := strings.Cut(line, " ")
		n, err := strconv.Atoi(pid)
		if err != nil {
			t.Fatalf("%s: %q", startsFile, line)
		}
		got = append(got, faultStart{pid: n, socketDir: socketDir})
	}
	return got
}

// calls returns how many times the fault plugin in dir received command.
func calls(t *testing.T, dir, command string) int {
	t.Helper()
	return strings.Count(strings.Join(readLines(t, filepath.Join(dir, callsFile)), "\n")+"\n", command+"\n")
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// alive reports whether the process pid runs: it exists and is not a
// zombie that nobody reaped yet.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// stopped reports whether every thread of the process pid is stopped.
func stopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		i := bytes.LastIndexByte(stat, ')')
		if err != nil || i < 0 || i+2 >= len(stat) || stat[i+2] != 'T' {
			return false
		}
	}
	return true
}

// eventually polls cond every 20 ms until it holds or limit passes, and
// reports whether it held.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// leftoverGoroutines returns the stacks of goroutines of the supervisor,
// of go-plugin and of gRPC clients.
func leftoverGoroutines() []string {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, marker := range []string{"/supervisor.(*Supervisor)", "/supervisor.spawn", "hashicorp/go-plugin.", "transport.(*http2Client)", "grpc.(*addrConn)"} {
			if strings.Contains(g, marker) {
				left = append(left, g)
				break
			}
		}
	}
	return left
}

// checkNothingLeft checks that nothing of the fault plugin in dir is left
// once the supervisor stopped or failed to start: no process, no socket
// directory (each start's was in tmp, which must be empty), no goroutine.
func checkNothingLeft(t *testing.T, dir, tmp string) {
	t.Helper()
	for _, s := range starts(t, dir) {
		if alive(s.pid) {
			t.Errorf("plugin process %d is still running", s.pid)
			syscall.Kill(s.pid, syscall.SIGKILL)
		}
		if filepath.Dir(s.socketDir) != tmp {
			t.Errorf("process %d had the socket directory %q, want one in TMPDIR %s", s.pid, s.socketDir, tmp)
		}
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in TMPDIR: %s", e.Name())
	}
	var left []string
	if !eventually(10*time.Second, func() bool { left = leftoverGoroutines(); return len(left) == 0 }) {
		t.Errorf("%d goroutines left:\n%s", len(left), strings.Join(left, "\n\n"))
	}
}

// shortTempDir makes a directory for the plugins' TMPDIR whose path is
// short enough for unix sockets in it, and sets TMPDIR to it.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "svfault")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("TMPDIR", dir)
	return dir
}

// logRecord is one record of the host log, its message cut to 200 bytes.
type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// recordingHandler is a slog.Handler that keeps the first records of the
// host log and measures all of them: the test plugin may log 50 MB.
type recordingHandler struct {
	attrs []slog.Attr
	log   *hostLog
}

type hostLog struct {
	mu      sync.Mutex
	records []logRecord
	count   int
	longest int
	// seen records spewDone: from stdout (true), from stderr (false).
	seen map[bool]bool
}

const maxKeptRecords = 2000

func newHostLog() (*slog.Logger, *hostLog) {
	l := &hostLog{seen: map[bool]bool{}}
	return slog.New(&recordingHandler{log: l}), l
}

func (*recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	add := func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	l := h.log
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	l.longest = max(l.longest, len(r.Message))
	if r.Message == spewDone {
		l.seen[rec.attrs["source"] == "plugin_stdout"] = true
	}
	if len(l.records) < maxKeptRecords {
		if len(rec.msg) > 200 {
			rec.msg = rec.msg[:200]
		}
		l.records = append(l.records, rec)
	}
	return nil
}

func (h *recordingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &recordingHandler{attrs: append(slices.Clip(h.attrs), attrs...), log: h.log}
}

func (h *recordingHandler) WithGroup(string) slog.Handler { return h }

// find returns the kept records with the message msg.
func (l *hostLog) find(msg string) []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []logRecord
	for _, r := range l.records {
		if r.msg == msg {
			found = append(found, r)
		}
	}
	return found
}

func (l *hostLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, r := range l.records {
		fmt.Fprintf(&b, "%v %q %v\n", r.level, r.msg, r.attrs)
	}
	return b.String()
}

// Outcomes of a fault for the supervisor.
const (
	running   = "running"   // the same process serves on
	restarted = "restarted" // a new process serves
	gaveUp    = "gave up"   // the supervisor gave up on the plugin
	notStart  = "not started"
)

// TestPluginFaults is the supervisor's fault table. For each fault it
// checks what happens to a hook call in flight (it fails with a clear
// error, does not hang past its deadline, and is neither retried nor
// duplicated), where the supervisor ends (the plugin still running,
// restarted, or given up on), and that it stays usable: a call after the
// fault is answered when the plugin runs, Stop returns, and no process,
// socket directory or goroutine is left.
func TestPluginFaults(t *testing.T) {
	const hookDeadline = time.Second
	tests := []struct {
		name  string
		fault string
		from  int // the first start with the start fault; 0 for 1
		cfg   func(*supervisor.Config)
		// before runs once the plugin is activated, before the call.
		before func(t *testing.T, pid int)
		// call is the ExecuteCommand in flight during the fault, made on
		// the first process; reached waits until the plugin has it before
		// the fault goes on.
		call string
		// wantCodes are the codes that the call may fail with; OK means an
		// answer.
		wantCodes []codes.Code
		// wantSeen is how many times the plugin received the call; -1 for
		// at most once.
		wantSeen     int
		want         string // running, restarted, gaveUp or notStart
		wantRestarts int
		wantStarts   int
		wantErr      string // in Start's error (notStart) or in Failed's
		wantLog      string // a message of the host log at error level
	}{
		{
			name: "crash mid-hook", fault: faultNone,
			call: "/crash", wantCodes: []codes.Code{codes.Unavailable}, wantSeen: 1,
			want: restarted, wantRestarts: 1, wantStarts: 2, wantLog: "plugin process exited; restarting it",
		},
		{
			name: "hang past the hook's deadline", fault: faultNone,
			call: "/hang", wantCodes: []codes.Code{codes.DeadlineExceeded}, wantSeen: 1,
			want: running, wantStarts: 1, wantLog: "plugin hook failed",
		},
		{
			name: "SIGSTOP", fault: faultNone,
			cfg: func(c *supervisor.Config) { c.HealthCheckInterval = time.Second },
			before: func(t *testing.T, pid int) {
				if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
				// The signal takes effect a moment later.
				if !eventually(10*time.Second, func() bool { return stopped(pid) }) {
					t.Fatalf("process %d did not stop", pid)
				}
			},
			// The call fails at its deadline, or when the health check
			// kills the frozen process, if that comes first.
			call: "/echo", wantCodes: []codes.Code{codes.DeadlineExceeded, codes.Unavailable}, wantSeen: 0,
			want: restarted, wantRestarts: 1, wantStarts: 2, wantLog: "plugin failed its health check; restarting it",
		},
		{
			name: "50 MB of output", fault: faultNone,
			cfg: func(c *supervisor.Config) {
				c.HookOptions = append(c.HookOptions, hooks.WithHookTimeout("ExecuteCommand", 2*time.Minute))
			},
			call: "/spew", wantCodes: []codes.Code{codes.OK}, wantSeen: 1,
			want: running, wantStarts: 1,
		},
		{
			// go-plugin's parser of stderr lines panics on these, which
			// ended the host.
			name: "hclog lines with fields that are not strings", fault: faultNone,
			call: "/forge", wantCodes: []codes.Code{codes.OK}, wantSeen: 1,
			want: running, wantStarts: 1,
		},
		{
			name: "a handshake of another protocol version", fault: faultOtherVersion,
			want: notStart, wantStarts: 1,
			wantErr: "the plugin's handshake speaks app protocol version 99; this host speaks version 1",
			wantLog: "plugin failed to start",
		},
		{
			name: "no handshake", fault: faultNoHandshake,
			want: notStart, wantStarts: 1, wantErr: "the plugin did not complete the handshake within 3s",
			wantLog: "plugin failed to start",
		},
		{
			name: "no handshake on a restart", fault: faultNoHandshake, from: 2,
			call: "/crash", wantCodes: []codes.Code{codes.Unavailable}, wantSeen: 1,
			// The crash, then two restarts that fail.
			want: gaveUp, wantStarts: 3, wantErr: "the plugin did not complete the handshake within 3s",
			wantLog: "plugin failed to stay running",
		},
		{
			name: "a wrong handshake line", fault: faultWrongHandshake,
			want: notStart, wantStarts: 1, wantErr: `the plugin wrote "1|1|unix" to stdout before the handshake`,
			wantLog: "plugin failed to start",
		},
		{
			name: "a wrong handshake line on a restart", fault: faultWrongHandshake, from: 2,
			call: "/crash", wantCodes: []codes.Code{codes.Unavailable}, wantSeen: 1,
			want: gaveUp, wantStarts: 3, wantErr: `the plugin wrote "1|1|unix" to stdout before the handshake`,
			wantLog: "plugin failed to stay running",
		},
		{
			name: "a crash loop", fault: faultCrashLoop,
			// The call hangs until the process exits, 300 ms after its
			// activation; it may come after.
			call: "/hang", wantCodes: []codes.Code{codes.Unavailable}, wantSeen: -1,
			want: gaveUp, wantRestarts: 2, wantStarts: 3, wantErr: "the plugin process exited with status 1",
			wantLog: "plugin failed to stay running",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := faultBundle(t)
			a := startAPI(t)
			tmp := shortTempDir(t)
			logger, hostLog := newHostLog()
			cfg := supervisor.Config{
				APITarget:           a.target,
				APIToken:            testToken,
				Logger:              logger,
				StartTimeout:        3 * time.Second, // the bound of the starts without a handshake
				StopGrace:           time.Second,
				MinBackoff:          50 * time.Millisecond,
				HealthCheckInterval: -1,
				HookOptions:         []hooks.Option{hooks.WithHookTimeout("ExecuteCommand", hookDeadline)},
				Env: []string{
					faultPluginEnv + "=" + tc.fault,
					faultFromEnv + "=" + strconv.Itoa(cmp.Or(tc.from, 1)),
					crashAfterEnv + "=300ms",
				},
			}
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			sup, err := supervisor.Start(context.Background(), b, cfg)
			if tc.want == notStart {
				if err == nil {
					sup.Stop(context.Background())
					t.Fatal("Start() succeeded")
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Start() = %v, want an error with %q", err, tc.wantErr)
				}
			} else {
				if err != nil {
					t.Fatalf("Start() = %v\nlog:\n%s", err, hostLog)
				}
				checkFault(t, sup, b.Dir, hostLog, tc.before, tc.call, tc.wantCodes, tc.wantSeen)
				checkOutcome(t, sup, b.Dir, hostLog, tc.want, tc.wantRestarts, tc.wantErr)
				stopped := make(chan error, 1)
				go func() { stopped <- sup.Stop(context.Background()) }()
				select {
				case <-stopped:
				case <-time.After(30 * time.Second):
					t.Fatalf("Stop() did not return\nlog:\n%s", hostLog)
				}
			}
			// No restart after Stop, or after the supervisor gave up.
			if got := len(starts(t, b.Dir)); got != tc.wantStarts {
				t.Errorf("the plugin started %d times, want %d\nlog:\n%s", got, tc.wantStarts, hostLog)
			}
			if tc.wantLog != "" && !slices.ContainsFunc(hostLog.find(tc.wantLog), func(r logRecord) bool {
				return r.level == slog.LevelError && r.attrs["plugin_id"] == "com.example.faults"
			}) {
				t.Errorf("the host log lacks %q at error level with the plugin's id:\n%s", tc.wantLog, hostLog)
			}
			switch tc.call {
			case "/spew":
				checkSpew(t, hostLog)
			case "/forge":
				checkForged(t, hostLog)
			}
			checkNothingLeft(t, b.Dir, tmp)
		})
	}
}

// checkFault makes the call on the plugin's process while the fault
// happens and checks its outcome.
func checkFault(t *testing.T, sup *supervisor.Supervisor, dir string, hostLog *hostLog, before func(*testing.T, int), call string, wantCodes []codes.Code, wantSeen int) {
	t.Helper()
	client := sup.Client()
	if before != nil {
		before(t, sup.Pid())
	}
	if call == "" {
		return
	}
	command := call + " in flight"
	type result struct {
		resp *pluginpb.CommandResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := client.ExecuteCommand(context.Background(), nil, &pluginpb.CommandArgs{Command: command})
		done <- result{resp, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the call %q hangs\nlog:\n%s", command, hostLog)
	}
	switch code := status.Code(r.err); {
	case !slices.Contains(wantCodes, code):
		t.Errorf("ExecuteCommand(%q) = %v, %v; want a code in %v", command, r.resp, r.err, wantCodes)
	case code == codes.OK && r.resp.GetText() != "done "+command:
		t.Errorf("ExecuteCommand(%q) = %v", command, r.resp)
	case code != codes.OK:
		var callErr *hooks.CallError
		if !errors.As(r.err, &callErr) {
			t.Errorf("ExecuteCommand(%q) error = %#v, want a *hooks.CallError", command, r.err)
		}
	}
	// A call is never retried: not on the process that failed, nor on a
	// new one.
	if seen := calls(t, dir, command); seen != wantSeen && (wantSeen >= 0 || seen > 1) {
		t.Errorf("the plugin received the call %d times, want %d", seen, wantSeen)
	}
}

// checkOutcome waits until the supervisor reaches the outcome want and
// checks it.
func checkOutcome(t *testing.T, sup *supervisor.Supervisor, dir string, hostLog *hostLog, want string, wantRestarts int, wantErr string) {
	t.Helper()
	reached := eventually(time.Minute, func() bool {
		switch want {
		case restarted:
			return sup.Restarts() > 0 && sup.Client() != nil
		case gaveUp:
			return sup.Failed() != nil
		}
		return true
	})
	if !reached {
		t.Fatalf("the supervisor did not reach %q: Restarts() = %d, Failed() = %v\nlog:\n%s", want, sup.Restarts(), sup.Failed(), hostLog)
	}
	if got := sup.Restarts(); got != wantRestarts {
		t.Errorf("Restarts() = %d, want %d", got, wantRestarts)
	}
	all := starts(t, dir)
	switch err := sup.Failed(); want {
	case gaveUp:
		if !strings.Contains(err.Error(), "failed 3 times within 1h0m0s and is not restarted") || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Failed() = %v, want it to say that it failed 3 times, and %q", err, wantErr)
		}
		if sup.Client() != nil || sup.Pid() != 0 {
			t.Errorf("Client() = %v, Pid() = %d after the supervisor gave up", sup.Client(), sup.Pid())
		}
		// The plugin's hooks fail open.
		if resp, err := sup.Hooks().ExecuteCommand(context.Background(), nil, &pluginpb.CommandArgs{Command: "/echo after"}); resp != nil || err != nil {
			t.Errorf("ExecuteCommand after the supervisor gave up = %v, %v; want nil, nil", resp, err)
		}
	default:
		if err != nil {
			t.Errorf("Failed() = %v", err)
		}
		if pid := sup.Pid(); pid != all[len(all)-1].pid {
			t.Errorf("Pid() = %d, want the last started process %d", pid, all[len(all)-1].pid)
		}
		resp, err := sup.Hooks().ExecuteCommand(context.Background(), nil, &pluginpb.CommandArgs{Command: "/echo after"})
		if err != nil || resp.GetText() != "done /echo after" {
			t.Errorf("ExecuteCommand after the fault = %v, %v", resp, err)
		}
	}
	for _, s := range all[:len(all)-1] {
		if alive(s.pid) {
			t.Errorf("the failed process %d is still running", s.pid)
		}
		if _, err := os.Stat(s.socketDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the failed process %d left its socket directory: %v", s.pid, err)
		}
	}
}

// checkForged checks the host log after /forge: each forged line is a
// plain line at debug level, and the warning after them keeps its level.
func checkForged(t *testing.T, hostLog *hostLog) {
	t.Helper()
	if !eventually(time.Minute, func() bool { return len(hostLog.find(forgedAfter)) > 0 }) {
		t.Fatalf("the host log lacks %q:\n%s", forgedAfter, hostLog)
	}
	if r := hostLog.find(forgedAfter)[0]; r.level != slog.LevelWarn {
		t.Errorf("%q was logged at %v, want WARN", forgedAfter, r.level)
	}
	// go-plugin would have taken the last line as plain text; the host
	// keeps the level of an hclog line whatever its time.
	if found := hostLog.find("forge: a number for a time"); len(found) != 1 || found[0].level != slog.LevelWarn {
		t.Errorf("the line with a number for its time was logged as %v, want once at WARN", found)
	}
	for _, line := range forgedLines[:len(forgedLines)-1] {
		found := hostLog.find(line)
		if len(found) != 1 || found[0].level != slog.LevelDebug {
			t.Errorf("the forged line %s was logged as %v, want once at DEBUG", line, found)
		}
	}
}

// checkSpew checks the host log after /spew: the output reached it to its
// end on both outputs, each record bounded.
func checkSpew(t *testing.T, hostLog *hostLog) {
	t.Helper()
	for _, stdout := range []bool{true, false} {
		if !eventually(time.Minute, func() bool {
			hostLog.mu.Lock()
			defer hostLog.mu.Unlock()
			return hostLog.seen[stdout]
		}) {
			t.Errorf("the host log lacks the end of the output (stdout %v)", stdout)
		}
	}
	hostLog.mu.Lock()
	defer hostLog.mu.Unlock()
	if hostLog.longest > 64<<10 {
		t.Errorf("a host log record holds %d bytes", hostLog.longest)
	}
	t.Logf("50 MiB of output: %d host log records, the longest %d bytes", hostLog.count, hostLog.longest)
}

// TestCrashLoopBackoff: the wait before a restart doubles across crashes
// that follow quick starts, and is MinBackoff again after a run longer
// than HealthyRun. Waits are read from the log, not measured.
func TestCrashLoopBackoff(t *testing.T) {
	tests := []struct {
		name       string
		crashAfter time.Duration
		healthyRun time.Duration
		want       []string // retry_in of each restart
	}{
		{"quick crashes", 100 * time.Millisecond, time.Minute, []string{"50ms", "100ms", "200ms", "400ms"}},
		{"crashes after a healthy run", time.Second, 100 * time.Millisecond, []string{"50ms", "50ms", "50ms", "50ms"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := faultBundle(t)
			logger, hostLog := newHostLog()
			var failed []error
			var mu sync.Mutex
			sup, err := supervisor.Start(context.Background(), b, supervisor.Config{
				Logger:              logger,
				StopGrace:           time.Second,
				MinBackoff:          50 * time.Millisecond,
				HealthyRun:          tc.healthyRun,
				FailureLimit:        5,
				HealthCheckInterval: -1,
				OnFailed: func(err error) {
					mu.Lock()
					defer mu.Unlock()
					failed = append(failed, err)
				},
				Env: []string{faultPluginEnv + "=" + faultCrashLoop, crashAfterEnv + "=" + tc.crashAfter.String()},
			})
			if err != nil {
				t.Fatalf("Start() = %v", err)
			}
			defer sup.Stop(context.Background())
			if !eventually(time.Minute, func() bool { return sup.Failed() != nil }) {
				t.Fatalf("the supervisor did not give up\nlog:\n%s", hostLog)
			}
			var got []string
			for _, r := range hostLog.find("plugin process exited; restarting it") {
				got = append(got, r.attrs["retry_in"])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("retry_in = %v, want %v\nlog:\n%s", got, tc.want, hostLog)
			}
			if sup.Restarts() != 4 || len(starts(t, b.Dir)) != 5 {
				t.Errorf("Restarts() = %d, %d starts; want 4 restarts of 5 starts", sup.Restarts(), len(starts(t, b.Dir)))
			}
			mu.Lock()
			defer mu.Unlock()
			if len(failed) != 1 || failed[0] != sup.Failed() {
				t.Errorf("OnFailed got %v; want Failed() = %v once", failed, sup.Failed())
			}
			if !strings.Contains(sup.Failed().Error(), "failed 5 times within 1h0m0s") {
				t.Errorf("Failed() = %v", sup.Failed())
			}
		})
	}
}

// TestFailuresOutsideTheWindow: failures further apart than the window
// allows never make the supervisor give up.
func TestFailuresOutsideTheWindow(t *testing.T) {
	b := faultBundle(t)
	logger, hostLog := newHostLog()
	// Each process runs at least 1 s after its activation, so three
	// failures span at least 2 s.
	sup, err := supervisor.Start(context.Background(), b, supervisor.Config{
		Logger:              logger,
		StopGrace:           time.Second,
		MinBackoff:          50 * time.Millisecond,
		FailureWindow:       1500 * time.Millisecond,
		HealthCheckInterval: -1,
		Env:                 []string{faultPluginEnv + "=" + faultCrashLoop, crashAfterEnv + "=1s"},
	})
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	defer sup.Stop(context.Background())
	if !eventually(time.Minute, func() bool { return sup.Restarts() >= 4 || sup.Failed() != nil }) {
		t.Fatalf("Restarts() = %d\nlog:\n%s", sup.Restarts(), hostLog)
	}
	if err := sup.Failed(); err != nil {
		t.Errorf("Failed() = %v after failures %v apart, further than the window allows", err, time.Second)
	}
}

// hostStarted is what the fault host prints once the plugin is activated.
const hostStarted = "the fault host started the plugin"

// runFaultHost is the test binary run as a host: it starts the plugin of
// the directory dir under a supervisor, makes the call of hostCallEnv,
// if any, and waits to be killed.
func runFaultHost(dir string) {
	b, err := supervisor.Load(dir)
	if err != nil {
		panic(err)
	}
	sup, err := supervisor.Start(context.Background(), b, supervisor.Config{
		StartTimeout:        time.Hour,
		HealthCheckInterval: -1,
		HookOptions:         []hooks.Option{hooks.WithTimeout(time.Hour)},
		Env:                 []string{faultPluginEnv + "=" + os.Getenv(hostFaultEnv)},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(hostStarted)
	if call := os.Getenv(hostCallEnv); call != "" {
		sup.Hooks().ExecuteCommand(context.Background(), nil, &pluginpb.CommandArgs{Command: call})
	}
	sleepForever()
}

// TestPluginDiesWithItsHost kills the host with SIGKILL before the
// plugin's handshake, after it, and during a hook call: the plugin, a Go
// plugin that does not watch its parent, must end all the same.
func TestPluginDiesWithItsHost(t *testing.T) {
	tests := []struct {
		name  string
		fault string
		call  string // the host's call, in flight when it is killed
	}{
		{"before the handshake", faultNoHandshake, ""},
		{"after the handshake", faultNone, ""},
		{"mid-hook", faultNone, "/hang"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := faultBundle(t)
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			host := exec.Command(self)
			host.Env = append(os.Environ(), faultHostEnv+"="+b.Dir, hostFaultEnv+"="+tc.fault, hostCallEnv+"="+tc.call)
			hostOutput := &testenv.SyncBuffer{}
			host.Stdout, host.Stderr = hostOutput, hostOutput
			if err := host.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { host.Process.Kill(); host.Wait() })
			// The plugin records its start, then its call; the host says
			// when the plugin is activated.
			ready := func() bool {
				switch {
				case tc.call != "":
					return calls(t, b.Dir, tc.call) == 1
				case tc.fault == faultNone:
					return strings.Contains(hostOutput.String(), hostStarted)
				}
				return len(starts(t, b.Dir)) == 1
			}
			if !eventually(time.Minute, ready) {
				t.Fatalf("the plugin did not get ready; the host's output:\n%s", hostOutput)
			}
			pid := starts(t, b.Dir)[0].pid
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
			if err := host.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			host.Wait()
			if !eventually(10*time.Second, func() bool { return !alive(pid) }) {
				t.Errorf("the plugin (pid %d) outlived its killed host by 10 s", pid)
			}
		})
	}
}
