package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/supervisor"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/wire"
)

func TestRunRejectsBadConfig(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "carrier-pigeon"}, "unknown transport"},
		{[]string{"-listen", "tcp", "-tcp-addr", "0.0.0.0:0"}, `-tcp-addr "0.0.0.0:0": server: TCP address is not a loopback address`},
		{[]string{"-log-format", "xml"}, "unknown format"},
		{[]string{"-license", "platinum"}, "unknown SKU"},
		{[]string{"-log-level", "loud"}, "-log-level"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-cpuprofile", "/nonexistent/dir/cpu.pprof"}, "-cpuprofile"},
		{[]string{"-socket-dir", "/nonexistent/dir"}, `-socket-dir "/nonexistent/dir": `},
		{[]string{"-state", "/nonexistent/dir/state.json"}, "-state /nonexistent/dir/state.json: its directory does not exist"},
	}
	for _, tt := range tests {
		err := run(tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v; want an error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestRunPrintsReadyLineAndStopsOnSIGTERM(t *testing.T) {
	t.Setenv(tokenEnv, "fixed-token")
	profile := filepath.Join(t.TempDir(), "cpu.pprof")
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run([]string{"-listen", "tcp", "-cpuprofile", profile}, w, io.Discard) }()

	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the ready line: %v", err)
	}
	var got wire.Ready
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if got.Token != "fixed-token" || !strings.HasPrefix(got.Target, "127.0.0.1:") || got.PID == 0 ||
		got.MaxMessageSize != 64<<20 || got.KeepaliveMinTimeMS != 10_000 {
		t.Errorf("ready = %+v; want the env token, a loopback target and a pid", got)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() after SIGTERM = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run() did not return after SIGTERM")
	}
	// The profile is complete once run returns: a gzipped pprof protobuf.
	data, err := os.ReadFile(profile)
	if err != nil || len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		t.Errorf("-cpuprofile wrote %d bytes (%v); want a gzipped profile", len(data), err)
	}
}

func TestRunRejectsTwoPluginsWithOneID(t *testing.T) {
	var dirs []string
	for range 2 {
		dir := t.TempDir()
		manifest := `{"id": "com.example.same", "server": {"python": {"entry": "plugin.py"}}}`
		if err := os.WriteFile(filepath.Join(dir, "plugin.json"), []byte(manifest), 0o600); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	err := run([]string{"-plugin", dirs[0], "-plugin", dirs[1]}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `are both plugin "com.example.same"`) {
		t.Errorf("run(two plugins with one id) = %v; want the duplicate named", err)
	}
	if err := run([]string{"-plugin", ""}, io.Discard, io.Discard); err == nil {
		t.Error("run(-plugin \"\") succeeded")
	}
}

// TestParseFlagsResolvesPathsHere: paths given in flags and in
// MATTERMOST_PLUGIN_PYTHON are relative to the working directory, not to
// the plugin's; a bare interpreter name is left for PATH.
func TestParseFlagsResolvesPathsHere(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		env        string
		wantPython string
		wantState  string
	}{
		{"a relative -python", []string{"-python", ".venv/bin/python"}, "", filepath.Join(wd, ".venv/bin/python"), ""},
		{"a relative -python with ..", []string{"-python", "../py/bin/python3"}, "", filepath.Join(filepath.Dir(wd), "py/bin/python3"), ""},
		{"an absolute -python", []string{"-python", "/opt/py/bin/python"}, "", "/opt/py/bin/python", ""},
		{"a bare -python", []string{"-python", "python3.12"}, "", "python3.12", ""},
		{"a relative $" + pythonEnv, nil, "venv/bin/python", filepath.Join(wd, "venv/bin/python"), ""},
		{"a bare $" + pythonEnv, nil, "python3", "python3", ""},
		{"-python over $" + pythonEnv, []string{"-python", "./py"}, "other/python", filepath.Join(wd, "py"), ""},
		{"a relative -state", []string{"-state", "state.json"}, "", "", filepath.Join(wd, "state.json")},
	}
	if c, err := parseFlags([]string{"-plugins-dir", "plugins"}, io.Discard); err != nil || c.pluginsDir != filepath.Join(wd, "plugins") {
		t.Errorf("parseFlags(-plugins-dir plugins) = %q, %v; want %s", c.pluginsDir, err, filepath.Join(wd, "plugins"))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(pythonEnv, tc.env)
			c, err := parseFlags(tc.args, io.Discard)
			if err != nil {
				t.Fatalf("parseFlags(%q) = %v", tc.args, err)
			}
			if c.python != tc.wantPython || c.state != tc.wantState {
				t.Errorf("parseFlags(%q) with $%s=%q: python %q, state %q; want %q, %q", tc.args, pythonEnv, tc.env, c.python, c.state, tc.wantPython, tc.wantState)
			}
		})
	}
}

// TestRelativePythonIsFromTheWorkingDirectory runs a plugin whose
// directory is elsewhere with a -python relative to the working
// directory.
func TestRelativePythonIsFromTheWorkingDirectory(t *testing.T) {
	py := testenv.Python(t)
	work := t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, "env", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A wrapper rather than a link: a venv's python finds its packages
	// through the path it was started as.
	writeFile(t, filepath.Join(work, "env", "bin", "python"), "#!/bin/sh\nexec "+py+" \"$@\"\n")
	if err := os.Chmod(filepath.Join(work, "env", "bin", "python"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writePlugin(t, dir, "com.example.relative-python", watchedPlugin("v1"), nil)
	t.Chdir(work)
	t.Setenv(pythonEnv, "")
	s := startServer(t, "-plugin", dir, "-python", "env/bin/python")
	if got := s.ask("com.example.relative-python"); got.version != "v1" {
		t.Errorf("the plugin answers %+v\nlog:\n%s", got, s.logs)
	}
}

// TestStateSurvivesARestart makes a user and a KV key, stops the server
// and starts it again with the same -state file: they are there.
func TestStateSurvivesARestart(t *testing.T) {
	state := filepath.Join(t.TempDir(), "dev-state.json")
	s := startServer(t, "-state", state)
	ctx := callCtx(t)
	if _, err := s.api.CreateUser(ctx, &pluginpb.CreateUserRequest{User: &pluginpb.User{Username: "keeper", Email: "keeper@example.com", Password: "pw-s3cret-keep"}}); err != nil {
		t.Fatalf("CreateUser() = %v", err)
	}
	if _, err := s.api.KVSet(ctx, &pluginpb.KVSetRequest{Key: "counter", Value: []byte("41")}); err != nil {
		t.Fatalf("KVSet() = %v", err)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("stop: run() = %v\nlog:\n%s", err, s.logs)
	}
	if line := logLine(s.logs.String(), `msg="state saved"`); !strings.Contains(line, state) {
		t.Errorf("the log does not say where the state was saved:\n%s", s.logs)
	}

	s = startServer(t, "-state", state)
	ctx = callCtx(t)
	if line := logLine(s.logs.String(), `msg="state loaded"`); !strings.Contains(line, state) {
		t.Errorf("the log does not say where the state was loaded from:\n%s", s.logs)
	}
	user, err := s.api.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{Username: "keeper"})
	if err != nil || user.GetUser().GetEmail() != "keeper@example.com" {
		t.Errorf("GetUserByUsername(keeper) after the restart = %v, %v", user, err)
	}
	kv, err := s.api.KVGet(ctx, &pluginpb.KVGetRequest{Key: "counter"})
	if err != nil || string(kv.GetValue()) != "41" {
		t.Errorf("KVGet(counter) after the restart = %v, %v", kv, err)
	}
}

// TestUnreadableStateStopsTheServer: a -state file that cannot be read
// stops the server before it listens, with the file's name.
func TestUnreadableStateStopsTheServer(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	writeFile(t, garbage, "this is not a state file")
	aDir := filepath.Join(dir, "a-directory")
	if err := os.Mkdir(aDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{garbage, aDir} {
		var stdout bytes.Buffer
		err := runContext(context.Background(), []string{"-state", path}, &stdout, io.Discard)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.HasPrefix(err.Error(), "-state: ") {
			t.Errorf("run(-state %s) = %v; want an error of -state that names the file", path, err)
		}
		if stdout.Len() > 0 {
			t.Errorf("run(-state %s) printed a ready line: %q", path, stdout.String())
		}
	}
}

func TestManifestProto(t *testing.T) {
	m := supervisor.Manifest{
		ID: "com.example.schema",
		SettingsSchema: &supervisor.SettingsSchema{
			Header: "h",
			Settings: []*supervisor.Setting{
				{Key: "Word", DisplayName: "Word", Type: "text", Default: "spam", Placeholder: "p", HelpText: "help"},
				{Key: "Mood", Type: "radio", Default: "calm", Options: []*supervisor.SettingOption{{DisplayName: "Calm", Value: "calm"}}},
				{Key: "Limit", Type: "number", Default: float64(3), Secret: true},
				nil,
			},
			Sections: []*supervisor.SettingsSection{{Key: "s", Title: "S", Settings: []*supervisor.Setting{{Key: "Extra", Type: "bool", Default: true}}}},
		},
	}
	got := manifestProto(m)
	want := &pluginpb.Manifest{
		Id:   "com.example.schema",
		Name: "com.example.schema",
		SettingsSchema: &pluginpb.PluginSettingsSchema{
			Header: "h",
			Settings: []*pluginpb.PluginSetting{
				{Key: "Word", DisplayName: "Word", Type: "text", Default: structpb.NewStringValue("spam"), Placeholder: "p", HelpText: "help"},
				{Key: "Mood", Type: "radio", Default: structpb.NewStringValue("calm"), Options: []*pluginpb.PluginOption{{DisplayName: "Calm", Value: "calm"}}},
				{Key: "Limit", Type: "number", Default: structpb.NewNumberValue(3), Secret: true},
			},
			Sections: []*pluginpb.PluginSettingsSection{{Key: "s", Title: "S", Settings: []*pluginpb.PluginSetting{{Key: "Extra", Type: "bool", Default: structpb.NewBoolValue(true)}}}},
		},
	}
	if !proto.Equal(got, want) {
		t.Errorf("manifestProto() = %v\nwant %v", got, want)
	}
	if got := manifestProto(supervisor.Manifest{ID: "x.y.z", Name: "N", Version: "1.0.0"}); got.GetSettingsSchema() != nil || got.GetName() != "N" || got.GetVersion() != "1.0.0" {
		t.Errorf("manifestProto(without a schema) = %v", got)
	}
}

// configPlugin records each configuration it applies in the KV store,
// and fails on {"Fail": true}.
const configPlugin = `import mattermost_plugin as mp


class TestPlugin(mp.Plugin):
    def on_configuration_change(self):
        if self.configuration.get("Fail"):
            raise ValueError("this configuration is refused")
`

// TestConfigurationAppliedIsLogged saves a plugin's configuration: once
// the plugin's OnConfigurationChange has returned, a debug record says
// so, with the plugin's id and, when it failed, the error. The plugin's
// settings schema reaches the backend.
func TestConfigurationAppliedIsLogged(t *testing.T) {
	py := testenv.Python(t)
	const id = "com.example.configured"
	dir := t.TempDir()
	schema := map[string]any{"settings": []any{map[string]any{"key": "Fail", "type": "bool", "default": false, "display_name": "Fail"}}}
	writePlugin(t, dir, id, configPlugin, map[string]any{"settings_schema": schema})
	s := startServer(t, "-plugin", dir, "-python", py)
	ctx := callCtx(t)

	plugins, err := s.api.GetPlugins(ctx, &pluginpb.GetPluginsRequest{})
	if err != nil {
		t.Fatalf("GetPlugins() = %v", err)
	}
	var setting *pluginpb.PluginSetting
	for _, m := range plugins.GetManifests() {
		if m.GetId() == id && len(m.GetSettingsSchema().GetSettings()) == 1 {
			setting = m.GetSettingsSchema().GetSettings()[0]
		}
	}
	if setting.GetKey() != "Fail" || setting.GetType() != "bool" || setting.GetDefault().GetKind() == nil {
		t.Errorf("GetPlugins() = %v; want the manifest's settings schema", plugins)
	}

	tests := []struct {
		config map[string]any
		want   string
	}{
		{map[string]any{"Fail": false}, `msg="plugin configuration applied" plugin_id=` + id + "\n"},
		{map[string]any{"Fail": true}, `msg="plugin configuration applied" plugin_id=` + id + ` error=`},
	}
	for _, tc := range tests {
		cfg, _ := structpb.NewStruct(tc.config)
		if _, err := s.api.SavePluginConfig(ctx, &pluginpb.SavePluginConfigRequest{Config: cfg}); err != nil {
			t.Fatalf("SavePluginConfig(%v) = %v", tc.config, err)
		}
		s.waitLog(t, tc.want)
	}
	if line := logLine(s.logs.String(), tests[1].want); !strings.Contains(line, "this configuration is refused") {
		t.Errorf("the record lacks the plugin's error: %s", line)
	}
}

// TestConfigurationAppliedNamesEachPlugin fires OnConfigurationChange in
// two plugins that are down: each gets its record.
func TestConfigurationAppliedNamesEachPlugin(t *testing.T) {
	var logs testenv.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var plugins []*devPlugin
	for _, id := range []string{"com.example.b", "com.example.a"} {
		plugins = append(plugins, &devPlugin{bundle: &supervisor.Bundle{Manifest: supervisor.Manifest{ID: id}}})
	}
	h := newPluginHooks(plugins, logger)
	h.OnConfigurationChange(context.Background())
	h.wait()
	a := strings.Index(logs.String(), `level=DEBUG msg="plugin configuration applied" plugin_id=com.example.a`)
	b := strings.Index(logs.String(), `level=DEBUG msg="plugin configuration applied" plugin_id=com.example.b`)
	if a < 0 || b < a {
		t.Errorf("want a record for each plugin, in id order; log:\n%s", logs.String())
	}
}
