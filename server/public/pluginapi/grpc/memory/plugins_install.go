package memory

// This file holds InstallPlugin: a plugin bundle, a tar.gz streamed in
// chunks, is unpacked into the plugin directory and its manifest read.

import (
	"archive/tar"
	"compress/gzip"
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

func invalidBundle(details string) *apperror.Error {
	return apperror.New("app.plugin.extract.app_error", "Unable to read the plugin bundle: a tar.gz with plugin.json.",
		apperror.Truncate(details, apperror.MaxMessageBytes), http.StatusBadRequest)
}

// readManifest finds plugin.json in a bundle: at the top, or in the one
// top-level directory.
func readManifest(bundle string) (*pluginpb.Manifest, error) {
	f, err := os.Open(bundle)
	if err != nil {
		return nil, invalidBundle(err.Error())
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, invalidBundle(err.Error())
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, invalidBundle("no plugin.json")
		}
		if err != nil {
			return nil, invalidBundle(err.Error())
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name != "plugin.json" && path.Base(name) != "plugin.json" || strings.Count(name, "/") > 1 {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxManifestBytes+1))
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
}

// InstallPlugin installs a plugin from its tar.gz bundle, streamed in
// chunks, as Mattermost's InstallPlugin does: the manifest must be valid,
// an installed plugin with the same id is replaced only when asked, and
// the new plugin starts disabled.
func (b *Backend) InstallPlugin(stream pluginpb.PluginAPI_InstallPluginServer) error {
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
	if _, err := writeStream(stream.Context(), root, rel, maxBundleBytes, chunksOf(stream.Recv, func(r *pluginpb.InstallPluginRequest) []byte { return r.GetChunk() })); err != nil {
		return err
	}
	bundle := filepath.Join(root, filepath.FromSlash(rel))
	defer os.Remove(bundle)
	m, err := readManifest(bundle)
	if err != nil {
		return err
	}
	m.Id = strings.ToLower(m.GetId())
	if !validPluginID.MatchString(m.GetId()) {
		return apperror.New("model.manifest.is_valid.id.app_error", "Invalid plugin id: 3 to 190 letters, digits, '-', '_' and '.'.", "", http.StatusBadRequest)
	}
	if m.GetVersion() == "" {
		return apperror.New("model.manifest.is_valid.version.app_error", "The manifest needs a version.", "", http.StatusBadRequest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, exists := b.manifests[m.GetId()]; exists && !head.GetReplace() {
		return apperror.New("app.plugin.install_id.app_error", "A plugin with this id is installed already.", "id="+m.GetId(), http.StatusBadRequest)
	}
	b.manifests[m.GetId()] = m
	_, _, states := b.pluginSettings()
	if _, known := states[m.GetId()]; !known {
		states[m.GetId()] = map[string]any{"Enable": false}
	}
	return stream.SendAndClose(&pluginpb.InstallPluginResponse{Manifest: proto.Clone(m).(*pluginpb.Manifest)})
}
