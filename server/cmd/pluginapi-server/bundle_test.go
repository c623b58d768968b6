package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/status"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/bundle"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// runtimePins are the packages of the SDK's runtime whose wheels a test
// bundle carries, pinned as python-sdk/requirements.lock pins them.
var runtimePins = []string{"grpcio", "protobuf", "cryptography", "cffi", "pycparser", "typing-extensions"}

// wheelhouse holds the wheels of the test bundles: the SDK's, built from
// this repository, and its runtime's, from pip's cache (or its index). It
// is made once per run of the test binary; TestMain removes it.
var wheelhouse = struct {
	once sync.Once
	dir  string
	err  error
}{}

// repoRoot returns the directory of the repository's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("no go.mod above the working directory")
}

// lockedPins returns "name==version" for each of names, as
// requirements.lock pins them.
func lockedPins(lock string, names []string) ([]string, error) {
	data, err := os.ReadFile(lock)
	if err != nil {
		return nil, err
	}
	var pins []string
	for _, name := range names {
		found := ""
		for line := range strings.Lines(string(data)) {
			if pin, _, _ := strings.Cut(strings.TrimSpace(line), " "); strings.HasPrefix(pin, name+"==") {
				found = pin
				break
			}
		}
		if found == "" {
			return nil, fmt.Errorf("%s does not pin %s", lock, name)
		}
		pins = append(pins, found)
	}
	return pins, nil
}

// testWheels returns the directory of the test bundles' wheels, making it
// on the first call. Without them the test fails under CI and is skipped
// elsewhere, with the reason.
func testWheels(t *testing.T, python string) string {
	t.Helper()
	wheelhouse.once.Do(func() {
		wheelhouse.dir, wheelhouse.err = makeWheelhouse(python)
	})
	if wheelhouse.err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no wheels for the test bundles: %v", wheelhouse.err)
		}
		t.Skipf("no wheels for the test bundles (pip download needs its cache or the index): %v", wheelhouse.err)
	}
	return wheelhouse.dir
}

func makeWheelhouse(python string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	pins, err := lockedPins(filepath.Join(root, "python-sdk", "requirements.lock"), runtimePins)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "pluginapi-test-wheels-")
	if err != nil {
		return "", err
	}
	build := exec.Command(python, filepath.Join(root, "python-sdk", "scripts", "build_wheel.py"), dir)
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the SDK's wheel: %v\n%s", err, out)
	}
	download := exec.Command(python, append([]string{"-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-d", dir}, pins...)...)
	if out, err := download.CombinedOutput(); err != nil {
		return "", fmt.Errorf("pip download %s: %v\n%s", strings.Join(pins, " "), err, out)
	}
	return dir, nil
}

// bundlePlugin is the code of the test bundles: its ServeHTTP answers its
// version, process id, interpreter prefix and bundle path; its
// MessageWillBePosted appends its version; the version "broken" refuses to
// activate.
func bundlePlugin(version string) string {
	return fmt.Sprintf(`import os
import sys

import mattermost_plugin as mp

VERSION = %q


class TestPlugin(mp.Plugin):
    def on_activate(self):
        if VERSION == "broken":
            raise RuntimeError("this version refuses to activate")

    def serve_http(self, context, request):
        return mp.HTTPResponse(
            body=f"{VERSION} pid={os.getpid()} prefix={sys.prefix} path={self.api.get_bundle_path()}"
        )

    def message_will_be_posted(self, context, post):
        post.message = post.message + " [" + VERSION + "]"
        return post
`, version)
}

// bundleFile is one file of a test bundle: its path in the plugin
// directory, and its content or the file to copy it from.
type bundleFile struct {
	name string
	body string
	from string
}

// writeBundle writes a bundle as docs/bundles.md lays it out: the files
// in one directory named after the plugin id, and SHA256SUMS.
func writeBundle(t *testing.T, path, id string, files []bundleFile) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	var sums []string
	add := func(name string, r io.Reader, size int64) {
		h := sha256.New()
		if err := tw.WriteHeader(&tar.Header{Name: id + "/" + name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.MultiWriter(tw, h), r); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, hex.EncodeToString(h.Sum(nil))+"  "+name)
	}
	if err := tw.WriteHeader(&tar.Header{Name: id + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if file.from == "" {
			add(file.name, strings.NewReader(file.body), int64(len(file.body)))
			continue
		}
		src, err := os.Open(file.from)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := src.Stat()
		add(file.name, src, info.Size())
		src.Close()
	}
	slices.Sort(sums)
	body := strings.Join(sums, "\n") + "\n"
	if err := tw.WriteHeader(&tar.Header{Name: id + "/" + bundle.ChecksumsFile, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	io.WriteString(tw, body)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
}

// pythonBundle writes the bundle of a Python plugin: plugin.json with
// server.python.targets, plugin.py, and, for each target, wheels/<target>/
// with every wheel of wheels (none when wheels is "").
func pythonBundle(t *testing.T, path, id, code, wheels string, targets ...string) {
	t.Helper()
	py := map[string]any{"entry": "plugin.py:TestPlugin"}
	if len(targets) > 0 {
		py["targets"] = targets
	}
	manifest, _ := json.Marshal(map[string]any{"id": id, "name": id, "version": "1.0.0", "server": map[string]any{"python": py}})
	files := []bundleFile{{name: "plugin.json", body: string(manifest)}, {name: "plugin.py", body: code}}
	if wheels != "" {
		entries, err := os.ReadDir(wheels)
		if err != nil {
			t.Fatal(err)
		}
		for _, target := range targets {
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".whl") {
					files = append(files, bundleFile{name: "wheels/" + target + "/" + e.Name(), from: filepath.Join(wheels, e.Name())})
				}
			}
		}
	}
	writeBundle(t, path, id, files)
}

// bundleAnswer is what a test bundle's plugin answers.
type bundleAnswer struct {
	status                     int
	version, prefix, path, raw string
	pid                        int
}

func (s *devServer) askBundle(id string) bundleAnswer {
	status, body := s.get("/plugins/" + id + "/")
	a := bundleAnswer{status: status, raw: body}
	if status == http.StatusOK {
		fmt.Sscanf(body, "%s pid=%d prefix=%s path=%s", &a.version, &a.pid, &a.prefix, &a.path)
	}
	return a
}

// installBundle uploads the bundle file at path through the Plugin API.
func (s *devServer) installBundle(ctx context.Context, path string, replace bool) (*pluginpb.Manifest, error) {
	stream, err := s.api.InstallPlugin(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&pluginpb.InstallPluginRequest{Part: &pluginpb.InstallPluginRequest_Head{Head: &pluginpb.InstallPluginHead{Replace: replace}}}); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	buf := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if serr := stream.Send(&pluginpb.InstallPluginRequest{Part: &pluginpb.InstallPluginRequest_Chunk{Chunk: slices.Clone(buf[:n])}}); serr != nil {
				break // the server answered early; CloseAndRecv has it
			}
		}
		if err != nil {
			break
		}
	}
	resp, err := stream.CloseAndRecv()
	return resp.GetManifest(), err
}

// appErrorOf returns the AppError of a Plugin API call's error.
func appErrorOf(t *testing.T, err error) *apperror.Error {
	t.Helper()
	appErr, ok := apperror.FromStatus(status.Convert(err))
	if !ok {
		t.Fatalf("error %v carries no AppError", err)
	}
	return appErr
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func inodeOf(t *testing.T, path string) uint64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Sys().(*syscall.Stat_t).Ino
}

// postWith makes a user, a team and a post, and returns the stored post's
// message.
func postWith(t *testing.T, s *devServer, message string) string {
	t.Helper()
	where := townSquareUser(t, s, "poster-"+message)
	post, err := s.api.CreatePost(callCtx(t), &pluginpb.CreatePostRequest{Post: &pluginpb.Post{ChannelId: where.GetChannelId(), UserId: where.GetUserId(), Message: message}})
	if err != nil {
		t.Fatalf("CreatePost() = %v", err)
	}
	return post.GetPost().GetMessage()
}

// TestPluginFlagRunsABundle starts the dev server with a bundle: it is
// unpacked into -plugins-dir/<id>, runs in the Python environment made
// from its wheels (outside its directory), and its bundle path is that
// directory.
func TestPluginFlagRunsABundle(t *testing.T) {
	python := testenv.Python(t)
	wheels := testWheels(t, python)
	target, err := bundle.HostTarget(context.Background(), python)
	if err != nil {
		t.Fatal(err)
	}
	const id = "com.example.flag-bundle"
	path := filepath.Join(t.TempDir(), id+"-1.0.0.tar.gz")
	pythonBundle(t, path, id, bundlePlugin("v1"), wheels, "linux-aarch64-cp399", target)
	root := filepath.Join(t.TempDir(), "plugins")
	s := startServer(t, "-plugin", path, "-python", python, "-plugins-dir", root)
	dir := filepath.Join(root, id)
	got := s.askBundle(id)
	venvs := dirEntries(t, filepath.Join(root, venvCacheDir))
	if got.version != "v1" || got.path != dir || len(venvs) != 1 || got.prefix != filepath.Join(root, venvCacheDir, venvs[0]) || !strings.HasSuffix(venvs[0], "-"+target) {
		t.Fatalf("the bundle's plugin answers %+v; want v1 from %s, in the environment of %s (%q)\nlog:\n%s", got, dir, target, venvs, s.logs)
	}
	if _, err := os.Stat(filepath.Join(dir, "plugin.json")); err != nil {
		t.Errorf("the bundle path %s: %v", dir, err)
	}
	// The ready line's token acts as the first plugin.
	path2, err := s.api.GetBundlePath(callCtx(t), &pluginpb.GetBundlePathRequest{})
	if err != nil || path2.GetPath() != dir {
		t.Errorf("GetBundlePath() = %v, %v; want %s", path2, err, dir)
	}
	if err := s.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	// A -plugins-dir that was given stays, with the environment.
	if left := dirEntries(t, root); !slices.Equal(left, []string{venvCacheDir, id}) {
		t.Errorf("after the stop the plugins directory holds %q", left)
	}
}

// TestGetBundlePathOfAPluginDirectory: a plugin of -plugin DIR gets DIR.
func TestGetBundlePathOfAPluginDirectory(t *testing.T) {
	python := testenv.Python(t)
	const id = "com.example.dir-path"
	dir := t.TempDir()
	writePlugin(t, dir, id, bundlePlugin("v1"), nil)
	s := startServer(t, "-plugin", dir, "-python", python)
	if got := s.askBundle(id); got.version != "v1" || got.path != dir {
		t.Errorf("the plugin answers %+v; want its bundle path %s\nlog:\n%s", got, dir, s.logs)
	}
}

// TestInstallPluginThroughTheAPI installs a bundle with InstallPlugin and
// enables it: it runs, its hooks fire, its routes answer; installing the
// same bundle again reuses its environment; a broken new version leaves
// the running one serving; DisablePlugin and RemovePlugin stop it.
func TestInstallPluginThroughTheAPI(t *testing.T) {
	python := testenv.Python(t)
	wheels := testWheels(t, python)
	target, err := bundle.HostTarget(context.Background(), python)
	if err != nil {
		t.Fatal(err)
	}
	const id = "com.example.api-bundle"
	work := t.TempDir()
	good := filepath.Join(work, "good.tar.gz")
	pythonBundle(t, good, id, bundlePlugin("v1"), wheels, target)
	// A version that fails OnActivate: without wheels, it runs with the
	// host's Python, which has the SDK.
	broken := filepath.Join(work, "broken.tar.gz")
	pythonBundle(t, broken, id, bundlePlugin("broken"), "")
	root := filepath.Join(work, "plugins")
	s := startServer(t, "-python", python, "-plugins-dir", root)
	// Long enough for two environments on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	m, err := s.installBundle(ctx, good, false)
	if err != nil || m.GetId() != id {
		t.Fatalf("InstallPlugin() = %v, %v\nlog:\n%s", m, err, s.logs)
	}
	if got := s.askBundle(id); got.status != http.StatusNotFound {
		t.Errorf("an installed plugin that is not enabled answers %+v; want 404", got)
	}
	if _, err := s.api.EnablePlugin(ctx, &pluginpb.EnablePluginRequest{Id: id}); err != nil {
		t.Fatalf("EnablePlugin() = %v\nlog:\n%s", err, s.logs)
	}
	dir := filepath.Join(root, id)
	first := s.askBundle(id)
	venvs := dirEntries(t, filepath.Join(root, venvCacheDir))
	if first.version != "v1" || first.path != dir || len(venvs) != 1 || first.prefix != filepath.Join(root, venvCacheDir, venvs[0]) {
		t.Fatalf("the installed plugin answers %+v; want v1 from %s in its environment (%q)\nlog:\n%s", first, dir, venvs, s.logs)
	}
	if msg := postWith(t, s, "hello"); msg != "hello [v1]" {
		t.Errorf("a post through the installed plugin's MessageWillBePosted = %q; want %q", msg, "hello [v1]")
	}
	st, err := s.api.GetPluginStatus(ctx, &pluginpb.GetPluginStatusRequest{Id: id})
	if err != nil || st.GetStatus().GetState() != stateRunning || st.GetStatus().GetPluginPath() != dir {
		t.Errorf("GetPluginStatus() = %v, %v", st, err)
	}
	venv := filepath.Join(root, venvCacheDir, venvs[0])
	venvInode := inodeOf(t, venv)

	// Without replace: refused, as upstream.
	_, err = s.installBundle(ctx, good, false)
	if appErr := appErrorOf(t, err); appErr.ID != "app.plugin.install_id.app_error" {
		t.Errorf("InstallPlugin(again, no replace) = %v", err)
	}

	// The same bundle again: the environment is reused, a new process
	// serves from the new directory, the old one is gone.
	if _, err := s.installBundle(ctx, good, true); err != nil {
		t.Fatalf("InstallPlugin(replace) = %v\nlog:\n%s", err, s.logs)
	}
	second := s.askBundle(id)
	if second.version != "v1" || second.pid == first.pid || second.prefix != venv {
		t.Errorf("after the reinstall the plugin answers %+v; want a new process in %s (before: %+v)", second, venv, first)
	}
	if got := inodeOf(t, venv); got != venvInode || !strings.Contains(s.logs.String(), `msg="reusing the plugin's Python environment" plugin_id=`+id) {
		t.Errorf("the environment was made again (inode %d, then %d)\nlog:\n%s", venvInode, got, s.logs)
	}
	if _, err := os.Stat(second.path); err != nil || second.path == dir {
		t.Errorf("the new version's bundle path %s: %v; want a new, existing directory", second.path, err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the replaced version's directory %s: %v; want it removed", dir, err)
	}

	// A broken new version: the error says why, and the running one keeps
	// serving, with its files.
	_, err = s.installBundle(ctx, broken, true)
	appErr := appErrorOf(t, err)
	if appErr.ID != "app.plugin.restart.app_error" || !strings.Contains(appErr.Message, "this version refuses to activate") {
		t.Errorf("InstallPlugin(a broken version) = %+v; want app.plugin.restart.app_error with the reason", appErr)
	}
	if got := s.askBundle(id); got.version != "v1" || got.pid != second.pid {
		t.Errorf("after a broken replacement the plugin answers %+v; want the running version (%+v)", got, second)
	}
	if _, err := os.Stat(filepath.Join(second.path, "plugin.py")); err != nil {
		t.Errorf("the running version's files: %v", err)
	}
	if left := dirEntries(t, root); !slices.Equal(left, []string{venvCacheDir, filepath.Base(second.path)}) {
		t.Errorf("the plugins directory holds %q; want the running version and the environments", left)
	}
	if msg := postWith(t, s, "again"); msg != "again [v1]" {
		t.Errorf("a post after the broken replacement = %q", msg)
	}

	if _, err := s.api.DisablePlugin(ctx, &pluginpb.DisablePluginRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	if got := s.askBundle(id); got.status != http.StatusNotFound {
		t.Errorf("a disabled plugin answers %+v", got)
	}
	if _, err := s.api.RemovePlugin(ctx, &pluginpb.RemovePluginRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	if left := dirEntries(t, root); !slices.Equal(left, []string{venvCacheDir}) {
		t.Errorf("after RemovePlugin the plugins directory holds %q", left)
	}
}

// rawEntry is one entry of a hand-made archive.
type rawEntry struct {
	name, body, link string
	typ              byte // a regular file when 0
}

// writeTarGz writes entries as a tar.gz at path.
func writeTarGz(t *testing.T, path string, entries []rawEntry) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
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
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
}

// sumsOf is the SHA256SUMS entry of top's files.
func sumsOf(top string, files ...rawEntry) rawEntry {
	var lines []string
	for _, f := range files {
		sum := sha256.Sum256([]byte(f.body))
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+strings.TrimPrefix(f.name, top+"/"))
	}
	slices.Sort(lines)
	return rawEntry{name: top + "/" + bundle.ChecksumsFile, body: strings.Join(lines, "\n") + "\n"}
}

// writeGzipBomb writes a bundle whose one file is size bytes of zeros,
// streaming: the zeros are one small gzip member, written again and
// again, which gzip readers join.
func writeGzipBomb(t *testing.T, path, id string, size int64) {
	t.Helper()
	member := func(data []byte) []byte {
		var buf strings.Builder
		gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		gz.Write(data)
		gz.Close()
		return []byte(buf.String())
	}
	var head strings.Builder
	tw := tar.NewWriter(&head)
	manifest := fmt.Sprintf(`{"id": %q, "version": "1.0.0", "server": {"python": {"entry": "plugin.py"}}}`, id)
	tw.WriteHeader(&tar.Header{Name: id + "/plugin.json", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(manifest))})
	io.WriteString(tw, manifest)
	// The tar writer writes the header now; the data follows below.
	tw.WriteHeader(&tar.Header{Name: id + "/zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: size})
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	w.Write(member([]byte(head.String())))
	const chunk = 1 << 20
	zeros := member(make([]byte, chunk))
	for n := int64(0); n < size; n += chunk {
		w.Write(zeros)
	}
	w.Write(member(make([]byte, 1024)))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestBadBundlesAreRefused gives unsafe or unusable bundles to -plugin
// and to InstallPlugin: each is refused with its reason, and the plugins
// directory keeps nothing of it.
func TestBadBundlesAreRefused(t *testing.T) {
	python := testenv.Python(t)
	host, err := bundle.HostTarget(context.Background(), python)
	if err != nil {
		t.Fatal(err)
	}
	var others []string
	for _, platform := range []string{"linux-x86_64", "linux-aarch64", "macos-x86_64", "macos-arm64"} {
		if !strings.HasPrefix(host, platform+"-") && len(others) < 2 {
			others = append(others, platform+"-cp311")
		}
	}
	const id = "com.example.refused"
	manifest := rawEntry{name: id + "/plugin.json", body: fmt.Sprintf(`{"id": %q, "version": "1.0.0", "server": {"python": {"entry": "plugin.py:TestPlugin"}}}`, id)}
	code := rawEntry{name: id + "/plugin.py", body: bundlePlugin("v1")}
	tampered := rawEntry{name: code.name, body: bundlePlugin("v2")}
	top := func(entries ...rawEntry) []rawEntry {
		return append([]rawEntry{{name: id + "/", typ: tar.TypeDir}, manifest, code}, entries...)
	}
	tooMany := top()
	for range bundle.DefaultMaxEntries {
		tooMany = append(tooMany, rawEntry{name: id + "/d/", typ: tar.TypeDir})
	}
	work := t.TempDir()
	tests := []struct {
		name  string
		write func(path string)
		want  string
	}{
		{"a path out of the plugin directory", func(p string) { writeTarGz(t, p, top(rawEntry{name: "../x", body: "x"})) }, `"../x": a ".." component`},
		{"an absolute path", func(p string) { writeTarGz(t, p, top(rawEntry{name: "/etc/x", body: "x"})) }, `"/etc/x": an absolute path`},
		{"a symbolic link out", func(p string) {
			writeTarGz(t, p, top(rawEntry{name: id + "/passwd", link: "../../../etc/passwd", typ: tar.TypeSymlink}))
		}, "a symbolic link"},
		{"a hard link", func(p string) {
			writeTarGz(t, p, top(rawEntry{name: id + "/hard", link: id + "/plugin.py", typ: tar.TypeLink}))
		}, "a hard link"},
		{"a device", func(p string) { writeTarGz(t, p, top(rawEntry{name: id + "/null", typ: tar.TypeChar})) }, "a device"},
		{"too many files", func(p string) { writeTarGz(t, p, tooMany) }, "more than 10000 entries"},
		{"a gzip bomb", func(p string) { writeGzipBomb(t, p, id, 1<<30) }, "unpacks to more than 536870912 bytes"},
		{"a SHA256SUMS mismatch", func(p string) { writeTarGz(t, p, top(sumsOf(id, manifest, tampered))) }, `"plugin.py": its SHA-256 does not match SHA256SUMS`},
		{"a listed file missing", func(p string) {
			writeTarGz(t, p, append([]rawEntry{{name: id + "/", typ: tar.TypeDir}, manifest}, sumsOf(id, manifest, code)))
		}, `"plugin.py": listed in SHA256SUMS but missing from the bundle`},
		{"another platform", func(p string) { pythonBundle(t, p, id, bundlePlugin("v1"), work, others...) },
			fmt.Sprintf("the bundle carries %s; this host is %s", strings.Join(others, ", "), host)},
	}
	// A wheel for the bundle of another platform (never installed).
	if err := os.WriteFile(filepath.Join(work, "x-1.0-py3-none-any.whl"), []byte("wheel"), 0o644); err != nil {
		t.Fatal(err)
	}
	apiRoot := filepath.Join(t.TempDir(), "api-plugins")
	s := startServer(t, "-python", python, "-plugins-dir", apiRoot)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(work, fmt.Sprintf("bundle-%d.tar.gz", i))
			tc.write(path)

			root := filepath.Join(t.TempDir(), "plugins")
			var stdout strings.Builder
			err := runContext(context.Background(), []string{"-plugin", path, "-python", python, "-plugins-dir", root}, &stdout, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "-plugin "+path+": ") {
				t.Errorf("run(-plugin %s) = %v; want an error of -plugin with %q", tc.name, err, tc.want)
			}
			if stdout.Len() > 0 {
				t.Errorf("run(-plugin %s) printed a ready line", tc.name)
			}
			if left := dirEntries(t, root); len(left) > 0 {
				t.Errorf("-plugin %s left %q in the plugins directory", tc.name, left)
			}

			_, err = s.installBundle(callCtx(t), path, false)
			if appErr := appErrorOf(t, err); !strings.Contains(appErr.Message, tc.want) || appErr.StatusCode != http.StatusBadRequest {
				t.Errorf("InstallPlugin(%s) = %+v; want a 400 with %q", tc.name, appErr, tc.want)
			}
			if left := dirEntries(t, apiRoot); len(left) > 0 {
				t.Errorf("InstallPlugin(%s) left %q in the plugins directory", tc.name, left)
			}
		})
	}
}

// TestDefaultPluginsDirIsRemoved runs a bundle without -plugins-dir: it is
// unpacked into a temporary directory, which the stop removes.
func TestDefaultPluginsDirIsRemoved(t *testing.T) {
	python := testenv.Python(t)
	const id = "com.example.temporary"
	path := filepath.Join(t.TempDir(), id+".tar.gz")
	pythonBundle(t, path, id, bundlePlugin("v1"), "")
	s := startServer(t, "-plugin", path, "-python", python)
	got := s.askBundle(id)
	if got.version != "v1" || filepath.Base(got.path) != id {
		t.Fatalf("the bundle's plugin answers %+v\nlog:\n%s", got, s.logs)
	}
	line := logLine(s.logs.String(), `msg="plugin API server listening"`)
	if !strings.Contains(line, "plugins_dir="+filepath.Dir(got.path)) {
		t.Errorf("the log does not name the plugins directory %s: %s", filepath.Dir(got.path), line)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(got.path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary plugins directory %s after the stop: %v; want it removed", filepath.Dir(got.path), err)
	}
}
