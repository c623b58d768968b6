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
		{ServerManifest{Python: &PythonManifest{Entry: "p.py:C"}}, "/usr/bin/python3", []string{"-m", "mattermost_plugin.serve", filepath.Join(dir, "p.py") + ":C"}},
		{ServerManifest{Python: &PythonManifest{Entry: "pkg.mod", Venv: ".venv"}}, filepath.Join(dir, ".venv/bin/python"), []string{"-m", "mattermost_plugin.serve", "pkg.mod"}},
		{ServerManifest{Python: &PythonManifest{Entry: "p.py", Interpreter: "py/bin/python3"}}, filepath.Join(dir, "py/bin/python3"), []string{"-m", "mattermost_plugin.serve", filepath.Join(dir, "p.py")}},
	}
	for _, tc := range tests {
		b := &Bundle{Dir: dir, Manifest: Manifest{ID: "com.example.x", Server: &tc.server}}
		program, args, err := b.command("/usr/bin/python3")
		if err != nil || program != tc.program || strings.Join(args, " ") != strings.Join(tc.args, " ") {
			t.Errorf("command(%+v) = %q %q %v, want %q %q", tc.server, program, args, err, tc.program, tc.args)
		}
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
