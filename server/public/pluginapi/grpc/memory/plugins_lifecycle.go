package memory

// This file holds the seam between the plugin management of the Plugin API
// (InstallPlugin, EnablePlugin, DisablePlugin, RemovePlugin, GetBundlePath,
// GetPluginStatus) and a host that runs plugins, such as the dev server.

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// PluginLifecycle runs the plugins that a Backend manages, as a Mattermost
// server's plugin environment does: InstallPlugin hands it the plugins it
// unpacks, EnablePlugin has it activate one (and returns its error),
// DisablePlugin deactivate one, RemovePlugin remove one; GetBundlePath and
// GetPluginStatus ask it where a plugin lives and whether it runs.
//
// A Backend uses the PluginLifecycle of its hooks: the [Hooks] given to
// [WithHooks] that also implement PluginLifecycle, so that one value
// receives both the hook events and the lifecycle. Without one, a Backend
// runs no plugins: EnablePlugin records the state only, InstallPlugin
// checks and unpacks the bundle into a temporary directory and removes it.
//
// A Backend calls these methods without holding its lock: they may call
// back into it, as a plugin's OnActivate calls the Plugin API.
type PluginLifecycle interface {
	// PluginsDir returns the directory under which InstallPlugin unpacks
	// bundles, which exists: the host's plugins directory.
	PluginsDir() string
	// Install takes a plugin that InstallPlugin unpacked and checked into
	// p.Dir, a new directory in PluginsDir. From the call on, p.Dir is the
	// lifecycle's: it moves it to where the plugin lives, and removes it
	// when it returns an error. A host that cannot run the plugin (a
	// bundle without wheels for it) returns an error, which InstallPlugin
	// returns. When p.Enabled, Install activates the plugin before it
	// returns, as Mattermost activates an enabled plugin that is
	// installed; a version that runs already keeps serving until the new
	// one is activated, and stays, with its files, when the new one fails
	// to activate, whose error is then an [*ActivationError].
	Install(ctx context.Context, p InstalledPlugin) error
	// Enable activates the installed plugin id unless it runs; its error,
	// an activation failure, is EnablePlugin's. A host may instead queue
	// the activation and return nil, for a plugin's call that comes while
	// another operation (perhaps the very activation that made the call)
	// is in progress; a failure is then the plugin's status.
	Enable(ctx context.Context, id string) error
	// Disable deactivates the plugin id if it runs.
	Disable(ctx context.Context, id string)
	// Remove deactivates the plugin id, forgets it, and removes the files
	// that the host unpacked for it.
	Remove(ctx context.Context, id string) error
	// Status returns where the plugin id lives and whether it runs, and
	// false for a plugin that the lifecycle does not know.
	Status(id string) (PluginRuntime, bool)
}

// InstalledPlugin is a plugin that InstallPlugin unpacked.
type InstalledPlugin struct {
	// Manifest is the plugin's manifest, as the Backend read it.
	Manifest *pluginpb.Manifest
	// Dir is the unpacked plugin directory.
	Dir string
	// SHA256 is the hex digest of the bundle.
	SHA256 string
	// Replace says that the plugin replaces an installed one with its id.
	Replace bool
	// Enabled says that the configuration enables the plugin
	// (PluginSettings.PluginStates), so that it is activated at once.
	Enabled bool
}

// PluginRuntime is where a plugin lives and whether it runs.
type PluginRuntime struct {
	// Dir is the plugin directory, absolute: what GetBundlePath answers.
	Dir string
	// State is one of model.PluginStatus' states: 0 not running, 2
	// running, 3 failed to start, 4 failed to stay running (the host
	// gave up restarting it).
	State int32
	// Error says why the plugin failed to start or to stay running, when
	// it did.
	Error string
}

// ActivationError is the error of a plugin that the lifecycle could not
// activate.
type ActivationError struct {
	// PluginID is the plugin's id.
	PluginID string
	// Err says why.
	Err error
}

func (e *ActivationError) Error() string {
	return fmt.Sprintf("plugin %s failed to activate: %v", e.PluginID, e.Err)
}

func (e *ActivationError) Unwrap() error { return e.Err }

// lifecycle returns the Backend's PluginLifecycle, or nil. The hooks are
// set by New's options only, so no lock is needed.
func (b *Backend) lifecycle() PluginLifecycle {
	l, _ := b.hooks.(PluginLifecycle)
	return l
}

// runtimeOf asks the lifecycle where plugin id lives and whether it runs.
// It must be called without the lock.
func (b *Backend) runtimeOf(id string) (PluginRuntime, bool) {
	if l := b.lifecycle(); l != nil {
		return l.Status(id)
	}
	return PluginRuntime{}, false
}

// activationFailed is the AppError of a plugin that did not activate:
// app.plugin.restart.app_error, the error of upstream's
// installExtractedPlugin when the plugin of an enabled install fails to
// activate (server/channels/app/plugin_install.go of mattermost/mattermost
// at 06c3769558273e30459e8cab1d38c71de1bf19d1). Upstream's EnablePlugin
// itself only saves the configuration and logs an activation failure
// (server/channels/app/plugin.go at 01766b6d197c); here, as a local
// server's caller wants to know, EnablePlugin returns it.
func activationFailed(id string, err error) *apperror.Error {
	var appErr *apperror.Error
	if errors.As(err, &appErr) {
		return appErr
	}
	return apperror.New("app.plugin.restart.app_error",
		apperror.Truncate(fmt.Sprintf("Unable to activate plugin %s: %v", id, err), apperror.MaxMessageBytes),
		"plugin_id="+apperror.Truncate(id, apperror.MaxShortBytes), http.StatusInternalServerError)
}

// installFailed is the AppError of a lifecycle's Install that failed: an
// activation failure as activationFailed; otherwise the host cannot run
// the bundle, a bad request.
func installFailed(id string, err error) *apperror.Error {
	var appErr *apperror.Error
	var activation *ActivationError
	switch {
	case errors.As(err, &appErr):
		return appErr
	case errors.As(err, &activation):
		return activationFailed(id, err)
	}
	return apperror.New("app.plugin.install.app_error",
		apperror.Truncate(fmt.Sprintf("Unable to install plugin %s: %v", id, err), apperror.MaxMessageBytes),
		"plugin_id="+apperror.Truncate(id, apperror.MaxShortBytes), http.StatusBadRequest)
}
