package main

// This file holds the host of the dev server's plugins: it loads the
// plugins of -plugin (directories and bundles), unpacks and places
// bundles in the plugins directory with their Python environments, and is
// the backend's memory.PluginLifecycle, so that the Plugin API's
// InstallPlugin, EnablePlugin, DisablePlugin and RemovePlugin start and
// stop plugins as Mattermost's do.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/bundle"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/ids"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/supervisor"
)

// venvCacheDir is the directory of the plugins directory that holds the
// bundles' Python environments; its leading dot keeps it out of
// Mattermost's plugin scan.
const venvCacheDir = ".python"

// Plugin states of model.PluginStatus.
const (
	stateNotRunning          = 0
	stateRunning             = 2
	stateFailedToStart       = 3
	stateFailedToStayRunning = 4
)

// apiServer is the Plugin API server of one plugin installed through the
// API: the main server's tokens are fixed when it starts, so such a plugin
// gets a server of its own, on the same backend, whose one plugin token
// names it.
type apiServer struct {
	target string
	stop   func()
}

// host runs the dev server's plugins. It is the backend's memory.Hooks
// (through pluginHooks) and its memory.PluginLifecycle.
type host struct {
	*pluginHooks
	// root is the plugins directory: bundles are unpacked into
	// root/<plugin id>, their environments made in root/.python.
	root string
	// python is the interpreter of -python: the default of Python
	// plugins, and the one that makes the environments.
	python string
	logger *slog.Logger

	// ops serializes the lifecycle's operations (installs, enables,
	// disables, removes, -watch's restarts and the stop); Status and the
	// hooks do not take it, so that a plugin's OnActivate may call the API.
	// Take it with lock (or run) and release it with unlock, which first
	// runs the queued operations.
	ops    sync.Mutex
	closed bool
	// qmu guards queued: the operations that plugins asked for while ops
	// was held (see run), in order.
	qmu    sync.Mutex
	queued []func()
	// apis are the API servers of plugins installed through the API, by
	// plugin id; a new version of a plugin keeps its id's server.
	apis map[string]*apiServer
	// config returns the supervisor configuration of a plugin; newAPI
	// starts the API server of a plugin. attach sets both before the API
	// serves.
	config func(p *devPlugin) supervisor.Config
	newAPI func(token, id string) (*apiServer, error)
}

var _ memory.PluginLifecycle = (*host)(nil)

func newHost(root, python string, logger *slog.Logger) *host {
	return &host{
		pluginHooks: newPluginHooks(nil, logger),
		root:        root,
		python:      python,
		logger:      logger,
		apis:        map[string]*apiServer{},
	}
}

// attach gives the host what it needs to start plugins; it is called
// once, before the Plugin API serves.
func (h *host) attach(config func(p *devPlugin) supervisor.Config, newAPI func(token, id string) (*apiServer, error)) {
	h.lock()
	defer h.unlock()
	h.config, h.newAPI = config, newAPI
}

// isBundle reports whether the argument of -plugin names a bundle (a
// file) rather than a plugin directory.
func isBundle(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

// loadPlugins reads the plugins of -plugin: plugin directories, and
// bundles, which are unpacked into the plugins directory with their
// Python environments. Each plugin gets a token; plugin ids must be
// unique.
func (h *host) loadPlugins(ctx context.Context, args []string) ([]*devPlugin, error) {
	var plugins []*devPlugin
	seen := map[string]string{}
	fail := func(err error) ([]*devPlugin, error) {
		for _, p := range plugins {
			if p.unpacked {
				os.RemoveAll(p.bundle.Dir)
			}
		}
		return nil, err
	}
	for _, arg := range args {
		p := &devPlugin{}
		if isBundle(arg) {
			b, err := h.unpackFile(ctx, arg)
			if err != nil {
				return fail(fmt.Errorf("-plugin %s: %w", arg, err))
			}
			p.bundle, p.unpacked = b, true
		} else {
			b, err := supervisor.Load(arg)
			if err != nil {
				return fail(fmt.Errorf("-plugin: %w", err))
			}
			p.bundle = b
		}
		id := p.id()
		if other, dup := seen[id]; dup {
			if p.unpacked {
				os.RemoveAll(p.bundle.Dir)
			}
			return fail(fmt.Errorf("-plugin: %s and %s are both plugin %q", other, arg, id))
		}
		seen[id] = arg
		token, err := auth.NewToken()
		if err != nil {
			return fail(err)
		}
		p.token = token
		p.enabled.Store(true)
		plugins = append(plugins, p)
	}
	return plugins, nil
}

// unpackFile unpacks the bundle file at path into the plugins directory
// and makes its Python environment.
func (h *host) unpackFile(ctx context.Context, path string) (*supervisor.Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	staging := h.stagingDir()
	ex, err := bundle.Extract(ctx, f, staging, bundle.Limits{})
	if err != nil {
		return nil, err
	}
	b, err := h.prepare(ctx, staging, ex.SHA256, "")
	if err != nil {
		os.RemoveAll(staging)
		return nil, err
	}
	if b == nil {
		os.RemoveAll(staging)
		return nil, fmt.Errorf("%w; a web app only plugin has nothing for the dev server to run", supervisor.ErrNoServer)
	}
	dir, err := h.place(staging, b.Manifest.ID, nil)
	if err != nil {
		os.RemoveAll(staging)
		return nil, err
	}
	b.Dir = dir
	return b, nil
}

// stagingDir returns a new name in the plugins directory for a bundle to
// unpack to: hidden, and with a "+" that no plugin id has.
func (h *host) stagingDir() string {
	return filepath.Join(h.root, ".install+"+ids.New())
}

// prepare reads the manifest of the plugin unpacked into dir and, for a
// Python plugin that carries wheels, makes its environment. id, when set,
// is the plugin id that the backend read. It returns nil, and no error,
// for a plugin without a server part.
func (h *host) prepare(ctx context.Context, dir, sha256, id string) (*supervisor.Bundle, error) {
	b, err := supervisor.Load(dir)
	if errors.Is(err, supervisor.ErrNoServer) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if id != "" {
		b.Manifest.ID = id // as the backend has it: in lower case
	}
	if py := b.Manifest.Server.Python; py != nil && len(py.Targets) > 0 {
		venv, err := bundle.MakeVenv(ctx, bundle.VenvRequest{
			PluginDir: dir,
			Targets:   py.Targets,
			SHA256:    sha256,
			CacheDir:  filepath.Join(h.root, venvCacheDir),
			Python:    h.python,
			Logger:    h.logger.With(slog.String("plugin_id", b.Manifest.ID)),
		})
		if err != nil {
			return nil, err
		}
		b.Python = venv.Python
	}
	return b, nil
}

// place moves the unpacked plugin at staging to its directory in the
// plugins directory: <root>/<id>, as Mattermost places it, unless old, the
// version it replaces, still lives there: then <root>/<id>@2 (and back to
// <root>/<id> for the next version), so that the old version keeps its
// files while the new one starts, and after if the new one fails. A
// directory found at the name that no plugin uses is a leftover of an
// earlier run, and is replaced.
func (h *host) place(staging, id string, old *devPlugin) (string, error) {
	for n := 1; ; n++ {
		dir := filepath.Join(h.root, id)
		if n > 1 {
			dir += fmt.Sprintf("@%d", n)
		}
		if old != nil && old.bundle.Dir == dir {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("clear %s: %w", dir, err)
		}
		if err := os.Rename(staging, dir); err != nil {
			return "", fmt.Errorf("move the plugin into %s: %w", dir, err)
		}
		return dir, nil
	}
}

// start starts p's process; its error is an activation failure. The
// caller holds ops.
func (h *host) start(ctx context.Context, p *devPlugin) error {
	if p.noServer {
		p.failure.Store(nil)
		return nil
	}
	sup, err := supervisor.Start(ctx, p.bundle, h.config(p))
	if err != nil {
		msg := err.Error()
		p.failure.Store(&msg)
		return &memory.ActivationError{PluginID: p.id(), Err: err}
	}
	p.failure.Store(nil)
	p.sup.Store(sup)
	return nil
}

// stop stops p's process, if it runs: OnDeactivate, then the process.
func (h *host) stop(ctx context.Context, p *devPlugin) {
	if sup := p.sup.Swap(nil); sup != nil {
		if err := sup.Stop(context.WithoutCancel(ctx)); err != nil {
			h.logger.Warn("plugin OnDeactivate failed", slog.String("plugin_id", p.id()), slog.String("error", err.Error()))
		}
	}
}

// startAll starts the plugins of -plugin, in order; on an error it stops
// those it started.
func (h *host) startAll(ctx context.Context, plugins []*devPlugin) error {
	h.lock()
	defer h.unlock()
	for i, p := range plugins {
		if err := h.start(ctx, p); err != nil {
			for _, started := range slices.Backward(plugins[:i]) {
				h.stop(ctx, started)
			}
			var activation *memory.ActivationError
			if errors.As(err, &activation) {
				return activation.Err
			}
			return err
		}
	}
	return nil
}

// stopAll stops every plugin, in reverse id order, then the API servers
// of the plugins installed through the API; the host takes no operation
// after.
func (h *host) stopAll(ctx context.Context) {
	h.lock()
	defer h.unlock()
	h.closed = true
	for _, p := range slices.Backward(h.all()) {
		h.stop(ctx, p)
	}
	for id, api := range h.apis {
		api.stop()
		delete(h.apis, id)
	}
}

// errStopping is the error of an operation that comes while the server
// stops.
var errStopping = errors.New("the dev server is stopping")

// errBusy is the error of a plugin's InstallPlugin made while another
// lifecycle operation is in progress: that operation may be waiting for
// the very hook that made the call.
var errBusy = errors.New("another plugin operation is in progress, which may be waiting for the hook that made this call " +
	"(InstallPlugin cannot be made from OnActivate or OnDeactivate, nor while another plugin is installed, enabled, disabled or removed); retry once it has ended")

// maxQueued bounds the operations that plugins may queue while one
// operation is in progress; beyond it their calls fail with errBusy.
const maxQueued = 64

// lock takes ops, waiting for the operation in progress.
func (h *host) lock() { h.ops.Lock() }

// unlock runs the queued operations, in order, then releases ops. An
// operation that queues more, from its hooks, has them run too.
func (h *host) unlock() {
	for {
		h.qmu.Lock()
		if len(h.queued) == 0 {
			// Under qmu, so that run either queues before this check or
			// takes ops after it.
			h.ops.Unlock()
			h.qmu.Unlock()
			return
		}
		op := h.queued[0]
		h.queued = h.queued[1:]
		h.qmu.Unlock()
		op()
	}
}

// run runs the operation op, named name, on plugin id, under ops, for the
// call of ctx, and returns its error.
//
// A call from a plugin (ctx carries its id) never waits for ops: the
// operation in progress may be waiting for the very hook that made the
// call (an OnActivate or OnDeactivate, or a hook that one of them
// triggered), and waiting for it would deadlock. When ops is held, op is
// queued, when queue allows, and run returns nil: op runs after the
// operation in progress, before that operation's caller gets its answer,
// and its error is logged; when queue does not allow, or too many wait,
// run returns errBusy. A call from anyone else waits for ops.
func (h *host) run(ctx context.Context, name, id string, queue bool, op func(ctx context.Context) error) error {
	if _, fromPlugin := auth.PluginIDFromContext(ctx); !fromPlugin {
		h.lock()
		defer h.unlock()
		return op(ctx)
	}
	h.qmu.Lock()
	if h.ops.TryLock() {
		h.qmu.Unlock()
		defer h.unlock()
		return op(ctx)
	}
	defer h.qmu.Unlock()
	if !queue || len(h.queued) >= maxQueued {
		return errBusy
	}
	ctx = context.WithoutCancel(ctx)
	h.queued = append(h.queued, func() {
		if err := op(ctx); err != nil {
			h.logger.Error("a plugin operation that waited for another failed",
				slog.String("operation", name), slog.String("plugin_id", id), slog.String("error", err.Error()))
		}
	})
	h.logger.Info("plugin operation queued behind the one in progress", slog.String("operation", name), slog.String("plugin_id", id))
	return nil
}

// PluginsDir returns the plugins directory, where InstallPlugin unpacks
// bundles.
func (h *host) PluginsDir() string { return h.root }

// Install takes a plugin that InstallPlugin unpacked: it makes its Python
// environment, places it in the plugins directory and, when the
// configuration enables it or the version it replaces runs, starts it. A
// running version keeps serving until the new one is activated, then is
// stopped and its files removed; if the new one fails, the old one stays,
// with its files, and the new one's are removed. A plugin's call made
// while another operation is in progress fails with errBusy (see run):
// its caller hands over a bundle and must learn whether it was taken.
func (h *host) Install(ctx context.Context, ip memory.InstalledPlugin) (err error) {
	staging := ip.Dir
	defer func() {
		if err != nil {
			os.RemoveAll(staging)
		}
	}()
	return h.run(ctx, "install", ip.Manifest.GetId(), false, func(ctx context.Context) error {
		return h.install(ctx, ip, &staging)
	})
}

// install is Install under ops; *staging is the directory that Install
// removes if it fails.
func (h *host) install(ctx context.Context, ip memory.InstalledPlugin, staging *string) error {
	if h.closed {
		return errStopping
	}
	id := ip.Manifest.GetId()
	old := h.plugin(id)
	if old != nil && !ip.Replace {
		return fmt.Errorf("plugin %s is installed already", id)
	}
	b, err := h.prepare(ctx, *staging, ip.SHA256, id)
	if err != nil {
		return err
	}
	p := &devPlugin{unpacked: true, noServer: b == nil}
	if b == nil {
		b = &supervisor.Bundle{Manifest: supervisor.Manifest{ID: id, Name: ip.Manifest.GetName(), Version: ip.Manifest.GetVersion()}}
	}
	dir, err := h.place(*staging, id, old)
	if err != nil {
		return err
	}
	*staging = dir // removed if the plugin does not start
	b.Dir = dir
	p.bundle = b
	var newAPI *apiServer
	if old != nil {
		p.token, p.target = old.token, old.target
	} else {
		if p.token, err = auth.NewToken(); err != nil {
			return err
		}
		if newAPI, err = h.newAPI(p.token, id); err != nil {
			return fmt.Errorf("serve the Plugin API of plugin %s: %w", id, err)
		}
		p.target = newAPI.target
	}
	activate := ip.Enabled || (old != nil && old.sup.Load() != nil)
	if activate {
		p.enabled.Store(true)
		if err := h.start(ctx, p); err != nil {
			if newAPI != nil {
				newAPI.stop()
			}
			h.logger.Error("the new version of the plugin failed to activate; the installed one stays",
				slog.String("plugin_id", id), slog.String("version", b.Manifest.Version), slog.String("error", err.Error()))
			return err
		}
	}
	if newAPI != nil {
		h.apis[id] = newAPI
	}
	h.put(p)
	if old != nil {
		old.retired.Store(true)
		h.stop(ctx, old)
		if old.unpacked && old.bundle.Dir != "" {
			if err := os.RemoveAll(old.bundle.Dir); err != nil {
				h.logger.Warn("could not remove the replaced version's files", slog.String("plugin_id", id), slog.String("error", err.Error()))
			}
		}
	}
	h.logger.Info("plugin installed", slog.String("plugin_id", id), slog.String("version", b.Manifest.Version),
		slog.String("dir", dir), slog.Bool("running", p.sup.Load() != nil || (activate && p.noServer)))
	return nil
}

// Enable starts the plugin id unless it runs. A plugin that the host does
// not run (the backend's own when no -plugin names it) has nothing to
// start. A plugin's call made while another operation is in progress
// returns at once and the plugin starts after that operation (see run),
// as upstream's EnablePlugin only records the state and activates the
// plugin asynchronously.
func (h *host) Enable(ctx context.Context, id string) error {
	return h.run(ctx, "enable", id, true, func(ctx context.Context) error {
		if h.closed {
			return errStopping
		}
		p := h.plugin(id)
		if p == nil {
			return nil
		}
		p.enabled.Store(true)
		if sup := p.sup.Load(); sup != nil {
			if sup.Failed() == nil {
				return nil
			}
			// Its supervisor gave up on it: enabling it starts it again,
			// as upstream activates a plugin that failed to stay running.
			h.stop(ctx, p)
		}
		return h.start(ctx, p)
	})
}

// Disable stops the plugin id if it runs, before it returns. Any plugin
// may disable any other, or itself, as upstream allows. A plugin's call
// made while another operation is in progress returns at once and the
// plugin stops after that operation (see run).
func (h *host) Disable(ctx context.Context, id string) {
	_ = h.run(ctx, "disable", id, true, func(ctx context.Context) error {
		if p := h.plugin(id); p != nil {
			p.enabled.Store(false)
			p.failure.Store(nil)
			h.stop(ctx, p)
		}
		return nil
	})
}

// Remove stops the plugin id, forgets it, and removes the directory that
// the dev server unpacked for it. A plugin directory of -plugin stays: it
// is the author's. A plugin's call made while another operation is in
// progress returns at once and the plugin goes after that operation (see
// run).
func (h *host) Remove(ctx context.Context, id string) error {
	return h.run(ctx, "remove", id, true, func(ctx context.Context) error {
		p := h.plugin(id)
		if p == nil {
			return nil
		}
		p.retired.Store(true)
		h.stop(ctx, p)
		h.drop(id)
		if api := h.apis[id]; api != nil {
			api.stop()
			delete(h.apis, id)
		}
		if p.unpacked && p.bundle.Dir != "" {
			if err := os.RemoveAll(p.bundle.Dir); err != nil {
				return fmt.Errorf("remove %s: %w", p.bundle.Dir, err)
			}
		}
		return nil
	})
}

// Status returns the directory and the state of the plugin id: failed to
// stay running, with the reason, once its supervisor gave up on it (see
// supervisor.Config.FailureLimit), as upstream's health check job marks a
// plugin (server/public/plugin/health_check.go of mattermost/mattermost at
// 622dc6f409915566fb8ee4598a987627d1b33381).
func (h *host) Status(id string) (memory.PluginRuntime, bool) {
	p := h.plugin(id)
	if p == nil {
		return memory.PluginRuntime{}, false
	}
	rt := memory.PluginRuntime{Dir: p.bundle.Dir, State: stateNotRunning}
	sup := p.sup.Load()
	var gaveUp error
	if sup != nil {
		gaveUp = sup.Failed()
	}
	switch failure := p.failure.Load(); {
	case gaveUp != nil:
		rt.State, rt.Error = stateFailedToStayRunning, gaveUp.Error()
	case sup != nil || (p.noServer && p.enabled.Load()):
		rt.State = stateRunning
	case failure != nil:
		rt.State, rt.Error = stateFailedToStart, *failure
	}
	return rt, true
}

// restart stops p and starts it again with the bundle b, for -watch: not
// when p is disabled, replaced or removed, or the server stops.
func (h *host) restart(ctx context.Context, p *devPlugin, b *supervisor.Bundle) (restarted bool, err error) {
	h.lock()
	defer h.unlock()
	if h.closed || p.retired.Load() || !p.enabled.Load() {
		return false, nil
	}
	h.stop(ctx, p)
	if ctx.Err() != nil {
		return false, nil
	}
	sup, err := supervisor.Start(ctx, b, h.config(p))
	if err != nil {
		msg := err.Error()
		p.failure.Store(&msg)
		return false, err
	}
	p.failure.Store(nil)
	p.sup.Store(sup)
	return true, nil
}
