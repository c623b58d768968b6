package memory

// This file holds InstallPlugin: a plugin bundle, a tar.gz streamed in
// chunks, is unpacked with package bundle's checks and its manifest read;
// the Backend's PluginLifecycle, if any, takes the unpacked plugin.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/bundle"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of plugin bundles.
const (
	// maxBundleBytes bounds an uploaded bundle, as Mattermost's default
	// PluginSettings upload limit of 50 MiB does.
	maxBundleBytes = 50 << 20
	// maxManifestBytes bounds plugin.json.
	maxManifestBytes = 1 << 20
)

// validPluginID is model.IsValidPluginId's pattern.
var validPluginID = regexp.MustCompile(`^[a-zA-Z0-9-_\.]{3,190}$`)

// invalidBundle is the AppError of a bundle that is refused, with the
// reason.
func invalidBundle(details string) *apperror.Error {
	return apperror.New("app.plugin.extract.app_error",
		apperror.Truncate("Unable to install the plugin bundle: "+details+".", apperror.MaxMessageBytes),
		apperror.Truncate(details, apperror.MaxMessageBytes), http.StatusBadRequest)
}

// extract unpacks the bundle file at src into dest (see bundle.Extract).
func extract(ctx context.Context, src, dest string) (*bundle.Extracted, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, storageError(err)
	}
	defer f.Close()
	ex, err := bundle.Extract(ctx, f, dest, bundle.Limits{})
	var refused *bundle.RefusedError
	switch {
	case errors.As(err, &refused):
		return nil, invalidBundle(strings.TrimPrefix(refused.Error(), "bundle refused: "))
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return nil, err
	case err != nil:
		return nil, storageError(err)
	}
	return ex, nil
}

// readManifest reads and parses plugin.json in the plugin directory dir.
func readManifest(dir string) (*pluginpb.Manifest, error) {
	f, err := os.Open(filepath.Join(dir, bundle.ManifestFile))
	if err != nil {
		return nil, invalidBundle("no plugin.json")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil || len(data) > maxManifestBytes {
		return nil, invalidBundle("plugin.json is unreadable or larger than 1 MiB")
	}
	m := &pluginpb.Manifest{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return nil, apperror.New("app.plugin.manifest.app_error", "Invalid plugin.json.",
			apperror.Truncate(err.Error(), apperror.MaxMessageBytes), http.StatusBadRequest)
	}
	return m, nil
}

// InstallPlugin installs a plugin from its tar.gz bundle, streamed in
// chunks. As PluginAPI.InstallPlugin
// (server/channels/app/plugin_api.go@f56166d6), it first requires
// PluginSettings.Enable and PluginSettings.EnableUploads (off by default;
// see [Backend.EnablePluginUploads]), else
// app.plugin.upload_disabled.app_error (501); then it installs as
// Mattermost's InstallPlugin does (installPluginLocally in
// server/channels/app/plugin_install.go of mattermost/mattermost at
// 06c3769558273e30459e8cab1d38c71de1bf19d1): the bundle is unpacked into
// a directory of its own and checked (package bundle: no path that leaves
// it, no links or devices, bounded entries and bytes, SHA256SUMS), the
// manifest's id is checked as model.IsValidPluginId does
// (app.plugin.invalid_id.app_error, 400), as it is: not lower-cased, and
// no version is needed; an installed plugin with the same id is replaced
// only when asked, and a new plugin starts disabled. The Backend's
// [PluginLifecycle], if any, takes the unpacked plugin, and activates it
// when the configuration enables it; without one the unpacked files are
// removed once checked.
func (b *Backend) InstallPlugin(stream pluginpb.PluginAPI_InstallPluginServer) error {
	ctx := stream.Context()
	b.mu.Lock()
	allowed := b.configBool("PluginSettings", "Enable") && b.configBool("PluginSettings", "EnableUploads")
	b.mu.Unlock()
	if !allowed {
		return apperror.New("app.plugin.upload_disabled.app_error",
			"Plugins and/or plugin uploads have been disabled.", "", http.StatusNotImplemented)
	}
	head, err := headOf(stream.Recv, "an upload")
	if err != nil {
		return err
	}
	b.mu.Lock()
	root, err := b.fileRoot()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	rel := path.Join("plugins", "uploads", newID()+".tar.gz")
	if _, err := writeStream(ctx, root, rel, maxBundleBytes, chunksOf(stream.Recv, func(r *pluginpb.InstallPluginRequest) []byte { return r.GetChunk() })); err != nil {
		return err
	}
	upload := filepath.Join(root, filepath.FromSlash(rel))
	defer os.Remove(upload)

	lifecycle := b.lifecycle()
	parent := filepath.Join(root, "plugins")
	if lifecycle != nil {
		parent = lifecycle.PluginsDir()
	}
	// A name that no plugin id has (ids have no "+"), hidden as
	// Mattermost's plugin scan skips names that start with ".".
	dir := filepath.Join(parent, ".install+"+newID())
	ex, err := extract(ctx, upload, dir)
	if err != nil {
		return err
	}
	owned := false // by the lifecycle, once it has the directory
	defer func() {
		if !owned {
			os.RemoveAll(dir)
		}
	}()
	m, err := readManifest(dir)
	if err != nil {
		return err
	}
	// extractPlugin's only check of the manifest: the id as it is, neither
	// lower-cased nor needing a version
	// (server/channels/app/plugin_install.go@06c37695:extractPlugin).
	if !validPluginID.MatchString(m.GetId()) {
		e := apperror.New("app.plugin.invalid_id.app_error",
			"Invalid plugin id: 3 to 190 letters, digits, '-', '_' and '.'.", "", http.StatusBadRequest)
		e.Where = "installPluginLocally"
		return e
	}
	b.mu.Lock()
	exists := b.manifests.isInstalled(m.GetId())
	_, _, states := b.pluginSettings()
	state, _ := states[m.GetId()].(map[string]any)
	enabled := state["Enable"] == true
	b.mu.Unlock()
	if exists && !head.GetReplace() {
		return apperror.New("app.plugin.install_id.app_error", "A plugin with this id is installed already.", "id="+m.GetId(), http.StatusBadRequest)
	}
	if lifecycle != nil {
		owned = true
		err := lifecycle.Install(ctx, InstalledPlugin{
			Manifest: proto.Clone(m).(*pluginpb.Manifest), Dir: dir, SHA256: ex.SHA256,
			Replace: exists, Enabled: enabled,
		})
		if err != nil {
			return installFailed(m.GetId(), err)
		}
	}
	b.mu.Lock()
	b.manifests.put(m)
	_, _, states = b.pluginSettings()
	if _, known := states[m.GetId()]; !known {
		states[m.GetId()] = map[string]any{"Enable": false}
	}
	b.mu.Unlock()
	return stream.SendAndClose(&pluginpb.InstallPluginResponse{Manifest: proto.Clone(m).(*pluginpb.Manifest)})
}

// EnablePluginUploads turns PluginSettings.EnableUploads on in the
// configuration, as an administrator does to let plugins be uploaded:
// InstallPlugin needs it, and it is off by default, as upstream's
// PluginSettings.SetDefaults has it. A host whose users install their
// plugins through the Plugin API, such as the dev server, calls it once
// its configuration is loaded; a later SaveConfig may turn it off again.
func (b *Backend) EnablePluginUploads() {
	b.mu.Lock()
	defer b.mu.Unlock()
	settings, _, _ := b.pluginSettings()
	settings["EnableUploads"] = true
}
