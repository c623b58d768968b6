package memory

// This file holds the handlers and the state of the plugin domain: the
// calling plugin's settings and bundle, and the installed plugins, whose
// enabled state lives in PluginSettings.PluginStates of the configuration.

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// pluginConfigMaxBytes bounds a plugin's settings, as JSON.
const pluginConfigMaxBytes = 64 << 10

// Plugin states of model.PluginStatus.
const (
	pluginStateNotRunning = 0
	pluginStateRunning    = 2
)

// caller returns the id of the plugin that makes the call of ctx: the one
// that its token names (see [auth.PluginIDFromContext]), or else the
// Backend's own plugin.
func (b *Backend) caller(ctx context.Context) string {
	if id, ok := auth.PluginIDFromContext(ctx); ok {
		return id
	}
	return b.pluginID
}

// Manifest sets the manifests of the plugins that the Backend serves. The
// first one's id becomes the Backend's own plugin id, the caller of calls
// whose token names no plugin; calls with a plugin's token (see
// [auth.PluginToken]) act as that plugin, with its own KV store, settings,
// bots and commands. Manifests without an id are skipped. The default is
// one manifest with [DefaultPluginID].
func Manifest(ms ...*pluginpb.Manifest) Option {
	return optionFunc(func(b *Backend) {
		i := slices.IndexFunc(ms, func(m *pluginpb.Manifest) bool { return m.GetId() != "" })
		if i >= 0 {
			b.pluginID, b.manifests = ms[i].GetId(), newManifestStore(ms...)
		}
	})
}

// defaultManifest is the manifest of the served plugin when no Manifest
// option sets one.
func defaultManifest(id string) *pluginpb.Manifest {
	return &pluginpb.Manifest{Id: id, Name: id, Version: "0.1.0",
		Server: &pluginpb.ManifestServer{Executable: "plugin"}}
}

func pluginNotInstalled(id string) *apperror.Error {
	return apperror.New("app.plugin.not_installed.app_error", "The plugin is not installed.",
		"id="+apperror.Truncate(id, apperror.MaxShortBytes), http.StatusNotFound)
}

// pluginSettings returns PluginSettings of the configuration, creating the
// maps it needs. The caller holds the lock.
func (b *Backend) pluginSettings() (settings, plugins, states map[string]any) {
	return pluginSettingsOf(b.config)
}

// pluginSettingsOf returns PluginSettings of cfg, creating the maps it
// needs.
func pluginSettingsOf(cfg map[string]any) (settings, plugins, states map[string]any) {
	settings, _ = cfg["PluginSettings"].(map[string]any)
	if settings == nil {
		settings = map[string]any{}
		cfg["PluginSettings"] = settings
	}
	for _, key := range []string{"Plugins", "PluginStates"} {
		if _, ok := settings[key].(map[string]any); !ok {
			settings[key] = map[string]any{}
		}
	}
	return settings, settings["Plugins"].(map[string]any), settings["PluginStates"].(map[string]any)
}

// ownSettings returns the calling plugin's settings as a Struct. The
// caller holds the lock.
func (b *Backend) ownSettings(pluginID string) *structpb.Struct {
	_, plugins, _ := b.pluginSettings()
	own, _ := plugins[pluginID].(map[string]any)
	s, err := structpb.NewStruct(own)
	if err != nil {
		return &structpb.Struct{}
	}
	return s
}

// configurationWithDefaults returns what LoadPluginConfiguration hands
// the plugin pluginID: the default of every setting of its manifest's
// settings schema, with the saved settings over them, every key in lower
// case. The caller holds the lock.
//
// This is upstream's PluginAPI.LoadPluginConfiguration, in
// server/channels/app/plugin_api.go of mattermost/mattermost at
// f56166d6baa65d91684ba3b6455b65feef3ceace (the same at 004cacd43c54):
// it reads the defaults of SettingsSchema.Settings only, not those of the
// settings in SettingsSchema.Sections; a setting without a default reads
// as null; and both the defaults' and the saved keys go through
// strings.ToLower. Upstream writes no defaults into the configuration,
// neither at install nor at activation (app/plugin.go and
// app/plugin_install.go at 01766b6d197c and 06c376955827), and its
// GetPluginConfig returns the saved settings alone. Where two saved keys
// differ only in case, upstream keeps either, as Go's map order falls;
// here the one that sorts last wins.
func (b *Backend) configurationWithDefaults(pluginID string) *structpb.Struct {
	fields := map[string]*structpb.Value{}
	for _, setting := range b.manifests.settings(pluginID) {
		def := structpb.NewNullValue()
		if setting.GetDefault().GetKind() != nil {
			def = proto.Clone(setting.GetDefault()).(*structpb.Value)
		}
		fields[strings.ToLower(setting.GetKey())] = def
	}
	saved := b.ownSettings(pluginID).GetFields()
	for _, key := range sortedKeys(saved, byString) {
		fields[strings.ToLower(key)] = saved[key]
	}
	return &structpb.Struct{Fields: fields}
}

// LoadPluginConfiguration returns the calling plugin's settings, which
// the plugin decodes into its configuration type: the defaults of its
// manifest's settings schema, with its saved settings over them, keys in
// lower case, as upstream builds them (see configurationWithDefaults).
func (b *Backend) LoadPluginConfiguration(ctx context.Context, _ *pluginpb.LoadPluginConfigurationRequest) (*pluginpb.LoadPluginConfigurationResponse, error) {
	if err := b.syncPluginSettings(ctx); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.LoadPluginConfigurationResponse{Configuration: b.configurationWithDefaults(b.caller(ctx))}, nil
}

// GetPluginConfig returns the calling plugin's saved settings,
// PluginSettings.Plugins[<plugin id>] of the configuration, keys as they
// were saved, or an empty map, as PluginAPI.GetPluginConfig reads them
// from App.GetSanitizedConfig
// (server/channels/app/plugin_api.go@004cacd4:PluginAPI.GetPluginConfig;
// server/channels/app/config.go@65562b25:App.GetSanitizedConfig), whose
// Config.Sanitize (server/public/model/config.go@33b68c60) leaves plugin
// settings as they are. As upstream, it adds no defaults of the settings
// schema; LoadPluginConfiguration does.
func (b *Backend) GetPluginConfig(ctx context.Context, _ *pluginpb.GetPluginConfigRequest) (*pluginpb.GetPluginConfigResponse, error) {
	if err := b.syncPluginSettings(ctx); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetPluginConfigResponse{Config: b.ownSettings(b.caller(ctx))}, nil
}

// SavePluginConfig replaces the calling plugin's settings, as
// PluginAPI.SavePluginConfig does
// (server/channels/app/plugin_api.go@004cacd4:PluginAPI.SavePluginConfig):
// the sanitized configuration with PluginSettings.Plugins[<plugin id>]
// replaced is saved whole, through saveConfig (App.SaveConfig), so that
// ConfigurationWillBeSaved runs, may change or refuse it, the whole
// configuration is checked, and OnConfigurationChange runs after. The
// settings are bounded to 64 KiB of JSON, a bound of the backend's own
// (api.plugin.save_plugin_config.too_large.app_error, 400).
func (b *Backend) SavePluginConfig(ctx context.Context, req *pluginpb.SavePluginConfigRequest) (*pluginpb.SavePluginConfigResponse, error) {
	data, err := json.Marshal(req.GetConfig().AsMap())
	if err != nil || len(data) > pluginConfigMaxBytes {
		return nil, apperror.New("api.plugin.save_plugin_config.too_large.app_error",
			"The plugin's settings must be at most 64 KiB of JSON.", "", http.StatusBadRequest)
	}
	var settings map[string]any
	_ = json.Unmarshal(data, &settings)
	if settings == nil {
		settings = map[string]any{}
	}
	b.mu.Lock()
	cfg := sanitizedConfig(b.config)
	b.mu.Unlock()
	_, plugins, _ := pluginSettingsOf(cfg)
	plugins[b.caller(ctx)] = settings
	if err := b.saveConfig(ctx, cfg); err != nil {
		return nil, err
	}
	return &pluginpb.SavePluginConfigResponse{}, nil
}

// bundlePath is where a plugin's bundle is unpacked when no lifecycle
// knows the plugin: PluginSettings.Directory/<id>, absolute, as upstream's
// GetBundlePath computes it. The caller holds the lock.
func (b *Backend) bundlePath(id string) string {
	dir := b.configString("PluginSettings", "Directory")
	path, err := filepath.Abs(filepath.Join(cmpOr(dir, "./plugins"), id))
	if err != nil {
		return filepath.Join(dir, id)
	}
	return path
}

// GetBundlePath returns the path of the calling plugin's unpacked bundle:
// the directory where the Backend's [PluginLifecycle] runs it, or else
// PluginSettings.Directory/<id>.
func (b *Backend) GetBundlePath(ctx context.Context, _ *pluginpb.GetBundlePathRequest) (*pluginpb.GetBundlePathResponse, error) {
	id := b.caller(ctx)
	if rt, ok := b.runtimeOf(id); ok && rt.Dir != "" {
		return &pluginpb.GetBundlePathResponse{Path: rt.Dir}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetBundlePathResponse{Path: b.bundlePath(id)}, nil
}

// GetPlugins returns the manifests of the installed plugins, by id.
func (b *Backend) GetPlugins(context.Context, *pluginpb.GetPluginsRequest) (*pluginpb.GetPluginsResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &pluginpb.GetPluginsResponse{Manifests: b.manifests.sorted()}, nil
}

// installed returns a copy of an installed plugin's manifest; any other id, the
// empty one too, is app.plugin.not_installed.app_error (404), as the
// plugin environment's lookups answer. The caller holds the lock.
func (b *Backend) installed(id string) (*pluginpb.Manifest, error) {
	m, ok := b.manifests.get(id)
	if !ok {
		return nil, pluginNotInstalled(id)
	}
	return m, nil
}

// setPluginEnabled records a plugin's enabled state in the configuration,
// the id in lower case, as Channels.enablePlugin and disablePlugin
// (server/channels/app/plugin.go@85e9d9c7) look it up; disabling also
// unregisters the plugin's commands, as disablePlugin does.
func (b *Backend) setPluginEnabled(id string, enabled bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.installed(id); err != nil {
		return err
	}
	_, _, states := b.pluginSettings()
	states[id] = map[string]any{"Enable": enabled}
	if !enabled {
		b.unregisterPluginCommands(id)
	}
	return nil
}

// EnablePlugin enables an installed plugin: it records the state in the
// configuration, as upstream does first, then has the Backend's
// [PluginLifecycle], if any, activate the plugin, and returns the
// activation's error (see activationFailed).
func (b *Backend) EnablePlugin(ctx context.Context, req *pluginpb.EnablePluginRequest) (*pluginpb.EnablePluginResponse, error) {
	id := strings.ToLower(req.GetId())
	if err := b.setPluginEnabled(id, true); err != nil {
		return nil, err
	}
	if l := b.lifecycle(); l != nil {
		if err := l.Enable(ctx, id); err != nil {
			return nil, activationFailed(id, err)
		}
	}
	return &pluginpb.EnablePluginResponse{}, nil
}

// DisablePlugin disables an installed plugin, and has the Backend's
// [PluginLifecycle], if any, deactivate it.
func (b *Backend) DisablePlugin(ctx context.Context, req *pluginpb.DisablePluginRequest) (*pluginpb.DisablePluginResponse, error) {
	id := strings.ToLower(req.GetId())
	if err := b.setPluginEnabled(id, false); err != nil {
		return nil, err
	}
	if l := b.lifecycle(); l != nil {
		l.Disable(ctx, id)
	}
	return &pluginpb.DisablePluginResponse{}, nil
}

// RemovePlugin removes an installed plugin as Channels.RemovePlugin does
// (server/channels/app/plugin_install.go@83c7829d): it first disables the
// plugin (its id in lower case; the state stays recorded as disabled, so
// that a reinstall starts disabled; its commands are unregistered), then
// removes it by the id as given. The Backend's [PluginLifecycle], if any,
// deactivates it and removes its files, as removePluginLocally does; its
// failure is app.plugin.remove.app_error, upstream's error when the files
// do not go.
func (b *Backend) RemovePlugin(ctx context.Context, req *pluginpb.RemovePluginRequest) (*pluginpb.RemovePluginResponse, error) {
	if err := b.setPluginEnabled(strings.ToLower(req.GetId()), false); err != nil {
		return nil, err
	}
	b.mu.Lock()
	_, err := b.installed(req.GetId())
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if l := b.lifecycle(); l != nil {
		if err := l.Remove(ctx, req.GetId()); err != nil {
			return nil, apperror.New("app.plugin.remove.app_error", "Unable to remove the plugin.",
				apperror.Truncate(err.Error(), apperror.MaxMessageBytes), http.StatusInternalServerError)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.manifests.remove(req.GetId())
	return &pluginpb.RemovePluginResponse{}, nil
}

// GetPluginStatus returns an installed plugin's status: where it lives
// and whether it runs as the Backend's [PluginLifecycle] says; without
// one, or for a plugin it does not know, running when it is enabled.
func (b *Backend) GetPluginStatus(_ context.Context, req *pluginpb.GetPluginStatusRequest) (*pluginpb.GetPluginStatusResponse, error) {
	rt, known := b.runtimeOf(req.GetId())
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.installed(req.GetId())
	if err != nil {
		return nil, err
	}
	status := &pluginpb.PluginStatus{
		PluginId: m.GetId(), PluginPath: b.bundlePath(m.GetId()), State: pluginStateNotRunning,
		Name: m.GetName(), Description: m.GetDescription(), Version: m.GetVersion(),
	}
	if known {
		status.PluginPath, status.State, status.Error = cmpOr(rt.Dir, status.PluginPath), rt.State, rt.Error
		return &pluginpb.GetPluginStatusResponse{Status: status}, nil
	}
	_, _, states := b.pluginSettings()
	if s, _ := states[m.GetId()].(map[string]any); s["Enable"] == true {
		status.State = pluginStateRunning
	}
	return &pluginpb.GetPluginStatusResponse{Status: status}, nil
}

// RegisterCollectionAndTopic accepts any registration and keeps nothing,
// as upstream's PluginAPI.RegisterCollectionAndTopic, which is no longer
// supported, returns nil.
func (b *Backend) RegisterCollectionAndTopic(context.Context, *pluginpb.RegisterCollectionAndTopicRequest) (*pluginpb.RegisterCollectionAndTopicResponse, error) {
	return &pluginpb.RegisterCollectionAndTopicResponse{}, nil
}

// GetPluginID returns the id of the calling plugin.
func (b *Backend) GetPluginID(ctx context.Context, _ *pluginpb.GetPluginIDRequest) (*pluginpb.GetPluginIDResponse, error) {
	return &pluginpb.GetPluginIDResponse{Id: b.caller(ctx)}, nil
}
