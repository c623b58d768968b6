package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// managingPlugin is the code of the plugins of the lifecycle tests. Its
// ServeHTTP answers "<name> pid=<pid> path=<bundle path>" on /, and on
// /disable?id=X, /enable?id=X calls DisablePlugin or EnablePlugin on X
// first, and on /arm stores the KV key "disable-on-activate", after which
// its OnActivate disables the plugin itself. Its MessageWillBePosted
// appends " [<name>]"; its OnActivate registers the command
// /<name>-cmd (in lower case), which answers "<name> ran"; its
// OnDeactivate writes the file <marks>/<name>-deactivated-<pid>.
func managingPlugin(name, id, marks string) string {
	return fmt.Sprintf(`import os
import urllib.parse

import mattermost_plugin as mp
from mattermost_plugin.models import Command, CommandResponse

NAME = %q
ID = %q
MARKS = %q


class TestPlugin(mp.Plugin):
    def on_activate(self):
        self.api.register_command(Command(trigger=NAME.lower() + "-cmd", auto_complete=False))
        if self.api.kv_get("disable-on-activate"):
            self.api.disable_plugin(ID)

    def execute_command(self, context, args):
        return CommandResponse(text=NAME + " ran")

    def on_deactivate(self):
        with open(os.path.join(MARKS, f"{NAME}-deactivated-{os.getpid()}"), "w"):
            pass

    def serve_http(self, context, request):
        target = urllib.parse.parse_qs(request.query).get("id", [""])[0]
        if request.path == "/disable":
            self.api.disable_plugin(target)
        elif request.path == "/enable":
            self.api.enable_plugin(target)
        elif request.path == "/arm":
            self.api.kv_set("disable-on-activate", b"1")
        return mp.HTTPResponse(
            body=f"{NAME} pid={os.getpid()} path={self.api.get_bundle_path()}"
        )

    def message_will_be_posted(self, context, post):
        post.message = post.message + " [" + NAME + "]"
        return post
`, name, id, marks)
}

// managed is what a managing plugin answers.
type managed struct {
	status     int
	name, path string
	pid        int
	body       string
}

// askManaged fetches route of plugin id.
func (s *devServer) askManaged(id, route string) managed {
	status, body := s.get("/plugins/" + id + route)
	a := managed{status: status, body: body}
	if status == http.StatusOK {
		_, _ = fmt.Sscanf(body, "%s pid=%d path=%s", &a.name, &a.pid, &a.path)
	}
	return a
}

// pluginState returns GetPluginStatus's state and plugin path of id.
func (s *devServer) pluginState(t *testing.T, id string) (int32, string) {
	t.Helper()
	st, err := s.api.GetPluginStatus(callCtx(t), &pluginpb.GetPluginStatusRequest{Id: id})
	if err != nil {
		t.Fatalf("GetPluginStatus(%s) = %v", id, err)
	}
	return st.GetStatus().GetState(), st.GetStatus().GetPluginPath()
}

// waitState waits until GetPluginStatus says state for id.
func (s *devServer) waitState(t *testing.T, id string, state int32) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := s.pluginState(t, id)
		if got == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GetPluginStatus(%s) says state %d after 30 s; want %d\nlog:\n%s", id, got, state, s.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processGone reports whether no process has pid.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// commander makes a user in a team and returns the command arguments of
// that user in the team's town square.
func commander(t *testing.T, s *devServer) *pluginpb.CommandArgs {
	t.Helper()
	return townSquareUser(t, s, "commander")
}

// townSquareUser makes the user name, a team of its own with the user in
// it, and returns the user's, the team's and its town square's ids, as
// command arguments.
func townSquareUser(t *testing.T, s *devServer, name string) *pluginpb.CommandArgs {
	t.Helper()
	ctx := callCtx(t)
	user, err := s.api.CreateUser(ctx, &pluginpb.CreateUserRequest{User: &pluginpb.User{Username: name, Email: name + "@example.com", Password: "pw-s3cret-" + name}})
	if err != nil {
		t.Fatalf("CreateUser() = %v", err)
	}
	team, err := s.api.CreateTeam(ctx, &pluginpb.CreateTeamRequest{Team: &pluginpb.Team{Name: "team-" + name, DisplayName: "Team", Type: "O"}})
	if err != nil {
		t.Fatalf("CreateTeam() = %v", err)
	}
	if _, err := s.api.CreateTeamMember(ctx, &pluginpb.CreateTeamMemberRequest{TeamId: team.GetTeam().GetId(), UserId: user.GetUser().GetId()}); err != nil {
		t.Fatalf("CreateTeamMember() = %v", err)
	}
	town, err := s.api.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetTeam().GetId(), Name: "town-square"})
	if err != nil {
		t.Fatalf("GetChannelByName() = %v", err)
	}
	return &pluginpb.CommandArgs{UserId: user.GetUser().GetId(), TeamId: team.GetTeam().GetId(), ChannelId: town.GetChannel().GetId()}
}

// runCommand runs the slash command as who, and returns the answer's text
// or the error.
func (s *devServer) runCommand(t *testing.T, who *pluginpb.CommandArgs, command string) (string, error) {
	t.Helper()
	resp, err := s.api.ExecuteSlashCommand(callCtx(t), &pluginpb.ExecuteSlashCommandRequest{CommandArgs: &pluginpb.CommandArgs{
		UserId: who.GetUserId(), TeamId: who.GetTeamId(), ChannelId: who.GetChannelId(), Command: command,
	}})
	return resp.GetResponse().GetText(), err
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// startManaged starts a dev server with the managing plugins a and b
// (see managingPlugin), and returns it with the directory of their marks.
func startManaged(t *testing.T, a, b string) (*devServer, string) {
	t.Helper()
	py := testenv.Python(t)
	marks := t.TempDir()
	dirA, dirB := t.TempDir(), t.TempDir()
	writePlugin(t, dirA, a, managingPlugin("A", a, marks), nil)
	writePlugin(t, dirB, b, managingPlugin("B", b, marks), nil)
	return startServer(t, "-plugin", dirA, "-plugin", dirB, "-python", py), marks
}

// TestPluginDisablesAnother runs two plugins in one dev server: A calls
// DisablePlugin(B) from its ServeHTTP, and B is deactivated before the
// call returns: its OnDeactivate ran, its process is gone, its routes and
// hooks no longer answer, GetPluginStatus says it is not running; A runs
// on. A's EnablePlugin(B) then starts B again.
func TestPluginDisablesAnother(t *testing.T) {
	const a, b = "com.example.manager-a", "com.example.manager-b"
	s, marks := startManaged(t, a, b)

	firstA, firstB := s.askManaged(a, "/"), s.askManaged(b, "/")
	if firstA.name != "A" || firstB.name != "B" {
		t.Fatalf("the plugins answer %+v and %+v\nlog:\n%s", firstA, firstB, s.logs)
	}
	if msg := postWith(t, s, "before"); msg != "before [A] [B]" {
		t.Errorf("a post through both plugins = %q; want %q", msg, "before [A] [B]")
	}
	who := commander(t, s)
	if text, err := s.runCommand(t, who, "/b-cmd"); err != nil || text != "B ran" {
		t.Errorf("/b-cmd = %q, %v; want B's answer", text, err)
	}

	if got := s.askManaged(a, "/disable?id="+b); got.name != "A" || got.pid != firstA.pid {
		t.Fatalf("A's DisablePlugin(B) answers %+v\nlog:\n%s", got, s.logs)
	}
	// DisablePlugin returned: B is deactivated already.
	if !exists(filepath.Join(marks, fmt.Sprintf("B-deactivated-%d", firstB.pid))) {
		t.Errorf("B's OnDeactivate did not run before DisablePlugin(B) returned\nlog:\n%s", s.logs)
	}
	if !processGone(firstB.pid) {
		t.Errorf("B's process %d still runs after DisablePlugin(B)", firstB.pid)
	}
	if state, _ := s.pluginState(t, b); state != stateNotRunning {
		t.Errorf("GetPluginStatus(B) after DisablePlugin(B) says state %d; want %d (not running)", state, stateNotRunning)
	}
	if got := s.askManaged(b, "/"); got.status != http.StatusNotFound {
		t.Errorf("B's route after DisablePlugin(B) answers %d %q; want 404", got.status, got.body)
	}
	if msg := postWith(t, s, "during"); msg != "during [A]" {
		t.Errorf("a post while B is disabled = %q; want %q", msg, "during [A]")
	}
	// As upstream's DisablePlugin unregisters the plugin's commands.
	if text, err := s.runCommand(t, who, "/b-cmd"); err == nil || appErrorOf(t, err).ID != "api.command.execute_command.not_found.app_error" {
		t.Errorf("/b-cmd of the disabled B = %q, %v; want api.command.execute_command.not_found.app_error", text, err)
	}
	if text, err := s.runCommand(t, who, "/a-cmd"); err != nil || text != "A ran" {
		t.Errorf("/a-cmd while B is disabled = %q, %v; want A's answer", text, err)
	}
	if got := s.askManaged(a, "/"); got.name != "A" || got.pid != firstA.pid {
		t.Errorf("A after disabling B answers %+v; want the same process %d", got, firstA.pid)
	}
	if state, _ := s.pluginState(t, a); state != stateRunning {
		t.Errorf("GetPluginStatus(A) says state %d; want %d (running)", state, stateRunning)
	}

	if got := s.askManaged(a, "/enable?id="+b); got.name != "A" {
		t.Fatalf("A's EnablePlugin(B) answers %+v\nlog:\n%s", got, s.logs)
	}
	again := s.askManaged(b, "/")
	if again.name != "B" || again.pid == firstB.pid {
		t.Errorf("B after EnablePlugin(B) answers %+v; want a new process", again)
	}
	if state, _ := s.pluginState(t, b); state != stateRunning {
		t.Errorf("GetPluginStatus(B) after EnablePlugin(B) says state %d; want %d (running)", state, stateRunning)
	}
	if msg := postWith(t, s, "after"); msg != "after [A] [B]" {
		t.Errorf("a post after EnablePlugin(B) = %q; want %q", msg, "after [A] [B]")
	}
	if text, err := s.runCommand(t, who, "/b-cmd"); err != nil || text != "B ran" {
		t.Errorf("/b-cmd after EnablePlugin(B) = %q, %v; want B's answer", text, err)
	}
}

// TestPluginDisablesItself: a plugin that disables itself, from its
// ServeHTTP or from its OnActivate, does not deadlock the dev server: the
// call that triggered it returns, the plugin ends disabled and not
// running, and the other plugin and the API serve on.
func TestPluginDisablesItself(t *testing.T) {
	const a, b = "com.example.self-a", "com.example.self-b"
	s, marks := startManaged(t, a, b)
	ctx := callCtx(t)

	// From a hook: the request ends, with a 500 (the plugin's process
	// goes while it waits on the call), and A is disabled.
	first := s.askManaged(a, "/")
	if first.name != "A" {
		t.Fatalf("A answers %+v\nlog:\n%s", first, s.logs)
	}
	if got := s.askManaged(a, "/disable?id="+a); got.status != http.StatusInternalServerError {
		t.Errorf("A's DisablePlugin(A) from its ServeHTTP answers %d %q; want 500, as its process goes under it", got.status, got.body)
	}
	s.waitState(t, a, stateNotRunning)
	if !exists(filepath.Join(marks, fmt.Sprintf("A-deactivated-%d", first.pid))) {
		t.Errorf("A's OnDeactivate did not run\nlog:\n%s", s.logs)
	}
	if got := s.askManaged(a, "/"); got.status != http.StatusNotFound {
		t.Errorf("A's route after it disabled itself answers %d %q; want 404", got.status, got.body)
	}
	if got := s.askManaged(b, "/"); got.name != "B" {
		t.Errorf("B after A disabled itself answers %+v", got)
	}
	if _, err := s.api.EnablePlugin(ctx, &pluginpb.EnablePluginRequest{Id: a}); err != nil {
		t.Fatalf("EnablePlugin(A) = %v\nlog:\n%s", err, s.logs)
	}
	if got := s.askManaged(a, "/"); got.name != "A" || got.pid == first.pid {
		t.Fatalf("A after EnablePlugin(A) answers %+v; want a new process", got)
	}

	// From OnActivate, while the activation that runs it is in progress.
	if got := s.askManaged(b, "/arm"); got.name != "B" {
		t.Fatalf("B's /arm answers %+v", got)
	}
	if _, err := s.api.DisablePlugin(ctx, &pluginpb.DisablePluginRequest{Id: b}); err != nil {
		t.Fatalf("DisablePlugin(B) = %v", err)
	}
	// EnablePlugin returns once B's OnActivate returned; B's own
	// DisablePlugin, made during it, then takes effect.
	if _, err := s.api.EnablePlugin(ctx, &pluginpb.EnablePluginRequest{Id: b}); err != nil {
		t.Fatalf("EnablePlugin(B, which disables itself in OnActivate) = %v\nlog:\n%s", err, s.logs)
	}
	s.waitState(t, b, stateNotRunning)
	if got := s.askManaged(b, "/"); got.status != http.StatusNotFound {
		t.Errorf("B's route after it disabled itself in OnActivate answers %d %q; want 404", got.status, got.body)
	}
	cfg, err := s.api.GetConfig(ctx, &pluginpb.GetConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var config struct {
		PluginSettings struct {
			PluginStates map[string]struct{ Enable bool }
		}
	}
	if err := json.Unmarshal([]byte(cfg.GetConfig().GetJson()), &config); err != nil {
		t.Fatal(err)
	}
	if state, ok := config.PluginSettings.PluginStates[b]; !ok || state.Enable {
		t.Errorf("PluginStates[%s] = %+v, %v; want disabled", b, state, ok)
	}
	if got := s.askManaged(a, "/"); got.name != "A" {
		t.Errorf("A after B disabled itself answers %+v", got)
	}
	if msg := postWith(t, s, "healthy"); !strings.HasPrefix(msg, "healthy [A]") || strings.Contains(msg, "[B]") {
		t.Errorf("a post after B disabled itself = %q; want A's mark only", msg)
	}
}

// TestBundlePathOfEachPlugin runs a plugin directory given by a relative
// path and a bundle in one dev server: each plugin's GetBundlePath, called
// with its own token, answers its absolute directory, which holds its
// plugin.json, and GetPluginStatus's plugin_path agrees. (Before the host
// knew them, both answered <cwd>/plugins/<id>, which does not exist.)
func TestBundlePathOfEachPlugin(t *testing.T) {
	py := testenv.Python(t)
	const fromDir, fromBundle = "com.example.path-dir", "com.example.path-bundle"
	marks := t.TempDir()
	work := t.TempDir()
	if err := os.MkdirAll(filepath.Join(work, "src", "mine"), 0o755); err != nil {
		t.Fatal(err)
	}
	writePlugin(t, filepath.Join(work, "src", "mine"), fromDir, managingPlugin("D", fromDir, marks), nil)
	bundlePath := filepath.Join(work, fromBundle+".tar.gz")
	pythonBundle(t, bundlePath, fromBundle, managingPlugin("B", fromBundle, marks), "")
	root := filepath.Join(work, "plugins-root")
	t.Chdir(work)
	s := startServer(t, "-plugin", "src/mine", "-plugin", fromBundle+".tar.gz", "-python", py, "-plugins-dir", "plugins-root")

	for _, tc := range []struct{ id, want string }{
		{fromDir, filepath.Join(work, "src", "mine")},
		{fromBundle, filepath.Join(root, fromBundle)},
	} {
		got := s.askManaged(tc.id, "/")
		if got.path != tc.want {
			t.Errorf("plugin %s's GetBundlePath() = %q; want %s\nlog:\n%s", tc.id, got.path, tc.want, s.logs)
		}
		if !exists(filepath.Join(tc.want, "plugin.json")) {
			t.Errorf("plugin %s's bundle path %s has no plugin.json", tc.id, tc.want)
		}
		if state, path := s.pluginState(t, tc.id); state != stateRunning || path != tc.want {
			t.Errorf("GetPluginStatus(%s) = state %d, plugin_path %q; want %d, %s", tc.id, state, path, stateRunning, tc.want)
		}
	}
}

// startingPlugin is the code of a plugin whose OnActivate makes one
// plugin-management call: action is "enable", "disable", "remove" or
// "install", on the plugin target (for "install", the path of a bundle to
// install). It writes the call's outcome, "ok" or the error, to the file
// <marks>/<name>-activate, and its OnDeactivate writes
// <marks>/<name>-deactivated-<pid>. Its ServeHTTP answers
// "<name> pid=<pid> path=<bundle path>".
func startingPlugin(name, action, target, marks string) string {
	return fmt.Sprintf(`import os

import mattermost_plugin as mp

NAME = %q
ACTION = %q
TARGET = %q
MARKS = %q


class TestPlugin(mp.Plugin):
    def on_activate(self):
        try:
            if ACTION == "enable":
                self.api.enable_plugin(TARGET)
            elif ACTION == "disable":
                self.api.disable_plugin(TARGET)
            elif ACTION == "remove":
                self.api.remove_plugin(TARGET)
            elif ACTION == "install":
                with open(TARGET, "rb") as f:
                    self.api.install_plugin(f.read(), False)
            outcome = "ok"
        except Exception as e:
            outcome = f"{type(e).__name__}: {e}"
        with open(os.path.join(MARKS, NAME + "-activate"), "w") as f:
            f.write(outcome)

    def on_deactivate(self):
        with open(os.path.join(MARKS, f"{NAME}-deactivated-{os.getpid()}"), "w"):
            pass

    def serve_http(self, context, request):
        return mp.HTTPResponse(
            body=f"{NAME} pid={os.getpid()} path={self.api.get_bundle_path()}"
        )
`, name, action, target, marks)
}

// readMark returns the content of the file <marks>/<name>.
func readMark(t *testing.T, marks, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(marks, name))
	if err != nil {
		t.Fatalf("mark %s: %v", name, err)
	}
	return string(data)
}

// TestPluginManagesAnotherAtStart starts a dev server whose first plugin,
// A, makes a plugin-management call on the second, B, or on itself, from
// its OnActivate, while the server's start holds the lifecycle: the start
// completes (it waited on A's OnActivate, which waited on the start), and
// the call takes effect once the start has started every plugin. Before,
// EnablePlugin and RemovePlugin hung the start, and a plugin that disabled
// itself was enabled again by the start.
func TestPluginManagesAnotherAtStart(t *testing.T) {
	py := testenv.Python(t)
	const a, b = "com.example.start-a", "com.example.start-b"
	for _, tc := range []struct {
		action, target string
		// running says whether A and B run once the server is up; gone
		// that B is no longer installed.
		runningA, runningB, goneB bool
	}{
		{action: "enable", target: b, runningA: true, runningB: true},
		{action: "remove", target: b, runningA: true, goneB: true},
		{action: "disable", target: a, runningB: true},
	} {
		t.Run(tc.action+"-"+tc.target, func(t *testing.T) {
			marks := t.TempDir()
			dirA, dirB := t.TempDir(), t.TempDir()
			writePlugin(t, dirA, a, startingPlugin("A", tc.action, tc.target, marks), nil)
			writePlugin(t, dirB, b, managingPlugin("B", b, marks), nil)
			s := startServer(t, "-plugin", dirA, "-plugin", dirB, "-python", py)

			if got := readMark(t, marks, "A-activate"); got != "ok" {
				t.Errorf("A's %s(%s) from OnActivate = %q; want ok\nlog:\n%s", tc.action, tc.target, got, s.logs)
			}
			for _, p := range []struct {
				id, name string
				running  bool
			}{{a, "A", tc.runningA}, {b, "B", tc.runningB}} {
				if p.id == b && tc.goneB {
					continue
				}
				want := int32(stateNotRunning)
				if p.running {
					want = stateRunning
				}
				if state, _ := s.pluginState(t, p.id); state != want {
					t.Errorf("GetPluginStatus(%s) says state %d; want %d\nlog:\n%s", p.name, state, want, s.logs)
				}
				got := s.askManaged(p.id, "/")
				if p.running && got.name != p.name {
					t.Errorf("%s answers %+v; want it to run", p.name, got)
				}
				if !p.running && got.status != http.StatusNotFound {
					t.Errorf("%s's route answers %d %q; want 404", p.name, got.status, got.body)
				}
			}
			if tc.goneB {
				_, err := s.api.GetPluginStatus(callCtx(t), &pluginpb.GetPluginStatusRequest{Id: b})
				if err == nil || appErrorOf(t, err).ID != "app.plugin.not_installed.app_error" {
					t.Errorf("GetPluginStatus(B) after A removed it = %v; want app.plugin.not_installed.app_error", err)
				}
				if got := s.askManaged(b, "/"); got.status != http.StatusNotFound {
					t.Errorf("B's route after A removed it answers %d %q; want 404", got.status, got.body)
				}
				matches, _ := filepath.Glob(filepath.Join(marks, "B-deactivated-*"))
				if len(matches) != 1 {
					t.Errorf("B's OnDeactivate ran %d times; want once, as it was removed", len(matches))
				}
			}
		})
	}
}

// TestPluginInstallsFromOnActivate: a plugin whose OnActivate calls
// InstallPlugin while the server's start holds the lifecycle gets an
// AppError that says why at once, rather than hanging the start; nothing
// is installed, and the server serves on.
func TestPluginInstallsFromOnActivate(t *testing.T) {
	py := testenv.Python(t)
	const a, c = "com.example.install-a", "com.example.install-c"
	marks, work := t.TempDir(), t.TempDir()
	bundlePath := filepath.Join(work, c+".tar.gz")
	pythonBundle(t, bundlePath, c, managingPlugin("C", c, marks), "")
	dirA, root := t.TempDir(), t.TempDir()
	writePlugin(t, dirA, a, startingPlugin("A", "install", bundlePath, marks), nil)
	s := startServer(t, "-plugin", dirA, "-python", py, "-plugins-dir", root)

	if got := readMark(t, marks, "A-activate"); !strings.Contains(got, "another plugin operation is in progress") {
		t.Errorf("A's InstallPlugin from OnActivate = %q; want an AppError that says another operation is in progress\nlog:\n%s", got, s.logs)
	}
	if _, err := s.api.GetPluginStatus(callCtx(t), &pluginpb.GetPluginStatusRequest{Id: c}); err == nil {
		t.Errorf("GetPluginStatus(C) = nil error; want C not installed")
	}
	if got := s.askManaged(a, "/"); got.name != "A" {
		t.Errorf("A answers %+v; want it to run", got)
	}
	if state, _ := s.pluginState(t, a); state != stateRunning {
		t.Errorf("GetPluginStatus(A) says state %d; want %d (running)", state, stateRunning)
	}
	if entries, _ := os.ReadDir(root); len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the plugins directory holds %v after the refused install; want nothing", names)
	}
}
