package memory

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// This file holds the installed plugins' manifests. Its methods do not
// lock: the Backend's mutex guards them.

// manifestStore holds the manifests of the installed plugins, by plugin id
// as installed (ids are not lower-cased).
type manifestStore map[string]*pluginpb.Manifest

// newManifestStore returns a store that holds copies of the manifests;
// those without an id are skipped.
func newManifestStore(ms ...*pluginpb.Manifest) manifestStore {
	s := manifestStore{}
	for _, m := range ms {
		if m.GetId() != "" {
			s.put(m)
		}
	}
	return s
}

// get returns a copy of an installed plugin's manifest.
func (s manifestStore) get(pluginID string) (*pluginpb.Manifest, bool) {
	m, ok := s[pluginID]
	if !ok {
		return nil, false
	}
	return proto.Clone(m).(*pluginpb.Manifest), true
}

// isInstalled reports whether a plugin with the id is installed.
func (s manifestStore) isInstalled(pluginID string) bool {
	_, ok := s[pluginID]
	return ok
}

// settings returns the settings that a plugin's manifest declares, nil
// for a plugin that is not installed. The caller must not change them.
func (s manifestStore) settings(pluginID string) []*pluginpb.PluginSetting {
	return s[pluginID].GetSettingsSchema().GetSettings()
}

// sorted returns copies of the manifests, by plugin id.
func (s manifestStore) sorted() []*pluginpb.Manifest {
	out := make([]*pluginpb.Manifest, 0, len(s))
	for _, m := range s {
		out = append(out, proto.Clone(m).(*pluginpb.Manifest))
	}
	slices.SortFunc(out, func(x, y *pluginpb.Manifest) int { return cmp.Compare(x.GetId(), y.GetId()) })
	return out
}

// put stores a copy of m, replacing the manifest with its id.
func (s manifestStore) put(m *pluginpb.Manifest) {
	s[m.GetId()] = proto.Clone(m).(*pluginpb.Manifest)
}

// remove deletes a plugin's manifest; an unknown id is no error.
func (s manifestStore) remove(pluginID string) {
	delete(s, pluginID)
}
