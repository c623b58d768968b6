package supervisor

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
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
		{"an unknown platform", `{"id": "com.example.x", "server": {"executables": {"plan9-amd64": "x"}}}`, `unknown platform "plan9-amd64"`},
		{"an executable of a platform outside", `{"id": "com.example.x", "server": {"executables": {"linux-amd64": "../x"}}}`, `server.executables["linux-amd64"]: path "../x" leaves the plugin directory`},
		{"an empty executable of a platform", `{"id": "com.example.x", "server": {"executables": {"linux-arm64": ""}}}`, `server.executables["linux-arm64"] is empty`},
		{"a bad target", `{"id": "com.example.x", "server": {"python": {"entry": "p.py", "targets": ["linux-amd64-cp311"]}}}`, `"linux-amd64-cp311" is not a target`},
		{"a target twice", `{"id": "com.example.x", "server": {"python": {"entry": "p.py", "targets": ["macos-arm64-cp312", "macos-arm64-cp312"]}}}`, "listed twice"},
		{"an executable outside beside Python", `{"id": "com.example.x", "server": {"executable": "/bin/x", "python": {"entry": "p.py"}}}`, "server.executable: path \"/bin/x\" must be relative"},
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

func TestLoadAcceptsPythonBesideExecutables(t *testing.T) {
	dir := t.TempDir()
	manifest := `{"id": "com.example.both", "server": {
		"executables": {"linux-amd64": "bridge/linux-amd64", "darwin-arm64": "bridge/darwin-arm64"},
		"executable": "bridge/any",
		"python": {"entry": "plugin.py", "targets": ["linux-x86_64-cp311", "macos-arm64-cp312"]}}}`
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Load(dir)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	s := b.Manifest.Server
	if len(s.Executables) != 2 || s.Executable != "bridge/any" || strings.Join(s.Python.Targets, " ") != "linux-x86_64-cp311 macos-arm64-cp312" {
		t.Errorf("Load() = %+v, python %+v", s, s.Python)
	}
	if program, _, err := b.command("python3"); err != nil || program != "python3" {
		t.Errorf("command() = %q, %v; want Python to run the plugin", program, err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load(a directory without a manifest) succeeded")
	}
	noServer := t.TempDir()
	if err := os.WriteFile(filepath.Join(noServer, ManifestFile), []byte(`{"id": "com.example.webapp", "webapp": {"bundle_path": "main.js"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(noServer); !errors.Is(err, ErrNoServer) {
		t.Errorf("Load(a web app only) = %v; want ErrNoServer", err)
	}
}

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	host := runtime.GOOS + "-" + runtime.GOARCH
	other := "windows-amd64"
	if host == other {
		other = "linux-amd64"
	}
	tests := []struct {
		server  ServerManifest
		python  string // the bundle's interpreter
		program string
		args    []string
	}{
		{ServerManifest{Executable: "bin/p"}, "", filepath.Join(dir, "bin/p"), nil},
		{ServerManifest{Executable: "bin/p", Executables: map[string]string{host: "bin/mine"}}, "", filepath.Join(dir, "bin/mine"), nil},
		{ServerManifest{Executable: "bin/p", Executables: map[string]string{other: "bin/theirs"}}, "", filepath.Join(dir, "bin/p"), nil},
		{ServerManifest{Executables: map[string]string{host: "bin/mine"}, Python: &PythonManifest{Entry: "p.py"}}, "", "/usr/bin/python3", []string{"-m", "mattermost_plugin.serve", filepath.Join(dir, "p.py")}},
		{ServerManifest{Python: &PythonManifest{Entry: "p.py", Venv: ".venv"}}, "/cache/env/bin/python", "/cache/env/bin/python", []string{"-m", "mattermost_plugin.serve", filepath.Join(dir, "p.py")}},
		{ServerManifest{Python: &PythonManifest{Entry: "p.py", Interpreter: "/opt/py"}}, "/cache/env/bin/python", "/cache/env/bin/python", []string{"-m", "mattermost_plugin.serve", filepath.Join(dir, "p.py")}},
		{ServerManifest{Python: &PythonManifest{Entry: "p.py:C"}}, "", "/usr/bin/python3", []string{"-m", "mattermost_plugin.serve", filepath.Join(dir, "p.py") + ":C"}},
		{ServerManifest{Python: &PythonManifest{Entry: "pkg.mod", Venv: ".venv"}}, "", filepath.Join(dir, ".venv/bin/python"), []string{"-m", "mattermost_plugin.serve", "pkg.mod"}},
		{ServerManifest{Python: &PythonManifest{Entry: "p.py", Interpreter: "py/bin/python3"}}, "", filepath.Join(dir, "py/bin/python3"), []string{"-m", "mattermost_plugin.serve", filepath.Join(dir, "p.py")}},
	}
	for _, tc := range tests {
		b := &Bundle{Dir: dir, Manifest: Manifest{ID: "com.example.x", Server: &tc.server}, Python: tc.python}
		program, args, err := b.command("/usr/bin/python3")
		if err != nil || program != tc.program || strings.Join(args, " ") != strings.Join(tc.args, " ") {
			t.Errorf("command(%+v) = %q %q %v, want %q %q", tc.server, program, args, err, tc.program, tc.args)
		}
	}
	b := &Bundle{Dir: dir, Manifest: Manifest{ID: "com.example.x", Server: &ServerManifest{Executables: map[string]string{other: "bin/theirs"}}}}
	if _, _, err := b.command("python3"); err == nil || !strings.Contains(err.Error(), "no program for "+host) {
		t.Errorf("command(no program for this host) = %v", err)
	}
}

func TestLoadReadsTheSettingsSchema(t *testing.T) {
	dir := t.TempDir()
	manifest := `{
		"id": "com.example.settings",
		"server": {"python": {"entry": "plugin.py"}},
		"an_unknown_key": {"ignored": true},
		"settings_schema": {
			"header": "Set me up",
			"footer": "Thanks",
			"settings": [
				{"key": "Greeting", "display_name": "Greeting", "type": "text", "help_text": "Said on /hello", "placeholder": "Hello", "default": "Hello"},
				{"key": "Shout", "type": "bool", "default": true},
				{"key": "Mood", "type": "dropdown", "default": "calm", "options": [{"display_name": "Calm", "value": "calm"}, {"display_name": "Loud", "value": "loud"}]},
				{"key": "Limit", "type": "number", "default": 3, "secret": true, "hosting": "on-prem"}
			],
			"sections": [{"key": "more", "title": "More", "settings": [{"key": "Extra", "type": "longtext"}], "custom": true}]
		}
	}`
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Load(dir)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	s := b.Manifest.SettingsSchema
	if s == nil {
		t.Fatal("SettingsSchema = nil")
	}
	if s.Header != "Set me up" || s.Footer != "Thanks" || len(s.Settings) != 4 || len(s.Sections) != 1 {
		t.Fatalf("SettingsSchema = %+v", s)
	}
	tests := []struct {
		got, want any
	}{
		{s.Settings[0].Key, "Greeting"},
		{s.Settings[0].DisplayName, "Greeting"},
		{s.Settings[0].Type, "text"},
		{s.Settings[0].HelpText, "Said on /hello"},
		{s.Settings[0].Placeholder, "Hello"},
		{s.Settings[0].Default, "Hello"},
		{s.Settings[1].Default, true},
		{len(s.Settings[2].Options), 2},
		{s.Settings[2].Options[1].DisplayName + "=" + s.Settings[2].Options[1].Value, "Loud=loud"},
		{s.Settings[3].Default, float64(3)},
		{s.Settings[3].Secret, true},
		{s.Settings[3].Hosting, "on-prem"},
		{s.Sections[0].Key + "/" + s.Sections[0].Title, "more/More"},
		{s.Sections[0].Custom, true},
		{s.Sections[0].Settings[0].Key, "Extra"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("#%d: got %v (%T), want %v (%T)", i, tc.got, tc.got, tc.want, tc.want)
		}
	}
}
