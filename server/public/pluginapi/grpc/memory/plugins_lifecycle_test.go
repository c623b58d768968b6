package memory

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// fakeLifecycle is a PluginLifecycle that runs nothing: it records the
// calls, moves an installed plugin to <root>/<id>, and fails when told.
type fakeLifecycle struct {
	NoHooks
	root string

	mu            sync.Mutex
	calls         []string
	got           []InstalledPlugin
	dirs          map[string]string
	running       map[string]bool
	failInstall   error
	failActivate  error
	activateError map[string]string
}

var _ PluginLifecycle = (*fakeLifecycle)(nil)

func newFakeLifecycle(t *testing.T) *fakeLifecycle {
	return &fakeLifecycle{root: t.TempDir(), dirs: map[string]string{}, running: map[string]bool{}, activateError: map[string]string{}}
}

func (f *fakeLifecycle) PluginsDir() string { return f.root }

func (f *fakeLifecycle) Install(_ context.Context, p InstalledPlugin) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := p.Manifest.GetId()
	f.calls = append(f.calls, fmt.Sprintf("install %s replace=%v enabled=%v", id, p.Replace, p.Enabled))
	f.got = append(f.got, p)
	if f.failInstall != nil {
		os.RemoveAll(p.Dir)
		return f.failInstall
	}
	if p.Enabled && f.failActivate != nil {
		os.RemoveAll(p.Dir)
		return &ActivationError{PluginID: id, Err: f.failActivate}
	}
	dest := filepath.Join(f.root, id)
	os.RemoveAll(dest)
	if err := os.Rename(p.Dir, dest); err != nil {
		return err
	}
	f.dirs[id] = dest
	f.running[id] = p.Enabled
	return nil
}

func (f *fakeLifecycle) Enable(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "enable "+id)
	if f.failActivate != nil {
		f.activateError[id] = f.failActivate.Error()
		return &ActivationError{PluginID: id, Err: f.failActivate}
	}
	f.running[id] = true
	return nil
}

func (f *fakeLifecycle) Disable(_ context.Context, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "disable "+id)
	f.running[id] = false
}

func (f *fakeLifecycle) Remove(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "remove "+id)
	err := os.RemoveAll(f.dirs[id])
	delete(f.dirs, id)
	delete(f.running, id)
	return err
}

func (f *fakeLifecycle) Status(id string) (PluginRuntime, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	dir, ok := f.dirs[id]
	if !ok {
		return PluginRuntime{}, false
	}
	switch {
	case f.running[id]:
		return PluginRuntime{Dir: dir, State: pluginStateRunning}, true
	case f.activateError[id] != "":
		return PluginRuntime{Dir: dir, State: 3, Error: f.activateError[id]}, true
	}
	return PluginRuntime{Dir: dir, State: pluginStateNotRunning}, true
}

func (f *fakeLifecycle) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// installStream is the server side of an InstallPlugin upload: a head,
// then the bundle in chunks.
type installStream struct {
	grpc.ServerStream
	ctx  context.Context
	reqs []*pluginpb.InstallPluginRequest
	resp *pluginpb.InstallPluginResponse
}

func newInstallStream(bundle []byte, replace bool) *installStream {
	s := &installStream{ctx: context.Background()}
	s.reqs = append(s.reqs, &pluginpb.InstallPluginRequest{Part: &pluginpb.InstallPluginRequest_Head{Head: &pluginpb.InstallPluginHead{Replace: replace}}})
	for len(bundle) > 0 {
		n := min(len(bundle), 64<<10)
		s.reqs = append(s.reqs, &pluginpb.InstallPluginRequest{Part: &pluginpb.InstallPluginRequest_Chunk{Chunk: bundle[:n]}})
		bundle = bundle[n:]
	}
	return s
}

func (s *installStream) Context() context.Context { return s.ctx }

func (s *installStream) Recv() (*pluginpb.InstallPluginRequest, error) {
	if len(s.reqs) == 0 {
		return nil, io.EOF
	}
	r := s.reqs[0]
	s.reqs = s.reqs[1:]
	return r, nil
}

func (s *installStream) SendAndClose(r *pluginpb.InstallPluginResponse) error {
	s.resp = r
	return nil
}

// install turns plugin uploads on and uploads bundle to b.
func install(b *Backend, bundle []byte, replace bool) (*pluginpb.Manifest, error) {
	b.EnablePluginUploads()
	s := newInstallStream(bundle, replace)
	if err := b.InstallPlugin(s); err != nil {
		return nil, err
	}
	return s.resp.GetManifest(), nil
}

// tarEntry is one entry of a test bundle.
type tarEntry struct {
	name, body, link string
	typ              byte
}

// bundleOf writes a tar.gz of entries; a regular file when typ is 0.
func bundleOf(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link}
		if h.Typeflag == 0 {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, e.body)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// checksums is SHA256SUMS of files, relative to the top directory top.
func checksums(top string, files ...tarEntry) tarEntry {
	var lines []string
	for _, f := range files {
		sum := sha256.Sum256([]byte(f.body))
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+strings.TrimPrefix(f.name, top+"/"))
	}
	slices.Sort(lines)
	return tarEntry{name: top + "/SHA256SUMS", body: strings.Join(lines, "\n") + "\n"}
}

const installedID = "com.example.installed"

func manifestEntry(top, id, version string) tarEntry {
	return tarEntry{name: top + "/plugin.json", body: fmt.Sprintf(`{"id": %q, "name": "Installed", "version": %q, "server": {"python": {"entry": "plugin.py", "targets": ["linux-x86_64-cp311"]}}}`, id, version)}
}

// goodBundle is a bundle of installedID as the bundler makes it.
func goodBundle(t *testing.T, version string) []byte {
	m := manifestEntry(installedID, installedID, version)
	code := tarEntry{name: installedID + "/plugin.py", body: "print('hi')\n"}
	wheel := tarEntry{name: installedID + "/wheels/linux-x86_64-cp311/x-1.0-py3-none-any.whl", body: "wheel"}
	return bundleOf(t, m, code, wheel, checksums(installedID, m, code, wheel))
}

// entriesOf lists what dir holds, recursively, as slash paths.
func entriesOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && path != dir {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func appErrorOf(t *testing.T, err error) *apperror.Error {
	t.Helper()
	var appErr *apperror.Error
	if !errors.As(err, &appErr) {
		t.Fatalf("error %v (%T) is not an AppError", err, err)
	}
	return appErr
}

func TestInstallPluginHandsTheBundleToTheLifecycle(t *testing.T) {
	lc := newFakeLifecycle(t)
	b := New(WithHooks(lc))
	defer b.Close()
	bundle := goodBundle(t, "1.0.0")
	m, err := install(b, bundle, false)
	if err != nil {
		t.Fatalf("InstallPlugin() = %v", err)
	}
	if m.GetId() != installedID || m.GetVersion() != "1.0.0" {
		t.Errorf("InstallPlugin() = %v", m)
	}
	digest := sha256.Sum256(bundle)
	if len(lc.got) != 1 || lc.got[0].SHA256 != hex.EncodeToString(digest[:]) || filepath.Dir(lc.got[0].Dir) != lc.root || lc.got[0].Replace || lc.got[0].Enabled {
		t.Fatalf("the lifecycle got %+v; want the unpacked bundle in its plugins directory, with the bundle's digest", lc.got)
	}
	dir := filepath.Join(lc.root, installedID)
	if got := entriesOf(t, lc.root); !slices.Equal(got, []string{installedID, installedID + "/SHA256SUMS", installedID + "/plugin.json", installedID + "/plugin.py", installedID + "/wheels", installedID + "/wheels/linux-x86_64-cp311", installedID + "/wheels/linux-x86_64-cp311/x-1.0-py3-none-any.whl"}) {
		t.Errorf("the plugins directory holds %q", got)
	}

	// The plugin's own calls see its directory.
	ctx := auth.NewContext(context.Background(), installedID)
	path, err := b.GetBundlePath(ctx, &pluginpb.GetBundlePathRequest{})
	if err != nil || path.GetPath() != dir {
		t.Errorf("GetBundlePath() = %v, %v; want %s", path, err, dir)
	}
	tests := []struct {
		name  string
		call  func() error
		state int32
		calls string
	}{
		{"enable", func() error {
			_, err := b.EnablePlugin(ctx, &pluginpb.EnablePluginRequest{Id: installedID})
			return err
		}, pluginStateRunning, "enable " + installedID},
		{"disable", func() error {
			_, err := b.DisablePlugin(ctx, &pluginpb.DisablePluginRequest{Id: installedID})
			return err
		}, pluginStateNotRunning, "disable " + installedID},
	}
	for _, tc := range tests {
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		status, err := b.GetPluginStatus(ctx, &pluginpb.GetPluginStatusRequest{Id: installedID})
		if err != nil || status.GetStatus().GetState() != tc.state || status.GetStatus().GetPluginPath() != dir {
			t.Errorf("%s: GetPluginStatus() = %v, %v; want state %d in %s", tc.name, status, err, tc.state, dir)
		}
		if calls := lc.callLog(); calls[len(calls)-1] != tc.calls {
			t.Errorf("%s: the lifecycle's last call is %q, want %q", tc.name, calls[len(calls)-1], tc.calls)
		}
	}

	// A plugin the lifecycle does not know keeps upstream's path.
	own, err := b.GetBundlePath(context.Background(), &pluginpb.GetBundlePathRequest{})
	if err != nil || !strings.HasSuffix(own.GetPath(), filepath.Join("plugins", DefaultPluginID)) {
		t.Errorf("GetBundlePath(the Backend's own plugin) = %v, %v", own, err)
	}

	if _, err := b.RemovePlugin(ctx, &pluginpb.RemovePluginRequest{Id: installedID}); err != nil {
		t.Fatalf("RemovePlugin() = %v", err)
	}
	if got := entriesOf(t, lc.root); len(got) > 0 {
		t.Errorf("after RemovePlugin the plugins directory holds %q", got)
	}
	if _, err := b.GetPluginStatus(ctx, &pluginpb.GetPluginStatusRequest{Id: installedID}); appErrorOf(t, err).ID != "app.plugin.not_installed.app_error" {
		t.Errorf("GetPluginStatus(removed) = %v", err)
	}
}

// TestInstallPluginReplaces installs a plugin again: refused without
// replace, as upstream; with it, the lifecycle is told, and told that the
// configuration enables the plugin once it does.
func TestInstallPluginReplaces(t *testing.T) {
	lc := newFakeLifecycle(t)
	b := New(WithHooks(lc))
	defer b.Close()
	ctx := context.Background()
	if _, err := install(b, goodBundle(t, "1.0.0"), false); err != nil {
		t.Fatal(err)
	}
	_, err := install(b, goodBundle(t, "1.1.0"), false)
	if appErr := appErrorOf(t, err); appErr.ID != "app.plugin.install_id.app_error" || appErr.StatusCode != http.StatusBadRequest {
		t.Errorf("InstallPlugin(again, no replace) = %v", err)
	}
	if _, err := b.EnablePlugin(ctx, &pluginpb.EnablePluginRequest{Id: installedID}); err != nil {
		t.Fatal(err)
	}
	m, err := install(b, goodBundle(t, "1.1.0"), true)
	if err != nil || m.GetVersion() != "1.1.0" {
		t.Fatalf("InstallPlugin(replace) = %v, %v", m, err)
	}

	// A new version that does not activate: the error says why, and the
	// installed version stays.
	lc.failActivate = errors.New("OnActivate raised ValueError: no token")
	_, err = install(b, goodBundle(t, "2.0.0"), true)
	appErr := appErrorOf(t, err)
	if appErr.ID != "app.plugin.restart.app_error" || appErr.StatusCode != http.StatusInternalServerError || !strings.Contains(appErr.Message, "no token") {
		t.Errorf("InstallPlugin(a version that fails) = %+v", appErr)
	}
	want := []string{
		"install " + installedID + " replace=false enabled=false",
		"enable " + installedID,
		"install " + installedID + " replace=true enabled=true",
		"install " + installedID + " replace=true enabled=true",
	}
	if got := lc.callLog(); !slices.Equal(got, want) {
		t.Errorf("the lifecycle's calls: %q\nwant %q", got, want)
	}
	plugins, _ := b.GetPlugins(ctx, &pluginpb.GetPluginsRequest{})
	for _, p := range plugins.GetManifests() {
		if p.GetId() == installedID && p.GetVersion() != "1.1.0" {
			t.Errorf("after a failed replace the installed version is %s, want 1.1.0", p.GetVersion())
		}
	}

	// EnablePlugin returns the activation's failure, and the status has it.
	_, err = b.EnablePlugin(ctx, &pluginpb.EnablePluginRequest{Id: installedID})
	if appErr := appErrorOf(t, err); appErr.ID != "app.plugin.restart.app_error" || !strings.Contains(appErr.Message, "no token") {
		t.Errorf("EnablePlugin(a plugin that fails) = %v", err)
	}
	lc.mu.Lock()
	lc.running[installedID] = false
	lc.mu.Unlock()
	status, _ := b.GetPluginStatus(ctx, &pluginpb.GetPluginStatusRequest{Id: installedID})
	if status.GetStatus().GetState() != 3 || !strings.Contains(status.GetStatus().GetError(), "no token") {
		t.Errorf("GetPluginStatus(failed) = %v", status)
	}
}

func TestInstallPluginLifecycleRefusal(t *testing.T) {
	lc := newFakeLifecycle(t)
	lc.failInstall = errors.New("the bundle carries linux-aarch64-cp311; this host is linux-x86_64-cp312")
	b := New(WithHooks(lc))
	defer b.Close()
	_, err := install(b, goodBundle(t, "1.0.0"), false)
	appErr := appErrorOf(t, err)
	if appErr.ID != "app.plugin.install.app_error" || appErr.StatusCode != http.StatusBadRequest || !strings.Contains(appErr.Message, "this host is linux-x86_64-cp312") {
		t.Errorf("InstallPlugin(refused by the host) = %+v", appErr)
	}
	if got := entriesOf(t, lc.root); len(got) > 0 {
		t.Errorf("the plugins directory holds %q", got)
	}
	if _, err := b.GetPluginStatus(context.Background(), &pluginpb.GetPluginStatusRequest{Id: installedID}); appErrorOf(t, err).ID != "app.plugin.not_installed.app_error" {
		t.Errorf("a refused plugin is installed: %v", err)
	}
}

// TestInstallPluginRefusesBadBundles uploads unsafe or broken bundles, to
// a Backend with a lifecycle and to one without: each is refused with its
// reason, and neither the plugins directory nor the file store keeps
// anything of it.
func TestInstallPluginRefusesBadBundles(t *testing.T) {
	const top = installedID
	m := manifestEntry(top, installedID, "1.0.0")
	code := tarEntry{name: top + "/plugin.py", body: "print('hi')\n"}
	tampered := tarEntry{name: code.name, body: "print('tampered')\n"}
	tests := []struct {
		name   string
		bundle []byte
		id     string
		want   string
	}{
		{"a parent path", bundleOf(t, m, tarEntry{name: "../evil", body: "x"}), "app.plugin.extract.app_error", `"../evil": a ".." component`},
		{"an absolute path", bundleOf(t, m, tarEntry{name: "/etc/evil", body: "x"}), "app.plugin.extract.app_error", "an absolute path"},
		{"a symbolic link", bundleOf(t, m, tarEntry{name: top + "/link", link: "/etc/passwd", typ: tar.TypeSymlink}), "app.plugin.extract.app_error", "a symbolic link"},
		{"a hard link", bundleOf(t, m, tarEntry{name: top + "/hard", link: "plugin.json", typ: tar.TypeLink}), "app.plugin.extract.app_error", "a hard link"},
		{"a device", bundleOf(t, m, tarEntry{name: top + "/dev", typ: tar.TypeChar}), "app.plugin.extract.app_error", "a device"},
		{"a SHA256SUMS mismatch", bundleOf(t, m, tampered, checksums(top, m, code)), "app.plugin.extract.app_error", "does not match SHA256SUMS"},
		{"not a tar.gz", []byte("not a tar.gz"), "app.plugin.extract.app_error", "not a readable tar.gz"},
		{"no manifest", bundleOf(t, code), "app.plugin.extract.app_error", "no plugin.json"},
		{"an invalid manifest", bundleOf(t, tarEntry{name: top + "/plugin.json", body: `{"id": 7}`}), "app.plugin.manifest.app_error", ""},
		// server/channels/app/plugin_install.go@06c37695:extractPlugin.
		{"an invalid id", bundleOf(t, manifestEntry("x", "x", "1.0.0")), "app.plugin.invalid_id.app_error", ""},
		{"an id with a space", bundleOf(t, manifestEntry("x", "com.example bad", "1.0.0")), "app.plugin.invalid_id.app_error", ""},
	}
	for _, withLifecycle := range []bool{true, false} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/lifecycle=%v", tc.name, withLifecycle), func(t *testing.T) {
				files := t.TempDir()
				opts := []Option{FileDir(files)}
				lc := newFakeLifecycle(t)
				if withLifecycle {
					opts = append(opts, WithHooks(lc))
				}
				b := New(opts...)
				_, err := install(b, tc.bundle, false)
				appErr := appErrorOf(t, err)
				if appErr.ID != tc.id || appErr.StatusCode != http.StatusBadRequest || !strings.Contains(appErr.Message, tc.want) {
					t.Errorf("InstallPlugin() = %+v; want %s with %q", appErr, tc.id, tc.want)
				}
				if got := entriesOf(t, lc.root); len(got) > 0 {
					t.Errorf("the plugins directory holds %q", got)
				}
				for _, p := range entriesOf(t, files) {
					if p != "plugins" && p != "plugins/uploads" {
						t.Errorf("the file store holds %q", p)
					}
				}
				if len(lc.got) > 0 {
					t.Errorf("the lifecycle got a refused bundle: %+v", lc.got)
				}
			})
		}
	}
}

// TestInstallPluginTakesTheManifestAsItIs follows extractPlugin and
// installExtractedPlugin
// (server/channels/app/plugin_install.go@06c37695:extractPlugin), whose
// only check of the manifest is model.IsValidPluginId: the id is kept as
// it is, in any case, and a manifest without a version installs.
func TestInstallPluginTakesTheManifestAsItIs(t *testing.T) {
	tests := []struct {
		name, id, version string
	}{
		{"a mixed-case id", "Com.Example.Mixed", "1.0.0"},
		{"no version", "com.example.unversioned", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := New(FileDir(t.TempDir()))
			defer b.Close()
			m, err := install(b, bundleOf(t, manifestEntry("top", tc.id, tc.version)), false)
			if err != nil || m.GetId() != tc.id || m.GetVersion() != tc.version {
				t.Fatalf("InstallPlugin() = %v, %v; want id %q, version %q", m, err, tc.id, tc.version)
			}
			status, err := b.GetPluginStatus(context.Background(), &pluginpb.GetPluginStatusRequest{Id: tc.id})
			if err != nil || status.GetStatus().GetPluginId() != tc.id {
				t.Errorf("GetPluginStatus(%q) = %v, %v", tc.id, status, err)
			}
		})
	}
}

// TestInstallPluginWithoutALifecycle checks and records the plugin, and
// keeps none of its files.
func TestInstallPluginWithoutALifecycle(t *testing.T) {
	files := t.TempDir()
	b := New(FileDir(files))
	m, err := install(b, goodBundle(t, "1.0.0"), false)
	if err != nil || m.GetId() != installedID {
		t.Fatalf("InstallPlugin() = %v, %v", m, err)
	}
	for _, p := range entriesOf(t, files) {
		if p != "plugins" && p != "plugins/uploads" {
			t.Errorf("the file store holds %q", p)
		}
	}
	status, err := b.GetPluginStatus(context.Background(), &pluginpb.GetPluginStatusRequest{Id: installedID})
	if err != nil || status.GetStatus().GetState() != pluginStateNotRunning {
		t.Errorf("GetPluginStatus() = %v, %v", status, err)
	}
	if _, err := b.EnablePlugin(context.Background(), &pluginpb.EnablePluginRequest{Id: installedID}); err != nil {
		t.Errorf("EnablePlugin() = %v", err)
	}
}

// TestPluginManagementFollowsTheAppLayer follows
// server/channels/app/plugin_api.go@f56166d6 (InstallPlugin,
// RegisterCollectionAndTopic), server/channels/app/plugin.go@85e9d9c7
// (Channels.enablePlugin, Channels.disablePlugin),
// server/channels/app/plugin_statuses.go@d2584d49:Channels.GetPluginStatus
// and server/channels/app/plugin_install.go@83c7829d:Channels.RemovePlugin.
func TestPluginManagementFollowsTheAppLayer(t *testing.T) {
	b := New()
	ctx := context.Background()
	s := newInstallStream(goodBundle(t, "1.0.0"), false)
	wantAppErrorID(t, "InstallPlugin(uploads off)", b.InstallPlugin(s), "app.plugin.upload_disabled.app_error", http.StatusNotImplemented)

	notInstalled := []struct {
		name string
		call func() error
	}{
		{"EnablePlugin(\"\")", func() error { _, err := b.EnablePlugin(ctx, &pluginpb.EnablePluginRequest{}); return err }},
		{"DisablePlugin(\"\")", func() error { _, err := b.DisablePlugin(ctx, &pluginpb.DisablePluginRequest{}); return err }},
		{"RemovePlugin(\"\")", func() error { _, err := b.RemovePlugin(ctx, &pluginpb.RemovePluginRequest{}); return err }},
		{"GetPluginStatus(\"\")", func() error { _, err := b.GetPluginStatus(ctx, &pluginpb.GetPluginStatusRequest{}); return err }},
		{"GetPluginStatus(upper case)", func() error {
			_, err := b.GetPluginStatus(ctx, &pluginpb.GetPluginStatusRequest{Id: strings.ToUpper(DefaultPluginID)})
			return err
		}},
	}
	for _, tt := range notInstalled {
		wantAppErrorID(t, tt.name, tt.call(), "app.plugin.not_installed.app_error", http.StatusNotFound)
	}

	// Disabling (by the id in any case) unregisters the plugin's commands.
	if _, err := b.RegisterCommand(ctx, &pluginpb.RegisterCommandRequest{Command: &pluginpb.Command{Trigger: "deploy"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DisablePlugin(ctx, &pluginpb.DisablePluginRequest{Id: strings.ToUpper(DefaultPluginID)}); err != nil {
		t.Fatalf("DisablePlugin(upper case) = %v", err)
	}
	if got, _ := b.ListPluginCommands(ctx, &pluginpb.ListPluginCommandsRequest{TeamId: newID()}); len(got.GetCommands()) != 0 {
		t.Errorf("after DisablePlugin, commands = %v; want none", got.GetCommands())
	}
	if _, err := b.EnablePlugin(ctx, &pluginpb.EnablePluginRequest{Id: strings.ToUpper(DefaultPluginID)}); err != nil {
		t.Fatalf("EnablePlugin(upper case) = %v", err)
	}

	// RemovePlugin leaves the plugin recorded as disabled.
	if _, err := b.RemovePlugin(ctx, &pluginpb.RemovePluginRequest{Id: DefaultPluginID}); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	_, _, states := b.pluginSettings()
	state := states[DefaultPluginID]
	b.mu.Unlock()
	if s, _ := state.(map[string]any); s["Enable"] != false {
		t.Errorf("after RemovePlugin, PluginStates[id] = %v; want Enable false", state)
	}

	if _, err := b.RegisterCollectionAndTopic(ctx, &pluginpb.RegisterCollectionAndTopicRequest{}); err != nil {
		t.Errorf("RegisterCollectionAndTopic(empty) = %v; want nil, as upstream", err)
	}
}
