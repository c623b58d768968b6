package main

// This file holds -watch: each plugin directory is polled, and a change to
// a .py file or the manifest restarts that plugin alone.

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/supervisor"
)

const (
	// watchInterval is how often a plugin directory is scanned.
	watchInterval = 200 * time.Millisecond
	// watchQuiet is how long the files must stay as they are before the
	// plugin restarts, so that a burst of writes (an editor's save, a
	// checkout) is one restart.
	watchQuiet = 100 * time.Millisecond
	// maxWatchedEntries bounds the files and directories of one scan.
	maxWatchedEntries = 10_000
)

// stamp identifies one version of a file.
type stamp struct {
	size    int64
	modTime time.Time
	inode   uint64
}

// snapshot maps the watched files of a plugin directory, by path, to
// their stamps.
type snapshot map[string]stamp

// scan returns the watched files under dir: the .py files, and the
// manifest at the top. It skips directories that hold no plugin code:
// those whose name starts with "." (.git, .venv, .mypy_cache, ...),
// __pycache__, node_modules, and virtual environments (a directory with a
// pyvenv.cfg). After maxWatchedEntries entries it stops, with truncated
// set. A directory that cannot be read is skipped.
func scan(dir string) (files snapshot, truncated bool) {
	files = snapshot{}
	entries := 0
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() && path != dir {
				return fs.SkipDir
			}
			return nil
		}
		if entries++; entries > maxWatchedEntries {
			truncated = true
			return fs.SkipAll
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && skipDir(path, name) {
				return fs.SkipDir
			}
			return nil
		}
		watched := strings.HasSuffix(name, ".py") ||
			(name == supervisor.ManifestFile && filepath.Dir(path) == dir)
		if !watched || (!d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0) {
			return nil
		}
		info, err := os.Stat(path) // through a symbolic link
		if err != nil {
			return nil
		}
		st := stamp{size: info.Size(), modTime: info.ModTime()}
		if sys, ok := info.Sys().(*syscall.Stat_t); ok {
			st.inode = sys.Ino
		}
		files[path] = st
		return nil
	})
	return files, truncated
}

// skipDir reports whether the directory at path, named name, holds no
// plugin code.
func skipDir(path, name string) bool {
	if strings.HasPrefix(name, ".") || name == "__pycache__" || name == "node_modules" {
		return true
	}
	_, err := os.Stat(filepath.Join(path, "pyvenv.cfg"))
	return err == nil
}

// firstChange returns the first path, in order, that differs between a and
// b, or "" if they are the same.
func firstChange(a, b snapshot) string {
	var changed []string
	for path, st := range a {
		if other, ok := b[path]; !ok || other != st {
			changed = append(changed, path)
		}
	}
	for path := range b {
		if _, ok := a[path]; !ok {
			changed = append(changed, path)
		}
	}
	if len(changed) == 0 {
		return ""
	}
	return slices.Min(changed)
}

// pluginWatcher restarts one plugin when its files change.
type pluginWatcher struct {
	host   *host
	plugin *devPlugin
	dir    string // the plugin directory
	logger *slog.Logger
	// interval and quiet are watchInterval and watchQuiet, but in tests.
	interval, quiet time.Duration
}

func newPluginWatcher(h *host, p *devPlugin, logger *slog.Logger) *pluginWatcher {
	return &pluginWatcher{
		host:     h,
		plugin:   p,
		dir:      p.bundle.Dir,
		logger:   logger.With(slog.String("plugin_id", p.id())),
		interval: watchInterval,
		quiet:    watchQuiet,
	}
}

// run scans the plugin directory every interval until ctx is done. When
// the files differ from the last scan, it waits until two scans quiet
// apart agree, then restarts the plugin.
func (w *pluginWatcher) run(ctx context.Context) {
	last := w.scan(true)
	w.logger.Debug("watching the plugin directory", slog.String("dir", w.dir), slog.Int("files", len(last)))
	ticker := time.NewTicker(w.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		now := w.scan(false)
		changed := firstChange(last, now)
		if changed == "" {
			continue
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(w.quiet):
			}
			next := w.scan(false)
			if firstChange(now, next) == "" {
				break
			}
			now = next
		}
		last = now
		w.reload(ctx, changed)
	}
}

// scan scans the plugin directory; first says whether to warn of a
// directory too large to watch whole.
func (w *pluginWatcher) scan(first bool) snapshot {
	files, truncated := scan(w.dir)
	if truncated && first {
		w.logger.Warn("the plugin directory has too many entries; only the first ones are watched",
			slog.String("dir", w.dir), slog.Int("max_entries", maxWatchedEntries))
	}
	return files
}

// reload restarts the plugin with the code and manifest now in its
// directory. A manifest that does not load, or that changes the plugin's
// id, keeps the plugin as it is, and so does a plugin that DisablePlugin
// stopped (EnablePlugin starts it with its files as they are then).
// Otherwise the plugin is stopped (OnDeactivate) and started again; while
// it is down, and if it does not start, its hooks fail open and its HTTP
// routes answer 404, until the next change.
func (w *pluginWatcher) reload(ctx context.Context, changed string) {
	began := time.Now()
	rel, err := filepath.Rel(w.dir, changed)
	if err != nil {
		rel = changed
	}
	w.logger.Info("plugin files changed; restarting the plugin", slog.String("file", rel))
	bundle, err := supervisor.Load(w.dir)
	if err != nil {
		w.logger.Error("plugin not restarted: its manifest does not load; the plugin stays as it was", slog.String("error", err.Error()))
		return
	}
	if id := bundle.Manifest.ID; id != w.plugin.id() {
		w.logger.Error("plugin not restarted: its manifest changes the plugin id, which takes a restart of the server; the plugin stays as it was",
			slog.String("new_plugin_id", id))
		return
	}
	restarted, err := w.host.restart(ctx, w.plugin, bundle)
	switch {
	case err != nil:
		w.logger.Error("plugin restart failed; it stays down until its files change again", slog.String("error", err.Error()))
	case restarted:
		w.logger.Info("plugin reloaded", slog.Duration("took", time.Since(began)))
	case ctx.Err() == nil:
		w.logger.Info("plugin not restarted: it is disabled, or was replaced or removed through the Plugin API")
	}
}
