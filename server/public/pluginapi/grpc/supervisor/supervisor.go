package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/wire"
)

// Handshake is the go-plugin handshake of Mattermost plugins: protocol
// version 1 and Mattermost's magic cookie.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "MATTERMOST_PLUGIN",
	MagicCookieValue: "Securely message teams, anywhere.",
}

// pluginName is the name under which the hooks are dispensed, as upstream.
const pluginName = "hooks"

// ManifestEnv names the manifest's path in the plugin's environment.
const ManifestEnv = "MATTERMOST_PLUGIN_MANIFEST"

// Defaults of [Config].
const (
	DefaultStartTimeout      = 10 * time.Second
	DefaultDeactivateTimeout = 10 * time.Second
	DefaultStopGrace         = 2 * time.Second
	DefaultMinBackoff        = 100 * time.Millisecond
	DefaultMaxBackoff        = 30 * time.Second
	// DefaultHealthCheckInterval is how often a running plugin is pinged,
	// as Mattermost's health check job does.
	DefaultHealthCheckInterval = 30 * time.Second
	// healthCheckPings is how many failed pings in a row make a plugin
	// unhealthy, as upstream.
	healthCheckPings = 3
	// maxPingTimeout bounds one ping of the health check.
	maxPingTimeout = 5 * time.Second
	// DefaultHealthyRun is how long a process must run for the restart
	// backoff to reset.
	DefaultHealthyRun = time.Minute
	// DefaultFailureLimit is how many failures within the failure window
	// make the supervisor give up on a plugin: Mattermost's
	// HealthCheckNumRestartsLimit.
	DefaultFailureLimit = 3
	// DefaultFailureWindow is the failure window: Mattermost's
	// HealthCheckDeactivationWindow.
	DefaultFailureWindow = time.Hour
)

// Config configures a [Supervisor].
type Config struct {
	// APITarget is the gRPC target of the Plugin API that the plugin calls,
	// such as "unix:///tmp/x/pluginapi.sock".
	APITarget string
	// APIToken is the plugin's token for the Plugin API.
	APIToken string
	// Python is the interpreter for Python plugins whose manifest names
	// none; empty means "python3" on PATH. A name without a path separator
	// is looked up on PATH; a relative path is taken relative to the
	// host's working directory, not the plugin's.
	Python string
	// Logger receives the supervisor's log and the plugin's output, with
	// the plugin's id; nil discards them.
	Logger *slog.Logger
	// StartTimeout bounds the wait for the handshake; 0 means
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// DeactivateTimeout bounds OnDeactivate when stopping; 0 means
	// DefaultDeactivateTimeout, Mattermost's cap.
	DeactivateTimeout time.Duration
	// StopGrace is how long each step of a graceful stop waits for the
	// process to exit; 0 means DefaultStopGrace.
	StopGrace time.Duration
	// MinBackoff and MaxBackoff bound the wait before a restart. The
	// wait doubles after each failed start and after each exit of a
	// process that ran less than HealthyRun; it is MinBackoff again after
	// a process that ran longer. 0 means the defaults.
	MinBackoff, MaxBackoff time.Duration
	// HealthyRun is how long a process must run after its activation for
	// its exit to restart the backoff from MinBackoff; 0 means
	// DefaultHealthyRun.
	HealthyRun time.Duration
	// FailureLimit and FailureWindow: when the plugin fails FailureLimit
	// times within FailureWindow, the supervisor gives up on it, as
	// Mattermost's health check job does: it stops restarting it and
	// reports it as failed to stay running ([Supervisor.Failed]). A
	// failure is an exit of the process, however soon after its
	// activation, a failed health check, or a restart that does not get
	// the plugin activated. 0 means DefaultFailureLimit and
	// DefaultFailureWindow; a negative FailureLimit never gives up.
	FailureLimit  int
	FailureWindow time.Duration
	// OnFailed, if set, is called once when the supervisor gives up on the
	// plugin, with the error that [Supervisor.Failed] returns from then
	// on. It runs on the supervisor's goroutine: it must not call Stop.
	OnFailed func(err error)
	// AutoMTLS secures the connection to the plugin with go-plugin's
	// automatic mutual TLS.
	AutoMTLS bool
	// HealthCheckInterval is how often the running process is pinged
	// (go-plugin's health check); a process that fails three pings in a
	// row is killed and restarted. 0 means DefaultHealthCheckInterval; a
	// negative value turns the check off.
	HealthCheckInterval time.Duration
	// HookOptions configure the hooks client, for example its deadlines.
	HookOptions []hooks.Option
	// HookConn, if set, wraps each process's connection for its hooks
	// client, for example in a [hooks.StreamConn] that calls the hooks on
	// the stream the process opens; the health check and the stop keep the
	// connection itself.
	HookConn func(conn grpc.ClientConnInterface) grpc.ClientConnInterface
	// Env holds extra environment variables for the plugin, as "K=V".
	Env []string
}

func (c *Config) fill() error {
	if strings.ContainsRune(c.Python, filepath.Separator) && !filepath.IsAbs(c.Python) {
		abs, err := filepath.Abs(c.Python)
		if err != nil {
			return fmt.Errorf("supervisor: Python interpreter %q: %w", c.Python, err)
		}
		c.Python = abs
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.DeactivateTimeout <= 0 {
		c.DeactivateTimeout = DefaultDeactivateTimeout
	}
	if c.StopGrace <= 0 {
		c.StopGrace = DefaultStopGrace
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.HealthCheckInterval == 0 {
		c.HealthCheckInterval = DefaultHealthCheckInterval
	}
	if c.HealthyRun <= 0 {
		c.HealthyRun = DefaultHealthyRun
	}
	if c.FailureLimit == 0 {
		c.FailureLimit = DefaultFailureLimit
	}
	if c.FailureWindow <= 0 {
		c.FailureWindow = DefaultFailureWindow
	}
	return nil
}

// Supervisor runs one plugin's process and keeps it running.
type Supervisor struct {
	bundle *Bundle
	cfg    Config
	logger *slog.Logger

	stop     chan struct{} // closed by Stop
	watchers sync.WaitGroup

	mu       sync.Mutex
	proc     *process // nil while the process is down
	stopped  bool
	restarts int
	// failures holds the times of the plugin's failures within the
	// failure window, oldest first.
	failures []time.Time
	// backoff is the wait before the next restart; 0 until a process ends.
	backoff time.Duration
	// failed is why the supervisor gave up on the plugin, or nil.
	failed error
}

// process is one run of the plugin's process.
type process struct {
	client *plugin.Client
	cmd    *exec.Cmd
	conn   *grpc.ClientConn
	hooks  *hooks.Client
	exited <-chan struct{}
	// socketDir is the process's own directory for its unix sockets.
	socketDir string
	// reaped is closed once the process is reaped and its socket
	// directory removed.
	reaped   chan struct{}
	reapOnce sync.Once
	started  time.Time
	// Handshake is when the handshake came back; Activated when
	// OnActivate returned.
	handshake, activated time.Time
}

// reap kills the process if it still runs, waits until it is reaped and
// its output read (go-plugin's Kill), and removes its socket directory.
// It may be called more than once.
func (p *process) reap() {
	p.reapOnce.Do(func() {
		p.client.Kill()
		if p.socketDir != "" {
			_ = os.RemoveAll(p.socketDir)
		}
		close(p.reaped)
	})
}

// ended says how the reaped process ended.
func (p *process) ended() string {
	if p.cmd.ProcessState == nil {
		return "the plugin process exited"
	}
	if sig, ok := endingSignal(p.cmd.ProcessState); ok {
		return fmt.Sprintf("the plugin process was killed by %v", sig)
	}
	return fmt.Sprintf("the plugin process exited with status %d", p.cmd.ProcessState.ExitCode())
}

// endingSignal returns the signal that ended a process, if a signal did.
func endingSignal(ps *os.ProcessState) (syscall.Signal, bool) {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}

// Start starts the plugin of bundle and activates it.
// It returns an error, and leaves nothing running, when the process does
// not start, does not answer Implemented or fails OnActivate. When the
// process ends or fails before go-plugin's handshake, the error names the
// cause: the sentence the plugin gave in its StartupErrorField, a Python
// without the SDK, a missing interpreter, or the exit status with the
// last lines of the plugin's stderr, which are then logged at error level.
func Start(ctx context.Context, bundle *Bundle, cfg Config) (*Supervisor, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Supervisor{
		bundle: bundle,
		cfg:    cfg,
		logger: cfg.Logger.With(slog.String("plugin_id", bundle.Manifest.ID)),
		stop:   make(chan struct{}),
	}
	reclaimSocketDirs(socketParent())
	p, err := s.launch(ctx)
	if err != nil {
		return nil, err
	}
	s.adopt(p)
	return s, nil
}

// Manifest returns the plugin's manifest.
func (s *Supervisor) Manifest() Manifest { return s.bundle.Manifest }

// Hooks returns the hooks of the running process, or [hooks.None] while
// it is down: calls made then fail open.
func (s *Supervisor) Hooks() hooks.Hooks {
	if c := s.Client(); c != nil {
		return c
	}
	return hooks.None{}
}

// Client returns the hooks client of the running process, or nil while
// it is down.
func (s *Supervisor) Client() *hooks.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	return s.proc.hooks
}

// Restarts returns how many times the process was restarted.
func (s *Supervisor) Restarts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.restarts
}

// Failed returns why the supervisor gave up on the plugin: it failed
// FailureLimit times within FailureWindow, and is no longer restarted.
// Mattermost reports such a plugin as failed to stay running
// (model.PluginStateFailedToStayRunning). Failed returns nil while the
// supervisor keeps the plugin running.
func (s *Supervisor) Failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

// Timing reports how long the current process took from spawn to
// handshake and from handshake to activated.
func (s *Supervisor) Timing() (toHandshake, toActivated time.Duration, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0, 0, false
	}
	p := s.proc
	return p.handshake.Sub(p.started), p.activated.Sub(p.handshake), true
}

// Pid returns the process id of the running process, or 0.
func (s *Supervisor) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return pidOf(s.proc)
}

// Ping checks the process's health service as the health check does: up
// to three pings, each bounded.
func (s *Supervisor) Ping() error {
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		return errors.New("supervisor: the plugin is not running")
	}
	return s.healthy(p)
}

// launch starts a process, asks Implemented and runs OnActivate.
func (s *Supervisor) launch(ctx context.Context) (*process, error) {
	name, args, err := s.bundle.command(s.cfg.Python)
	if err != nil {
		return nil, fmt.Errorf("supervisor: %w", err)
	}
	socketDir, err := makeSocketDir()
	if err != nil {
		return nil, fmt.Errorf("supervisor: plugin %s: %w", s.bundle.Manifest.ID, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = s.bundle.Dir
	// The host's environment first, so that these entries win.
	cmd.Env = append(os.Environ(),
		wire.EnvTarget+"="+s.cfg.APITarget,
		wire.EnvToken+"="+s.cfg.APIToken,
		ManifestEnv+"="+filepath.Join(s.bundle.Dir, ManifestFile),
		plugin.EnvUnixSocketDir+"="+socketDir,
	)
	cmd.Env = append(cmd.Env, s.cfg.Env...)
	setParentDeathSignal(cmd)
	program := filepath.Base(cmd.Path)
	start := &startLog{logger: s.logger, module: hclogName + "." + program}
	hclogger := newHCLogger(s.logger, start)
	stderr := &stderrForwarder{log: hclogger.Named(program)}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          plugin.PluginSet{pluginName: hooksPlugin{}},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           quietStderrLogger{Logger: hclogger, program: program},
		Stderr:           &lineWriter{emit: stderr.forward},
		StartTimeout:     s.cfg.StartTimeout,
		SyncStdout:       newLineLogger(s.logger, slog.String("source", "plugin_stdout")),
		SyncStderr:       newLineLogger(s.logger, slog.String("source", "plugin_stderr")),
		AutoMTLS:         s.cfg.AutoMTLS,
	})
	p := &process{client: client, cmd: cmd, socketDir: socketDir, reaped: make(chan struct{}), started: time.Now()}
	rpc, err := spawn(p)
	if err != nil {
		// reap returns once the process is reaped and its stderr read.
		start.kill()
		p.reap()
		startupError, output := start.fail()
		err = s.explainStart(cmd, err, startupError, output)
		s.logger.Error("plugin failed to start", slog.String("error", err.Error()))
		return nil, err
	}
	p.handshake = time.Now()
	start.handshake()
	raw, err := rpc.Dispense(pluginName)
	if err != nil {
		p.reap()
		return nil, fmt.Errorf("supervisor: connect to plugin %s: %w", s.bundle.Manifest.ID, err)
	}
	d := raw.(*dispensed)
	p.conn, p.exited = d.conn, d.ctx.Done()
	opts := append([]hooks.Option{hooks.WithLogger(s.logger)}, s.cfg.HookOptions...)
	var conn grpc.ClientConnInterface = d.conn
	if s.cfg.HookConn != nil {
		conn = s.cfg.HookConn(d.conn)
	}
	if p.hooks, err = hooks.NewClient(ctx, conn, opts...); err != nil {
		p.reap()
		return nil, fmt.Errorf("supervisor: plugin %s: %w", s.bundle.Manifest.ID, err)
	}
	if err := p.hooks.OnActivate(ctx); err != nil {
		s.logger.Error("unable to activate plugin", slog.String("error", err.Error()))
		s.shutdown(p)
		return nil, fmt.Errorf("supervisor: plugin %s failed to activate: %w", s.bundle.Manifest.ID, err)
	}
	p.activated = time.Now()
	s.logger.Info("plugin activated",
		slog.Duration("to_handshake", p.handshake.Sub(p.started)),
		slog.Duration("to_activated", p.activated.Sub(p.handshake)),
		slog.Any("hooks", p.hooks.Implemented()))
	return p, nil
}

// spawn starts p's process and waits for go-plugin's handshake.
//
// The process gets its parent-death signal (see setParentDeathSignal)
// when the OS thread that started it ends, not when the host process
// does, and the Go runtime ends a thread whose goroutine exits while
// locked to it. So the process is started on a thread of its own, locked
// by a goroutine that holds it until the process is reaped: no other
// goroutine can lock that thread and end it meanwhile, and when the host
// dies, the thread dies with it.
func spawn(p *process) (plugin.ClientProtocol, error) {
	type result struct {
		rpc plugin.ClientProtocol
		err error
	}
	started := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		rpc, err := p.client.Client()
		started <- result{rpc, err}
		<-p.reaped
		runtime.UnlockOSThread()
	}()
	r := <-started
	return r.rpc, r.err
}

// adopt makes p the running process and watches it.
func (s *Supervisor) adopt(p *process) {
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	s.watchers.Add(1)
	go s.watch(p)
}

// watch restarts the process when it exits or fails its health checks,
// until Stop, or until the plugin fails too often (see [Config.FailureLimit]).
func (s *Supervisor) watch(p *process) {
	defer s.watchers.Done()
	var tick <-chan time.Time
	if s.cfg.HealthCheckInterval > 0 {
		ticker := time.NewTicker(s.cfg.HealthCheckInterval)
		defer ticker.Stop()
		tick = ticker.C
	}
	cause, restarting := "", "plugin process exited; restarting it"
wait:
	for {
		select {
		case <-s.stop:
			return
		case <-p.exited:
			break wait
		case <-tick:
			if err := s.healthy(p); err != nil {
				cause = "the plugin failed its health check: " + err.Error()
				restarting = "plugin failed its health check; restarting it"
				// A hung process cannot take go-plugin's graceful Kill,
				// whose Shutdown call has no deadline: kill it first.
				if pid := pidOf(p); pid > 0 {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
				s.waitExit(p)
				break wait
			}
		}
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.proc = nil
	s.mu.Unlock()
	p.reap() // release its resources and its socket directory
	if cause == "" {
		cause = p.ended()
	}
	ran := time.Since(p.activated)
	for {
		backoff, again := s.fail(cause, ran)
		if !again {
			return
		}
		s.logger.Error(restarting, slog.String("error", cause), slog.Duration("retry_in", backoff))
		select {
		case <-s.stop:
			return
		case <-time.After(backoff):
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StartTimeout+s.cfg.DeactivateTimeout)
		next, err := s.launch(ctx)
		cancel()
		if err == nil {
			s.mu.Lock()
			if s.stopped {
				s.mu.Unlock()
				s.shutdown(next)
				return
			}
			s.restarts++
			s.mu.Unlock()
			s.adopt(next)
			return
		}
		cause, ran, restarting = err.Error(), 0, "plugin restart failed"
	}
}

// fail records a failure of the plugin with its cause; ran is how long
// the failed process ran after its activation. It returns the wait
// before the next restart, which doubles after each failure that follows
// a run shorter than HealthyRun. When the plugin has failed FailureLimit
// times within FailureWindow, the supervisor gives up on it: fail logs
// why, sets what Failed returns, calls OnFailed and returns false; it
// returns false as well once Stop was called.
func (s *Supervisor) fail(cause string, ran time.Duration) (backoff time.Duration, again bool) {
	now := time.Now()
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return 0, false
	}
	if limit := s.cfg.FailureLimit; limit > 0 {
		recent := s.failures[:0]
		for _, t := range s.failures {
			if now.Sub(t) <= s.cfg.FailureWindow {
				recent = append(recent, t)
			}
		}
		s.failures = append(recent, now)
		if len(s.failures) >= limit {
			s.failed = fmt.Errorf("supervisor: plugin %s failed %d times within %v and is not restarted; the last time: %s",
				s.bundle.Manifest.ID, len(s.failures), s.cfg.FailureWindow, cause)
			failed := s.failed
			s.failures = nil
			s.mu.Unlock()
			s.logger.Error("plugin failed to stay running", slog.String("error", failed.Error()))
			if s.cfg.OnFailed != nil {
				s.cfg.OnFailed(failed)
			}
			return 0, false
		}
	}
	if s.backoff == 0 || ran >= s.cfg.HealthyRun {
		s.backoff = s.cfg.MinBackoff
	} else {
		s.backoff = min(s.backoff*2, s.cfg.MaxBackoff)
	}
	backoff = s.backoff
	s.mu.Unlock()
	return backoff, true
}

// healthy pings p up to three times, as upstream's health check does,
// through go-plugin's health service ("plugin"), each ping bounded by half
// the check's interval (at most 5 s), so that a hung process fails too.
func (s *Supervisor) healthy(p *process) error {
	timeout := maxPingTimeout
	if d := s.cfg.HealthCheckInterval / 2; d > 0 && d < timeout {
		timeout = d
	}
	health := grpc_health_v1.NewHealthClient(p.conn)
	var err error
	for range healthCheckPings {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		var resp *grpc_health_v1.HealthCheckResponse
		resp, err = health.Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "plugin"})
		cancel()
		if err == nil && resp.GetStatus() != grpc_health_v1.HealthCheckResponse_SERVING {
			err = fmt.Errorf("health status %v", resp.GetStatus())
		}
		if err == nil {
			return nil
		}
	}
	return err
}

// Stop deactivates the plugin (OnDeactivate, bounded by
// DeactivateTimeout) and stops its process: go-plugin's Shutdown, then
// SIGTERM, then a kill, each step after StopGrace. It waits until the
// process is gone.
func (s *Supervisor) Stop(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	p := s.proc
	s.mu.Unlock()
	close(s.stop)
	var err error
	if p != nil {
		dctx, cancel := context.WithTimeout(ctx, s.cfg.DeactivateTimeout)
		err = p.hooks.OnDeactivate(dctx)
		cancel()
		s.shutdown(p)
		s.mu.Lock()
		s.proc = nil
		s.mu.Unlock()
	}
	s.watchers.Wait()
	return err
}

// shutdown stops p's process gracefully, then by force: go-plugin's
// Shutdown, SIGTERM, SIGKILL, each after StopGrace. go-plugin's own Kill
// then reaps it; it comes last because its Shutdown call has no deadline,
// which a hung process would never answer.
func (s *Supervisor) shutdown(p *process) {
	pid := pidOf(p)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StopGrace)
	_ = p.conn.Invoke(ctx, "/plugin.GRPCController/Shutdown", &emptypb.Empty{}, &emptypb.Empty{})
	cancel()
	if !s.waitExit(p) && pid > 0 {
		s.logger.Warn("plugin did not exit after Shutdown; sending SIGTERM")
		_ = syscall.Kill(pid, syscall.SIGTERM)
		if !s.waitExit(p) {
			s.logger.Warn("plugin did not exit after SIGTERM; killing it")
			_ = syscall.Kill(pid, syscall.SIGKILL)
			s.waitExit(p)
		}
	}
	p.reap()
}

// pidOf returns the process id of p, or 0.
func pidOf(p *process) int {
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

func (s *Supervisor) waitExit(p *process) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(s.cfg.StopGrace):
		return false
	}
}

// hooksPlugin is the go-plugin Plugin of the hooks: gRPC only.
type hooksPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

// GRPCServer is not used: hosts do not serve plugins.
func (hooksPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("supervisor: a host does not serve plugins")
}

// GRPCClient hands out the connection; ctx ends when the process exits.
func (hooksPlugin) GRPCClient(ctx context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &dispensed{ctx: ctx, conn: conn}, nil
}

type dispensed struct {
	ctx  context.Context
	conn *grpc.ClientConn
}
