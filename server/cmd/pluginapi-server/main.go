// Command pluginapi-server runs the Plugin API gRPC server with the
// in-memory reference backend.
//
// It listens on a unix socket in a private directory (or, with -listen tcp,
// on a loopback TCP port), then prints one JSON line to stdout:
//
//	{"target":"unix:///tmp/pluginapi-1/pluginapi.sock","token":"…","pid":123,
//	 "max_message_size":67108864,"keepalive_min_time_ms":10000}
//
// target is a gRPC target and token the plugin token that every call must
// carry; the limits let a client check that its settings fit the server's
// (package wire defines the line). The token comes from
// MATTERMOST_PLUGIN_API_TOKEN when that is set, and is random otherwise.
//
// With -plugin DIR (repeatable) it is also the local dev server of plugin
// authors: it starts the plugin in each DIR under the supervisor (its
// plugin.json says how), each with a Plugin API token of its own that
// names it, fires the plugins' hooks where the backend models their
// triggers (posts, memberships, channels, users, preferences,
// configuration, uploads, commands), serves /plugins/{id}/... on its HTTP
// port (where a token of the backend's sessions authenticates a request as
// Mattermost's does, see pluginHTTP), and prints the ready line once every
// plugin is activated. Calls with the ready line's token act as the first
// plugin. A plugin that does not start or activate stops the server with
// the error.
//
// -plugin also takes a bundle, FILE.tar.gz (docs/bundles.md): the server
// unpacks it, with package bundle's checks, into -plugins-dir/<plugin id>
// and, when it carries wheels, makes its Python environment offline in
// -plugins-dir/.python, reused by a later install of the same bundle.
// Without -plugins-dir that directory is a temporary one, removed at exit.
//
// The Plugin API's InstallPlugin, EnablePlugin, DisablePlugin and
// RemovePlugin run plugins as Mattermost does (see host.go): a plugin
// installed and enabled starts, with its own token, its hooks and its
// /plugins/{id}/ routes; a new version replaces a running one once it has
// activated, and a version that fails to activate leaves the running one
// in place. GetBundlePath answers each plugin's directory.
//
// A plugin process is supervised as Mattermost's are: restarted when it
// exits or fails its health checks, and given up on (GetPluginStatus
// state 4, failed to stay running, with the reason) after 3 failures
// within an hour. -hook-timeout is the deadline of each hook call (a hook
// past it fails open, as one whose plugin does not answer), -start-timeout
// how long a process has for go-plugin's handshake.
//
// With -watch, it also watches each plugin directory and, when a .py file
// or plugin.json is created, changed or removed, restarts that plugin
// alone with its new code (see watch.go); the server, its data, the other
// plugins and the HTTP port stay up.
//
// With -state FILE, it loads the backend's state (users, teams, channels,
// posts, KV stores, configuration, ...) from FILE at start, when FILE
// exists, and saves it there, atomically, when it stops gracefully.
//
// With -store postgres://..., every plugin's KV store and the plugins'
// settings live in that PostgreSQL database (schema migrated at start,
// see package store/postgres), which several servers ("nodes") may share
// as the nodes of a Mattermost cluster share theirs; the KV store is then
// no part of the -state file. Everything else stays in each node's memory.
//
// Paths given in flags (-python, -plugin, -state, ...) and in
// MATTERMOST_PLUGIN_PYTHON are relative to the directory where the command
// runs; a -python without a path separator is looked up on PATH.
//
// Logs, including the plugin's LogInfo lines, go to stderr through a
// bounded queue: a stderr that nobody reads, or that is closed, never
// blocks or kills the server; records beyond the queue are dropped and
// counted. SIGTERM or SIGINT stops the server gracefully: once the
// connections are quiet (-drain-quiet), or after -drain-max under steady
// traffic, new calls are refused, and calls in flight finish, within
// -stop-timeout; it then exits 0.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/logsink"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store/postgres"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/supervisor"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/wire"
)

// tokenEnv names the environment variable that may set the token.
const tokenEnv = wire.EnvToken

// emojiExistsID is the AppError id of a custom emoji that exists.
const emojiExistsID = "api.emoji.create.duplicate.app_error"

// logFlushTimeout bounds how long the server waits, at exit, for its log
// records to reach stderr.
const logFlushTimeout = 2 * time.Second

type config struct {
	listen           string
	socketDir        string
	tcpAddr          string
	serverVersion    string
	maxMessageSize   int
	keepaliveMinTime time.Duration
	stopTimeout      time.Duration
	drainQuiet       time.Duration
	drainMax         time.Duration
	logFormat        string
	logLevel         string
	emojis           emojiFlags
	pluginDirs       pluginDirs
	pluginsDir       string
	python           string
	httpAddr         string
	license          string
	cpuProfile       string
	watch            bool
	state            string
	storeDSN         string
	nodeID           string
	hookTimeout      time.Duration
	hookStream       bool
	startTimeout     time.Duration
}

// pluginDirs collects -plugin flags: plugin directories and bundles.
type pluginDirs []string

func (p *pluginDirs) String() string { return strings.Join(*p, ",") }

// Set adds one directory or bundle.
func (p *pluginDirs) Set(v string) error {
	if v == "" {
		return errors.New("want a plugin directory or bundle")
	}
	*p = append(*p, v)
	return nil
}

// emojiFlags collects -emoji NAME=PATH flags: custom emojis to add.
type emojiFlags []string

func (e *emojiFlags) String() string { return strings.Join(*e, ",") }

// Set checks one NAME=PATH value.
func (e *emojiFlags) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return fmt.Errorf("want NAME=PATH, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	// A write to a closed stdout or stderr then fails with EPIPE instead of
	// killing the process.
	signal.Ignore(syscall.SIGPIPE)
	stderr := logsink.New(os.Stderr, 0)
	err := run(os.Args[1:], os.Stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "pluginapi-server:", err)
	}
	stderr.Close(logFlushTimeout)
	if err != nil {
		os.Exit(1)
	}
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("pluginapi-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "unix", `transport: "unix" (a private socket) or "tcp" (loopback only)`)
	fs.StringVar(&c.socketDir, "socket-dir", "", "parent of the private socket directory (default: the system temp dir)")
	fs.StringVar(&c.tcpAddr, "tcp-addr", "127.0.0.1:0", "loopback address for -listen tcp")
	fs.StringVar(&c.serverVersion, "server-version", memory.DefaultServerVersion, "version that GetServerVersion reports")
	fs.IntVar(&c.maxMessageSize, "max-message-size", server.DefaultMaxMessageSize, "largest message received or sent, in bytes")
	fs.DurationVar(&c.keepaliveMinTime, "keepalive-min-time", server.DefaultKeepaliveMinTime, "shortest client keepalive ping interval allowed")
	fs.DurationVar(&c.stopTimeout, "stop-timeout", server.DefaultStopTimeout, "how long a graceful stop waits for calls in flight")
	fs.DurationVar(&c.drainQuiet, "drain-quiet", server.DefaultDrainQuiet, "how long connections must be without calls before a graceful stop sends GOAWAY")
	fs.DurationVar(&c.drainMax, "drain-max", server.DefaultDrainMax, "longest a graceful stop waits for -drain-quiet before it sends GOAWAY anyway (at most half of -stop-timeout)")
	fs.StringVar(&c.logFormat, "log-format", "text", `log format on stderr: "text" or "json"`)
	fs.StringVar(&c.logLevel, "log-level", "debug", `lowest level logged: "debug", "info", "warn" or "error"`)
	fs.StringVar(&c.license, "license", "", `install a license of this SKU: "professional", "enterprise" or "advanced" (Enterprise Advanced); empty for none`)
	fs.Var(&c.emojis, "emoji", "custom emoji to add, as NAME=PATH of a PNG, JPEG or GIF image (repeatable)")
	fs.Var(&c.pluginDirs, "plugin", "plugin directory (with a plugin.json), or plugin bundle (a .tar.gz, unpacked into -plugins-dir), to run under the supervisor (repeatable)")
	fs.StringVar(&c.pluginsDir, "plugins-dir", "", "directory where bundles (of -plugin and of InstallPlugin) are unpacked, with their Python environments in DIR/"+venvCacheDir+" (default: a new temporary directory, removed at exit)")
	fs.StringVar(&c.httpAddr, "http-addr", "127.0.0.1:0", "loopback address of the HTTP port where /plugins/{id}/... reaches the plugin (with -plugin)")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a pprof CPU profile of the server to this file, from start to stop")
	fs.StringVar(&c.python, "python", os.Getenv(pythonEnv), "Python interpreter of plugins whose manifest names none, relative to the current directory or looked up on PATH (default: $"+pythonEnv+", else python3)")
	fs.BoolVar(&c.hookStream, "hook-stream", hookStreamDefault(), "call the hooks of a plugin that opens a hook stream on that stream; false: always on its PluginHooks service (default: true unless $"+hookStreamEnv+" is 0)")
	fs.DurationVar(&c.hookTimeout, "hook-timeout", hooks.DefaultTimeout, "deadline of each hook call of a -plugin plugin; a hook past it counts as failed, as the plugin had not answered")
	fs.DurationVar(&c.startTimeout, "start-timeout", supervisor.DefaultStartTimeout, "how long a plugin process has to complete go-plugin's handshake")
	fs.BoolVar(&c.watch, "watch", false, "restart a plugin when a .py file or plugin.json in its directory changes (with -plugin)")
	fs.StringVar(&c.state, "state", "", "load the backend's state from this file at start, if it exists, and save it there on a graceful stop (the KV store only when it is in memory: with -store it lives in the database)")
	fs.StringVar(&c.storeDSN, "store", "", storeHelp)
	fs.StringVar(&c.nodeID, "node-id", "", nodeIDHelp)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	// The plugin runs in its own directory: a relative interpreter path
	// must not be resolved there.
	if strings.ContainsRune(c.python, filepath.Separator) {
		abs, err := filepath.Abs(c.python)
		if err != nil {
			return c, fmt.Errorf("-python %q: %w", c.python, err)
		}
		c.python = abs
	}
	if c.storeDSN != "" && !strings.HasPrefix(c.storeDSN, "postgres://") && !strings.HasPrefix(c.storeDSN, "postgresql://") {
		return c, errors.New("-store: want a postgres:// or postgresql:// URL of a PostgreSQL database")
	}
	if c.state != "" {
		abs, err := filepath.Abs(c.state)
		if err != nil {
			return c, fmt.Errorf("-state %q: %w", c.state, err)
		}
		c.state = abs
	}
	if c.pluginsDir != "" {
		abs, err := filepath.Abs(c.pluginsDir)
		if err != nil {
			return c, fmt.Errorf("-plugins-dir %q: %w", c.pluginsDir, err)
		}
		c.pluginsDir = abs
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	switch c.license {
	case "", memory.SKUProfessional, memory.SKUEnterprise, memory.SKUEnterpriseAdvanced:
	default:
		return c, fmt.Errorf("-license: unknown SKU %q", c.license)
	}
	return c, nil
}

func newLogger(c config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("-log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("-log-format: unknown format %q", c.logFormat)
	}
}

func listen(c config) (*server.Listener, error) {
	switch c.listen {
	case "unix":
		lis, err := server.ListenUnix(c.socketDir)
		if err != nil && c.socketDir != "" {
			return nil, fmt.Errorf("-socket-dir %q: %w", c.socketDir, err)
		}
		return lis, err
	case "tcp":
		lis, err := server.ListenTCP(c.tcpAddr)
		if err != nil {
			return nil, fmt.Errorf("-tcp-addr %q: %w", c.tcpAddr, err)
		}
		return lis, nil
	default:
		return nil, fmt.Errorf("-listen: unknown transport %q", c.listen)
	}
}

// listenHTTP listens on the dev server's HTTP port, which must be on
// loopback.
func listenHTTP(addr string) (net.Listener, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-http-addr: %w", err)
	}
	if a, ok := lis.Addr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
		lis.Close()
		return nil, fmt.Errorf("-http-addr %q: the dev server's HTTP port listens on loopback only", addr)
	}
	return lis, nil
}

// run runs the server until SIGTERM or SIGINT.
func run(args []string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext runs the server until ctx is done, then stops it gracefully.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	if c.cpuProfile != "" {
		stopProfile, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	token := os.Getenv(tokenEnv)
	if token == "" {
		if token, err = auth.NewToken(); err != nil {
			return err
		}
	}

	root, removeRoot, err := pluginsRoot(c.pluginsDir)
	if err != nil {
		return err
	}
	defer removeRoot() // once the plugins are stopped
	h := newHost(root, c.python, logger)
	plugins, err := h.loadPlugins(ctx, c.pluginDirs)
	if err != nil {
		return err
	}
	for _, p := range plugins {
		h.put(p)
	}
	// The host receives the hook events and runs the plugins that the
	// Plugin API installs, with or without -plugin.
	backendOpts := []memory.Option{memory.ServerVersion(c.serverVersion), memory.Logger(logger), memory.Licensed(c.license), memory.WithHooks(h)}
	var tokens []auth.PluginToken
	if len(plugins) > 0 {
		manifests := make([]*pluginpb.Manifest, 0, len(plugins))
		for _, p := range plugins {
			manifests = append(manifests, manifestProto(p.bundle.Manifest))
			tokens = append(tokens, auth.PluginToken{Token: p.token, PluginID: p.id()})
		}
		backendOpts = append(backendOpts, memory.Manifest(manifests...))
	}
	if c.storeDSN != "" {
		shared, err := openStore(ctx, c.storeDSN, logger)
		if err != nil {
			return err
		}
		defer shared.Close() // after the backend and the plugins
		backendOpts = append(backendOpts, memory.WithKV(shared), memory.WithPluginSettings(shared))
		bus, stopBus, err := startClusterBus(ctx, shared, c.nodeID, h.pluginHooks, logger)
		if err != nil {
			return err
		}
		defer stopBus() // before the store's Close
		backendOpts = append(backendOpts, memory.WithBus(bus))
	}
	backend := memory.New(backendOpts...)
	defer backend.Close() // removes the temporary file store
	loaded := false
	if c.state != "" {
		if loaded, err = backend.LoadStateFile(c.state); err != nil {
			return fmt.Errorf("-state: %w", err)
		}
		if loaded {
			logger.Info("state loaded", slog.String("path", c.state))
		} else {
			// The state is saved at the stop: a directory that is not
			// there would lose it then.
			if info, err := os.Stat(filepath.Dir(c.state)); err != nil || !info.IsDir() {
				return fmt.Errorf("-state %s: its directory does not exist", c.state)
			}
			logger.Info("no state file yet; starting empty", slog.String("path", c.state))
		}
	}
	// The dev server installs plugins through the Plugin API, which
	// upstream allows only with PluginSettings.EnableUploads (off by
	// default): its configuration says so, whatever a loaded state held.
	backend.EnablePluginUploads()
	for _, e := range c.emojis {
		name, path, _ := strings.Cut(e, "=")
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("-emoji %s: %w", name, err)
		}
		if err := backend.AddEmoji(name, data); err != nil {
			var appErr *apperror.Error
			if loaded && errors.As(err, &appErr) && appErr.ID == emojiExistsID {
				continue // the loaded state has it
			}
			return fmt.Errorf("-emoji %s: %w", name, err)
		}
	}
	serverOpts := []server.Option{
		server.MaxMessageSize(c.maxMessageSize),
		server.KeepaliveMinTime(c.keepaliveMinTime),
		server.StopTimeout(c.stopTimeout),
		server.DrainQuiet(c.drainQuiet),
		server.DrainMax(c.drainMax),
		server.Logger(logger),
	}
	streams := newHookStreams(logger)
	if c.hookStream {
		serverOpts = append(serverOpts, server.HookStreams(streams.serve))
	}
	srv, err := server.New(backend, token, append(serverOpts, server.PluginTokens(tokens...))...)
	if err != nil {
		return err
	}
	lis, err := listen(c)
	if err != nil {
		return err
	}
	defer lis.Close()

	for _, p := range plugins {
		p.target = lis.Target
	}
	h.attach(func(p *devPlugin) supervisor.Config {
		return supervisor.Config{
			HookConn:     streams.conn(c.hookStream, p.id()),
			APITarget:    p.target,
			APIToken:     p.token,
			Python:       c.python,
			Logger:       logger,
			StartTimeout: c.startTimeout,
			HookOptions:  []hooks.Option{hooks.WithTimeout(c.hookTimeout)},
		}
	}, func(pluginToken, id string) (*apiServer, error) {
		return servePluginAPI(c, backend, serverOpts, pluginToken, id)
	})

	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	watchCtx, stopWatching := context.WithCancel(ctx)
	var watchers sync.WaitGroup
	// stopAll stops the watchers, then the plugins.
	stopAll := func() {
		stopWatching()
		watchers.Wait()
		h.stopAll(context.Background())
		h.wait()
	}
	if err := h.startAll(ctx, plugins); err != nil {
		stopAll()
		srv.Stop()
		return err
	}
	// The plugins of -plugin run, so they are enabled, as Mattermost
	// records a running plugin; not those that a plugin disabled or
	// removed while they started (their OnActivate may disable themselves),
	// which the backend has recorded already.
	for _, p := range plugins {
		if !p.enabled.Load() || p.retired.Load() {
			continue
		}
		if _, err := backend.EnablePlugin(auth.NewContext(ctx, p.id()), &pluginpb.EnablePluginRequest{Id: p.id()}); err != nil {
			stopAll()
			srv.Stop()
			return fmt.Errorf("enable plugin %s: %w", p.id(), err)
		}
	}
	httpLis, err := listenHTTP(c.httpAddr)
	if err != nil {
		stopAll()
		srv.Stop()
		return err
	}
	httpURL := "http://" + httpLis.Addr().String()
	httpSrv := &http.Server{Handler: h.pluginHTTP(backend), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = httpSrv.Serve(httpLis) }()
	if c.watch {
		for _, p := range plugins {
			if p.unpacked {
				logger.Info("-watch: a bundle is not watched; its plugin runs as it was unpacked", slog.String("plugin_id", p.id()))
				continue
			}
			w := newPluginWatcher(h, p, logger)
			watchers.Go(func() { w.run(watchCtx) })
		}
	}
	// stopPlugins deactivates the plugins while the API still serves them.
	stopPlugins := func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.stopTimeout)
		defer cancel()
		_ = httpSrv.Shutdown(ctx)
		stopAll()
	}

	line, err := json.Marshal(wire.Ready{
		Target:             lis.Target,
		Token:              token,
		PID:                os.Getpid(),
		MaxMessageSize:     srv.MaxMessageSize(),
		KeepaliveMinTimeMS: srv.KeepaliveMinTime().Milliseconds(),
		HTTPURL:            httpURL,
	})
	if err != nil {
		return fmt.Errorf("encode ready line: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		stopPlugins()
		srv.Stop()
		return fmt.Errorf("write ready line: %w", err)
	}
	logger.Info("plugin API server listening", slog.String("target", lis.Target), slog.String("plugins_dir", root))

	select {
	case err := <-served:
		stopPlugins()
		return err
	case <-ctx.Done():
	}
	stopPlugins()
	logger.Info("stopping plugin API server")
	if !srv.GracefulStop() {
		logger.Warn("calls still in flight at the stop timeout were cancelled")
	}
	if err := <-served; err != nil {
		return err
	}
	if c.state != "" {
		if err := backend.SaveStateFile(c.state); err != nil {
			return fmt.Errorf("-state: %w", err)
		}
		logger.Info("state saved", slog.String("path", c.state))
	}
	return nil
}

// pluginsRoot returns the plugins directory: dir, made if missing, or a
// new temporary directory, which the returned function removes.
func pluginsRoot(dir string) (string, func(), error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("-plugins-dir: %w", err)
		}
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "pluginapi-plugins-")
	if err != nil {
		return "", nil, fmt.Errorf("make the plugins directory: %w", err)
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// servePluginAPI serves the Plugin API of backend to one plugin installed
// through the API, on a listener of its own (as -listen says), with a
// server whose one plugin token names it: the main server's tokens were
// fixed when it started.
func servePluginAPI(c config, backend *memory.Backend, opts []server.Option, pluginToken, id string) (*apiServer, error) {
	// The server's own token, which names no plugin, is never handed out.
	unused, err := auth.NewToken()
	if err != nil {
		return nil, err
	}
	srv, err := server.New(backend, unused, append(slices.Clone(opts), server.PluginTokens(auth.PluginToken{Token: pluginToken, PluginID: id}))...)
	if err != nil {
		return nil, err
	}
	if c.listen == "tcp" {
		c.tcpAddr = "127.0.0.1:0"
	}
	lis, err := listen(c)
	if err != nil {
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	return &apiServer{target: lis.Target, stop: func() {
		srv.GracefulStop()
		lis.Close()
		<-served
	}}, nil
}

// storeHelp is the help text of -store.
const storeHelp = "PostgreSQL database, as a postgres:// URL, that keeps what the nodes of a cluster share: every plugin's KV store " +
	"and the plugins' settings; servers on one database act as the nodes of one Mattermost cluster, while users, teams, channels, posts " +
	"and files stay in each node's memory (default: empty, everything in this process's memory)"

// openStore opens the -store database, migrating its schema, within
// storeOpenTimeout.
func openStore(ctx context.Context, dsn string, logger *slog.Logger) (*postgres.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, storeOpenTimeout)
	defer cancel()
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("-store: %w", err)
	}
	logger.Info("shared store opened", slog.Int64("schema_version", postgres.SchemaVersion()))
	return st, nil
}

// storeOpenTimeout bounds the connection and migration of -store.
const storeOpenTimeout = 60 * time.Second
