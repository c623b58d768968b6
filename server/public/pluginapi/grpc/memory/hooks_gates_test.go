package memory

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// gateHooks answers the gate hooks as its fields say and records every
// hook it gets, in order.
type gateHooks struct {
	NoHooks
	mu     sync.Mutex
	events []string

	reject      string // a reason every gate hook answers, unless empty
	purpose     string // ChannelWillBeUpdated sets it, unless empty
	nickname    string // UserWillBeUpdated sets it, unless empty
	markAdmin   bool   // ChannelMemberWillBeAdded makes the member an admin
	configErr   error  // ConfigurationWillBeSaved fails with it
	configJSON  string // ConfigurationWillBeSaved answers it, unless empty
	replacement []byte // FileWillBeUploaded writes it, unless nil
	fileName    string // FileWillBeUploaded renames the file, unless empty
	readBack    []byte // what FileWillBeUploaded read
}

func (h *gateHooks) record(event string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, event)
}

func (h *gateHooks) seen() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...)
}

func (h *gateHooks) ChannelMemberWillBeAdded(_ context.Context, m *pluginpb.ChannelMember) (*pluginpb.ChannelMember, string) {
	h.record("ChannelMemberWillBeAdded")
	if h.reject != "" {
		return nil, h.reject
	}
	m = proto.Clone(m).(*pluginpb.ChannelMember)
	m.SchemeAdmin = h.markAdmin
	m.NotifyProps = map[string]string{"desktop": "none"}
	return m, ""
}

func (h *gateHooks) UserHasJoinedChannel(_ context.Context, m *pluginpb.ChannelMember, _ *pluginpb.User) {
	h.record("UserHasJoinedChannel")
}

func (h *gateHooks) ChannelWillBeArchived(_ context.Context, c *pluginpb.Channel) string {
	h.record("ChannelWillBeArchived:" + c.GetName())
	return h.reject
}

func (h *gateHooks) ChannelWillBeRestored(_ context.Context, c *pluginpb.Channel) string {
	h.record("ChannelWillBeRestored:" + c.GetName())
	return h.reject
}

func (h *gateHooks) ChannelWillBeUpdated(_ context.Context, c, old *pluginpb.Channel) (*pluginpb.Channel, string) {
	h.record("ChannelWillBeUpdated:" + old.GetHeader() + "->" + c.GetHeader())
	if h.reject != "" {
		return nil, h.reject
	}
	if h.purpose != "" {
		c = proto.Clone(c).(*pluginpb.Channel)
		c.Purpose = h.purpose
		c.TeamId = "a plugin cannot move a channel"
	}
	return c, ""
}

func (h *gateHooks) UserWillBeUpdated(_ context.Context, u, old *pluginpb.User) (*pluginpb.User, string) {
	h.record("UserWillBeUpdated:" + old.GetNickname() + "->" + u.GetNickname())
	if h.reject != "" {
		return nil, h.reject
	}
	if h.nickname != "" {
		u = proto.Clone(u).(*pluginpb.User)
		u.Nickname = h.nickname
		u.Id = "a plugin cannot change the id"
		u.CreateAt = 1
	}
	return u, ""
}

func (h *gateHooks) UserHasBeenDeactivated(_ context.Context, u *pluginpb.User) {
	h.record("UserHasBeenDeactivated:" + u.GetUsername())
}

func (h *gateHooks) PreferencesHaveChanged(_ context.Context, prefs []*pluginpb.Preference) {
	for _, p := range prefs {
		h.record("PreferencesHaveChanged:" + p.GetName() + "=" + p.GetValue())
	}
}

func (h *gateHooks) ConfigurationWillBeSaved(_ context.Context, cfg *pluginpb.Config) (*pluginpb.Config, error) {
	h.record("ConfigurationWillBeSaved")
	if h.configErr != nil {
		return nil, h.configErr
	}
	if h.configJSON != "" {
		return &pluginpb.Config{Json: h.configJSON}, nil
	}
	return nil, nil
}

func (h *gateHooks) OnConfigurationChange(context.Context) { h.record("OnConfigurationChange") }

func (h *gateHooks) FileWillBeUploaded(_ context.Context, info *pluginpb.FileInfo, file io.Reader, output io.Writer) (*pluginpb.FileInfo, string) {
	h.record("FileWillBeUploaded:" + info.GetName())
	data, err := io.ReadAll(file)
	if err != nil {
		return nil, "unreadable: " + err.Error()
	}
	h.readBack = data
	if h.reject != "" {
		return nil, h.reject
	}
	if h.replacement != nil {
		if _, err := output.Write(h.replacement); err != nil {
			return nil, "" // fails open, as the hooks client does
		}
	}
	if h.fileName != "" {
		info = proto.Clone(info).(*pluginpb.FileInfo)
		info.Name = h.fileName
		info.Id = "a plugin cannot change the id"
		return info, ""
	}
	return nil, ""
}

// wantRejected fails unless err is a 400 AppError with id and the reason
// in its Reason parameter.
func wantRejected(t *testing.T, call string, err error, id, reason string) {
	t.Helper()
	var appErr *apperror.Error
	if !errors.As(err, &appErr) || appErr.StatusCode != http.StatusBadRequest || appErr.ID != id || appErr.Params["Reason"] != reason {
		t.Fatalf("%s = %v; want a 400 AppError %s with reason %q", call, err, id, reason)
	}
}

func TestChannelMemberWillBeAdded(t *testing.T) {
	h := &gateHooks{}
	w := newWorld(t)
	w.b.hooks = h
	ctx := context.Background()
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "ops", DisplayName: "Ops", Type: "O"})

	h.reject = "closed channel"
	_, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: c.GetId(), UserId: w.alice.GetId()})
	wantRejected(t, "AddChannelMember", err, "app.channel.add_user.to.channel.rejected_by_plugin", "closed channel")
	if _, err := w.b.GetChannelMember(ctx, &pluginpb.GetChannelMemberRequest{ChannelId: c.GetId(), UserId: w.alice.GetId()}); err == nil {
		t.Fatal("a rejected member was stored")
	}

	h.reject, h.markAdmin = "", true
	resp, err := w.b.AddUserToChannel(ctx, &pluginpb.AddUserToChannelRequest{ChannelId: c.GetId(), UserId: w.alice.GetId(), AsUserId: w.bob.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	m := resp.GetChannelMember()
	if !m.GetSchemeAdmin() || m.GetNotifyProps()["desktop"] != "none" || m.GetNotifyProps()["push"] == "" {
		t.Errorf("member = %v; want the plugin's admin flag and desktop setting over the defaults", m)
	}
	// An existing member joins again: no hook.
	if _, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: c.GetId(), UserId: w.alice.GetId()}); err != nil {
		t.Fatal(err)
	}
	want := "[ChannelMemberWillBeAdded ChannelMemberWillBeAdded UserHasJoinedChannel]"
	if got := fmtList(h.seen()); got != want {
		t.Errorf("hooks = %s; want %s", got, want)
	}
}

func fmtList(s []string) string { return "[" + strings.Join(s, " ") + "]" }

func TestChannelLifecycleHooks(t *testing.T) {
	h := &gateHooks{}
	w := newWorld(t)
	w.b.hooks = h
	ctx := context.Background()
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "ops", DisplayName: "Ops", Type: "O", Header: "h1"})

	h.reject = "keep it"
	_, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: c.GetId()})
	wantRejected(t, "DeleteChannel", err, "app.channel.delete_channel.rejected_by_plugin", "keep it")
	edit := proto.Clone(c).(*pluginpb.Channel)
	edit.Header = "h2"
	_, err = w.b.UpdateChannel(ctx, &pluginpb.UpdateChannelRequest{Channel: edit})
	wantRejected(t, "UpdateChannel", err, "app.channel.update_channel.rejected_by_plugin", "keep it")
	got, _ := w.b.GetChannel(ctx, &pluginpb.GetChannelRequest{ChannelId: c.GetId()})
	if got.GetChannel().GetDeleteAt() != 0 || got.GetChannel().GetHeader() != "h1" {
		t.Fatalf("after rejections the channel is %v; want it unchanged", got.GetChannel())
	}

	h.reject, h.purpose = "", "set by a plugin"
	up, err := w.b.UpdateChannel(ctx, &pluginpb.UpdateChannelRequest{Channel: edit})
	if err != nil {
		t.Fatal(err)
	}
	if up.GetChannel().GetPurpose() != "set by a plugin" || up.GetChannel().GetHeader() != "h2" || up.GetChannel().GetTeamId() != w.team.GetId() {
		t.Errorf("updated channel = %v; want the plugin's purpose, the new header and the same team", up.GetChannel())
	}
	if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: c.GetId()}); err != nil {
		t.Fatal(err)
	}
	h.reject = "stay archived"
	_, err = w.b.RestoreChannel(ctx, &pluginpb.RestoreChannelRequest{ChannelId: c.GetId()})
	wantRejected(t, "RestoreChannel", err, "app.channel.restore_channel.rejected_by_plugin", "stay archived")
	h.reject = ""
	if _, err := w.b.RestoreChannel(ctx, &pluginpb.RestoreChannelRequest{ChannelId: c.GetId()}); err != nil {
		t.Fatal(err)
	}
	// A change that fails its own checks runs no hook: archiving the
	// default channel, restoring a live one.
	town, _ := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: townSquare})
	if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: town.GetChannel().GetId()}); err == nil {
		t.Fatal("the default channel was archived")
	}
	if _, err := w.b.RestoreChannel(ctx, &pluginpb.RestoreChannelRequest{ChannelId: c.GetId()}); err == nil {
		t.Fatal("a live channel was restored")
	}
	want := "[ChannelWillBeArchived:ops ChannelWillBeUpdated:h1->h2 ChannelWillBeUpdated:h1->h2 ChannelWillBeArchived:ops ChannelWillBeRestored:ops ChannelWillBeRestored:ops]"
	if got := fmtList(h.seen()); got != want {
		t.Errorf("hooks = %s; want %s", got, want)
	}
}

func TestUserHooks(t *testing.T) {
	h := &gateHooks{}
	w := newWorld(t)
	w.b.hooks = h
	ctx := context.Background()

	edit := proto.Clone(w.alice).(*pluginpb.User)
	edit.Nickname = "al"
	h.reject = "no nicknames"
	_, err := w.b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: edit})
	wantRejected(t, "UpdateUser", err, "app.user.update_user.rejected_by_plugin", "no nicknames")

	h.reject, h.nickname = "", "Alice A."
	resp, err := w.b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: edit})
	if err != nil {
		t.Fatal(err)
	}
	u := resp.GetUser()
	if u.GetNickname() != "Alice A." || u.GetId() != w.alice.GetId() || u.GetCreateAt() != w.alice.GetCreateAt() {
		t.Errorf("updated user = %v; want the plugin's nickname, with alice's id and creation time", u)
	}
	// A user the plugin would update, but who does not exist: no hook.
	ghost := proto.Clone(edit).(*pluginpb.User)
	ghost.Id = newID()
	if _, err := w.b.UpdateUser(ctx, &pluginpb.UpdateUserRequest{User: ghost}); err == nil {
		t.Fatal("a missing user was updated")
	}

	if _, err := w.b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: w.bob.GetId(), Active: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: w.bob.GetId(), Active: false}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.DeleteUser(ctx, &pluginpb.DeleteUserRequest{UserId: w.carol.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: w.bob.GetId(), Active: true}); err != nil {
		t.Fatal(err)
	}
	// App.UpdateActive runs UserHasBeenDeactivated on every deactivation,
	// of a deactivated user too (server/channels/app/user.go@83b7daaf).
	want := "[UserWillBeUpdated:->al UserWillBeUpdated:->al UserHasBeenDeactivated:bob UserHasBeenDeactivated:bob " +
		"UserHasBeenDeactivated:carol]"
	if got := fmtList(h.seen()); got != want {
		t.Errorf("hooks = %s; want %s", got, want)
	}
}

func TestPreferencesHaveChanged(t *testing.T) {
	h := &gateHooks{}
	w := newWorld(t)
	w.b.hooks = h
	ctx := context.Background()
	prefs := []*pluginpb.Preference{{UserId: w.alice.GetId(), Category: "display_settings", Name: "use_military_time", Value: "true"}}
	if _, err := w.b.UpdatePreferencesForUser(ctx, &pluginpb.UpdatePreferencesForUserRequest{UserId: w.alice.GetId(), Preferences: prefs}); err != nil {
		t.Fatal(err)
	}
	// Someone else's preferences fail before any hook.
	if _, err := w.b.UpdatePreferencesForUser(ctx, &pluginpb.UpdatePreferencesForUserRequest{UserId: w.bob.GetId(), Preferences: prefs}); err == nil {
		t.Fatal("bob saved alice's preferences")
	}
	prefs[0].Value = "changed after the call"
	want := "[PreferencesHaveChanged:use_military_time=true]"
	if got := fmtList(h.seen()); got != want {
		t.Errorf("hooks = %s; want %s", got, want)
	}
}

func TestConfigurationHooks(t *testing.T) {
	h := &gateHooks{}
	b, _ := newTestBackend(t)
	b.hooks = h
	ctx := context.Background()
	site := func() string {
		resp, err := b.GetConfig(ctx, &pluginpb.GetConfigRequest{})
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := parseConfig(resp.GetConfig().GetJson())
		name, _ := section(cfg, "TeamSettings")["SiteName"].(string)
		return name
	}
	save := func(name string) error {
		_, err := b.SaveConfig(ctx, &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: `{"TeamSettings":{"SiteName":"` + name + `"}}`}})
		return err
	}

	if err := save("plain"); err != nil || site() != "plain" {
		t.Fatalf("save = %v, site name %q; want plain", err, site())
	}
	h.configJSON = `{"TeamSettings":{"SiteName":"from a plugin"}}`
	if err := save("mine"); err != nil || site() != "from a plugin" {
		t.Fatalf("save = %v, site name %q; want the plugin's", err, site())
	}
	h.configJSON = ""
	h.configErr = apperror.New("my.plugin.no", "no saving today", "", http.StatusForbidden)
	var appErr *apperror.Error
	if err := save("x"); !errors.As(err, &appErr) || appErr.ID != "my.plugin.no" || appErr.StatusCode != http.StatusForbidden {
		t.Errorf("save = %v; want the plugin's AppError as is", err)
	}
	h.configErr = errors.New("plain failure")
	if err := save("x"); !errors.As(err, &appErr) || appErr.ID != "app.save_config.plugin_hook_error" || appErr.StatusCode != http.StatusBadRequest {
		t.Errorf("save = %v; want app.save_config.plugin_hook_error", err)
	}
	h.configErr = nil
	h.configJSON = `["not an object"]`
	if err := save("x"); !errors.As(err, &appErr) || appErr.ID != "app.save_config.plugin_hook_error" {
		t.Errorf("save = %v; want app.save_config.plugin_hook_error", err)
	}
	if site() != "from a plugin" {
		t.Errorf("a failed save changed the site name to %q", site())
	}
	h.configJSON = ""
	if _, err := b.SavePluginConfig(ctx, &pluginpb.SavePluginConfigRequest{}); err != nil {
		t.Fatal(err)
	}
	settings, err := structpb.NewStruct(map[string]any{"level": "high"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.SavePluginConfig(ctx, &pluginpb.SavePluginConfigRequest{Config: settings}); err != nil {
		t.Fatal(err)
	}
	// SavePluginConfig saves the whole configuration through App.SaveConfig,
	// which runs ConfigurationWillBeSaved too
	// (server/channels/app/plugin_api.go@004cacd4:PluginAPI.SavePluginConfig);
	// Store.Set runs the listeners, OnConfigurationChange, only when the
	// configuration changed (server/config/store.go@1140b87e:Store.Set): the
	// first, empty, settings change nothing.
	want := "[ConfigurationWillBeSaved OnConfigurationChange ConfigurationWillBeSaved OnConfigurationChange " +
		"ConfigurationWillBeSaved ConfigurationWillBeSaved ConfigurationWillBeSaved ConfigurationWillBeSaved " +
		"ConfigurationWillBeSaved OnConfigurationChange]"
	if got := fmtList(h.seen()); got != want {
		t.Errorf("hooks = %s; want %s", got, want)
	}
}

func TestFileWillBeUploaded(t *testing.T) {
	const original = "original data"
	store := func(t *testing.T, b *Backend) (string, *pluginpb.FileInfo) {
		t.Helper()
		root := t.TempDir()
		info := &pluginpb.FileInfo{Id: newID(), Path: "day/f/report.txt", Name: "report.txt", CreatorId: "c", ChannelId: "ch", CreateAt: 7, Size: int64(len(original))}
		full := filepath.Join(root, filepath.FromSlash(info.GetPath()))
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(original), 0o600); err != nil {
			t.Fatal(err)
		}
		return root, info
	}
	data := func(t *testing.T, root string, info *pluginpb.FileInfo) (string, bool) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(info.GetPath())))
		return string(b), err == nil
	}
	tests := []struct {
		name        string
		reject      string
		replacement []byte
		fileName    string
		limit       int64
		wantErr     string // the AppError id, or empty
		wantData    string
		wantName    string
		wantRemoved bool
	}{
		{name: "unchanged", limit: 1 << 20, wantData: original, wantName: "report.txt"},
		{name: "replaced", replacement: []byte("new"), fileName: "renamed.txt", limit: 1 << 20, wantData: "new", wantName: "renamed.txt"},
		{name: "rejected", reject: "malware", limit: 1 << 20, wantErr: "File rejected by plugin. malware", wantRemoved: true},
		{name: "replacement too large", replacement: bytes.Repeat([]byte("x"), 100), limit: 50, wantErr: "api.file.upload_file.too_large_detailed.app_error", wantRemoved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &gateHooks{reject: tt.reject, replacement: tt.replacement, fileName: tt.fileName}
			b, _ := newTestBackend(t)
			b.hooks = h
			root, info := store(t, b)
			got, err := b.runUploadHook(context.Background(), root, info, tt.limit, uploadRejected)
			if string(h.readBack) != original {
				t.Errorf("the plugin read %q; want %q", h.readBack, original)
			}
			if tt.wantErr != "" {
				var appErr *apperror.Error
				if !errors.As(err, &appErr) || appErr.ID != tt.wantErr {
					t.Fatalf("err = %v; want %s", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if _, there := data(t, root, info); there == tt.wantRemoved {
				t.Errorf("file there = %v; want %v", there, !tt.wantRemoved)
			}
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(info.GetPath())) + ".tmp"); !os.IsNotExist(err) {
				t.Errorf("the temporary file is left: %v", err)
			}
			if err != nil {
				return
			}
			d, _ := data(t, root, info)
			if d != tt.wantData || got.GetSize() != int64(len(tt.wantData)) || got.GetName() != tt.wantName {
				t.Errorf("data %q, info %v; want %q of its size named %s", d, got, tt.wantData, tt.wantName)
			}
			if got.GetId() != info.GetId() || got.GetPath() != info.GetPath() || got.GetCreateAt() != 7 || got.GetChannelId() != "ch" {
				t.Errorf("info = %v; want the id, path, channel and creation time kept", got)
			}
		})
	}
}
