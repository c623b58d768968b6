package bundle

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
)

func TestPlatformAndTargets(t *testing.T) {
	tests := []struct {
		goos, goarch, want string
	}{
		{"linux", "amd64", "linux-x86_64"},
		{"linux", "arm64", "linux-aarch64"},
		{"darwin", "amd64", "macos-x86_64"},
		{"darwin", "arm64", "macos-arm64"},
		{"windows", "amd64", ""},
		{"linux", "386", ""},
	}
	for _, tc := range tests {
		if got, ok := Platform(tc.goos, tc.goarch); got != tc.want || ok != (tc.want != "") {
			t.Errorf("Platform(%s, %s) = %q, %v; want %q", tc.goos, tc.goarch, got, ok, tc.want)
		}
	}
	for target, valid := range map[string]bool{
		"linux-x86_64-cp311": true, "macos-arm64-cp39": true, "linux-aarch64-cp313": true,
		"linux-amd64-cp311": false, "linux-x86_64-py3": false, "linux-x86_64-cp2": false, "": false,
	} {
		if ValidTarget(target) != valid {
			t.Errorf("ValidTarget(%q) = %v", target, !valid)
		}
	}
}

// fakePython writes a shell script that answers "<impl> <version>" to -c
// and otherwise sleeps.
func fakePython(t *testing.T, impl, version string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "python")
	script := fmt.Sprintf("#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then echo \"%s %s\"; exit 0; fi\nexec sleep 30\n", impl, version)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMakeVenvRefuses(t *testing.T) {
	platform, ok := Platform(runtime.GOOS, runtime.GOARCH)
	if !ok {
		t.Skipf("no bundle targets %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	host := platform + "-cp312"
	tests := []struct {
		name    string
		impl    string
		targets []string
		wheels  bool
		want    string
		refused bool
	}{
		{"another platform", "cpython", []string{"linux-aarch64-cp311", "macos-arm64-cp311"}, false,
			"the bundle carries linux-aarch64-cp311, macos-arm64-cp311; this host is " + host, true},
		{"another Python", "cpython", []string{platform + "-cp311"}, false, "the bundle carries " + platform + "-cp311; this host is " + host, true},
		{"no targets", "cpython", nil, false, "the bundle carries no target; this host is " + host, true},
		{"no wheelhouse", "cpython", []string{host}, false, "its manifest lists " + host + ", but the bundle has no wheels in wheels/" + host + "/", true},
		{"not CPython", "pypy", []string{host}, true, "is pypy; bundles carry wheels for CPython", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plugin, cache := t.TempDir(), filepath.Join(t.TempDir(), ".python")
			if tc.wheels {
				writeWheel(t, filepath.Join(plugin, WheelsDir, host))
			}
			_, err := MakeVenv(context.Background(), VenvRequest{
				PluginDir: plugin, Targets: tc.targets, SHA256: strings.Repeat("ab", 32),
				CacheDir: cache, Python: fakePython(t, tc.impl, "312"),
			})
			var refused *RefusedError
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.As(err, &refused) != tc.refused {
				t.Fatalf("MakeVenv() = %v; want %q (a refusal: %v)", err, tc.want, tc.refused)
			}
			if _, err := os.Stat(cache); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the cache was made for a refused bundle: %v", err)
			}
		})
	}
}

// TestMakeVenvTimesOut makes an environment with an interpreter that
// hangs: the timeout kills it, and the cache keeps nothing.
func TestMakeVenvTimesOut(t *testing.T) {
	platform, ok := Platform(runtime.GOOS, runtime.GOARCH)
	if !ok {
		t.Skipf("no bundle targets %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	host := platform + "-cp312"
	plugin, cache := t.TempDir(), filepath.Join(t.TempDir(), ".python")
	writeWheel(t, filepath.Join(plugin, WheelsDir, host))
	began := time.Now()
	_, err := MakeVenv(context.Background(), VenvRequest{
		PluginDir: plugin, Targets: []string{host}, SHA256: strings.Repeat("cd", 32),
		CacheDir: cache, Python: fakePython(t, "cpython", "312"), Timeout: 300 * time.Millisecond,
	})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("MakeVenv(a hanging python) = %v; want a timeout", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("the timeout took %v", took)
	}
	if left := rootEntries(t, cache); len(left) > 0 {
		t.Errorf("the cache holds %q after a timeout", left)
	}
}

// writeWheel writes a small pure-Python wheel, hello_bundle 1.0, into dir.
func writeWheel(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "hello_bundle-1.0-py3-none-any.whl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	files := []struct{ name, body string }{
		{"hello_bundle/__init__.py", "VALUE = 42\n"},
		{"hello_bundle-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: hello-bundle\nVersion: 1.0\n"},
		{"hello_bundle-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: bundle-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	}
	var record strings.Builder
	for _, file := range files {
		w, err := zw.Create(file.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(file.body))
		sum := sha256.Sum256([]byte(file.body))
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", file.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(file.body))
	}
	record.WriteString("hello_bundle-1.0.dist-info/RECORD,,\n")
	w, err := zw.Create("hello_bundle-1.0.dist-info/RECORD")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(record.String()))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestMakeVenv makes a real environment from a wheelhouse, offline, then
// asks for it again: the second time it is reused, untouched.
func TestMakeVenv(t *testing.T) {
	python := testenv.Python(t)
	ctx := context.Background()
	target, err := HostTarget(ctx, python)
	if err != nil {
		t.Fatalf("HostTarget(%s) = %v", python, err)
	}
	plugin, cache := t.TempDir(), filepath.Join(t.TempDir(), ".python")
	writeWheel(t, filepath.Join(plugin, WheelsDir, target))
	var logs testenv.SyncBuffer
	req := VenvRequest{
		PluginDir: plugin, Targets: []string{"linux-aarch64-cp311", target}, SHA256: strings.Repeat("0123456789abcdef", 4),
		CacheDir: cache, Python: python, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}
	t.Setenv("PIP_FIND_LINKS", "/nonexistent/elsewhere") // ignored
	first, err := MakeVenv(ctx, req)
	if err != nil {
		t.Fatalf("MakeVenv() = %v", err)
	}
	wantDir := filepath.Join(cache, "0123456789abcdef0123456789abcdef-"+target)
	if first.Dir != wantDir || first.Python != filepath.Join(wantDir, "bin", "python") || first.Target != target || first.Reused {
		t.Errorf("MakeVenv() = %+v; want a new environment in %s", first, wantDir)
	}
	out, err := exec.Command(first.Python, "-c", "import hello_bundle; print(hello_bundle.VALUE)").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Errorf("the environment's python: %s, %v", out, err)
	}
	if left := rootEntries(t, cache); !strings.HasPrefix(strings.Join(left, " "), filepath.Base(wantDir)) {
		t.Errorf("the cache holds %q; want the environment only", left[:min(len(left), 3)])
	}
	before := inode(t, wantDir)

	second, err := MakeVenv(ctx, req)
	if err != nil || !second.Reused || second.Dir != wantDir {
		t.Fatalf("MakeVenv(again) = %+v, %v; want the environment reused", second, err)
	}
	if after := inode(t, wantDir); after != before {
		t.Errorf("the environment was made again: inode %d, then %d", before, after)
	}
	if !strings.Contains(logs.String(), `msg="reusing the plugin's Python environment"`) {
		t.Errorf("no record of the reuse:\n%s", logs.String())
	}

	// A half-made entry, without its interpreter, is made anew.
	if err := os.Remove(first.Python); err != nil {
		t.Fatal(err)
	}
	third, err := MakeVenv(ctx, req)
	if err != nil || third.Reused {
		t.Fatalf("MakeVenv(over a broken entry) = %+v, %v; want it made anew", third, err)
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Sys().(*syscall.Stat_t).Ino
}

// TestMakeVenvWithoutAHostPip: a host interpreter without pip (a venv made
// --without-pip) cannot lend its pip to the new environment; the
// environment is then made the plain way, with pip bootstrapped into it.
func TestMakeVenvWithoutAHostPip(t *testing.T) {
	python := testenv.Python(t)
	ctx := context.Background()
	bare := filepath.Join(t.TempDir(), "bare")
	if out, err := exec.Command(python, "-m", "venv", "--without-pip", bare).CombinedOutput(); err != nil {
		t.Fatalf("make a venv without pip: %s, %v", out, err)
	}
	host := filepath.Join(bare, "bin", "python")
	if err := exec.Command(host, "-c", "import pip").Run(); err == nil {
		t.Skip("the interpreter's venv without pip still imports pip")
	}
	target, err := HostTarget(ctx, host)
	if err != nil {
		t.Fatalf("HostTarget(%s) = %v", host, err)
	}
	plugin, cache := t.TempDir(), filepath.Join(t.TempDir(), ".python")
	writeWheel(t, filepath.Join(plugin, WheelsDir, target))
	venv, err := MakeVenv(ctx, VenvRequest{
		PluginDir: plugin, Targets: []string{target}, SHA256: strings.Repeat("fedcba9876543210", 4),
		CacheDir: cache, Python: host,
	})
	if err != nil {
		t.Fatalf("MakeVenv() with a host without pip = %v", err)
	}
	out, err := exec.Command(venv.Python, "-c", "import hello_bundle; print(hello_bundle.VALUE)").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Errorf("the environment's python: %s, %v", out, err)
	}
}
