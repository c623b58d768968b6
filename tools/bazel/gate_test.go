// Tests of the static Bazel gate (gate.sh): each tool it runs must fail on
// deliberately broken input. They run the tools pinned in go.mod through
// `go tool`, as the gate does, so they run under `make test`, not Bazel
// (gazelle excludes this file; see BUILD.bazel).
package bazel_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goTool runs `go tool name args...` and returns its combined output and
// whether it succeeded.
func goTool(t *testing.T, name string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"tool", name}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("go tool %s: %v", name, err)
		}
	}
	return string(out), err == nil
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildifier(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		file    string
		content string
		ok      bool
	}{
		{"formatted BUILD file", "ok/BUILD.bazel", "filegroup(\n    name = \"x\",\n    srcs = [\"a\"],\n)\n", true},
		{"unformatted BUILD file", "bad/BUILD.bazel", "filegroup(name='x',srcs=[\"a\"])\n", false},
		{"documented .bzl file", "ok/defs.bzl", "\"\"\"Macros.\"\"\"\n\ndef f():\n    \"\"\"Does nothing.\"\"\"\n    pass\n", true},
		{".bzl file with a lint warning", "lint/defs.bzl", "def f():\n    pass\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, dir, tt.file, tt.content)
			out, ok := goTool(t, "buildifier", "-mode=check", "-lint=warn", p)
			if ok != tt.ok {
				t.Errorf("buildifier -mode=check -lint=warn %s: ok = %v; want %v\n%s", tt.file, ok, tt.ok, out)
			}
		})
	}
}

func TestGazelleDiff(t *testing.T) {
	root := t.TempDir()
	write(t, root, "MODULE.bazel", "module(name = \"x\")\n\nbazel_dep(name = \"rules_go\", version = \"0.63.0\")\n")
	write(t, root, "BUILD.bazel", "# gazelle:prefix example.com/x\n")
	write(t, root, "a/a.go", "package a\n")

	out, ok := goTool(t, "gazelle", "update", "-repo_root", root, "-mode", "diff", root)
	if ok || !strings.Contains(out, "go_library") {
		t.Fatalf("gazelle -mode diff with a missing BUILD file: ok = %v, output %q; want a failing diff", ok, out)
	}
	if out, ok := goTool(t, "gazelle", "update", "-repo_root", root, root); !ok {
		t.Fatalf("gazelle update: %s", out)
	}
	if out, ok := goTool(t, "gazelle", "update", "-repo_root", root, "-mode", "diff", root); !ok {
		t.Fatalf("gazelle -mode diff after an update: %s; want no drift", out)
	}

	// A hand edit to a generated file is drift too.
	build := filepath.Join(root, "a", "BUILD.bazel")
	data, err := os.ReadFile(build)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `srcs = ["a.go"],`, `srcs = [],`, 1)
	if edited == string(data) {
		t.Fatalf("unexpected generated BUILD file:\n%s", data)
	}
	write(t, root, "a/BUILD.bazel", edited)
	if out, ok := goTool(t, "gazelle", "update", "-repo_root", root, "-mode", "diff", root); ok {
		t.Errorf("gazelle -mode diff after a hand edit passed: %s", out)
	}
}
