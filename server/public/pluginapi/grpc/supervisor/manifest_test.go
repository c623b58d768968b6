package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadRefusesBadManifests(t *testing.T) {
	tests := []struct {
		name, manifest, want string
	}{
		{"not JSON", `{"id": `, "parse"},
		{"a bad id", `{"id": "a b", "server": {"executable": "x"}}`, "invalid plugin id"},
		{"no server part", `{"id": "com.example.x"}`, "no server part"},
		{"both kinds of server", `{"id": "com.example.x", "server": {"executable": "x", "python": {"entry": "p.py"}}}`, "not both"},
		{"no entry", `{"id": "com.example.x", "server": {"python": {}}}`, "entry is empty"},
		{"an executable outside", `{"id": "com.example.x", "server": {"executable": "../x"}}`, "leaves the plugin directory"},
		{"an absolute entry", `{"id": "com.example.x", "server": {"python": {"entry": "/tmp/p.py:C"}}}`, "must be relative"},
		{"a venv outside", `{"id": "com.example.x", "server": {"python": {"entry": "p.py", "venv": "../v"}}}`, "leaves the plugin directory"},
		{"too large", `{"id": "com.example.x", "pad": "` + strings.Repeat("x", maxManifestSize) + `"}`, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(tc.manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		server  ServerManifest
		program string
		args    []string
	}{
		{ServerManifest{Executable: "bin/p"}, filepath.Join(dir, "bin/p"), nil},
		{ServerManifest{Python: &PythonManifest{Entry: "p.py:C"}}, "/usr/bin/python3", []string{"-m", "mattermost_plugin", filepath.Join(dir, "p.py") + ":C"}},
		{ServerManifest{Python: &PythonManifest{Entry: "pkg.mod", Venv: ".venv"}}, filepath.Join(dir, ".venv/bin/python"), []string{"-m", "mattermost_plugin", "pkg.mod"}},
		{ServerManifest{Python: &PythonManifest{Entry: "p.py", Interpreter: "py/bin/python3"}}, filepath.Join(dir, "py/bin/python3"), []string{"-m", "mattermost_plugin", filepath.Join(dir, "p.py")}},
	}
	for _, tc := range tests {
		b := &Bundle{Dir: dir, Manifest: Manifest{ID: "com.example.x", Server: &tc.server}}
		program, args, err := b.command("/usr/bin/python3")
		if err != nil || program != tc.program || strings.Join(args, " ") != strings.Join(tc.args, " ") {
			t.Errorf("command(%+v) = %q %q %v, want %q %q", tc.server, program, args, err, tc.program, tc.args)
		}
	}
}
