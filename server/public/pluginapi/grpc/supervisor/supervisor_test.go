package supervisor_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/internal/testenv"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/hooks"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/memory"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/server"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/supervisor"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/wire"
)

// testToken is the Plugin API token of the test plugins.
const testToken = "supervisor-test-token"

// api serves a memory backend on a unix socket.
type api struct {
	target  string
	backend *memory.Backend
	// logs is the server log, where the plugin's LogInfo and such go.
	logs *testenv.SyncBuffer
}

func startAPI(t *testing.T) *api {
	t.Helper()
	logs := &testenv.SyncBuffer{}
	backend := memory.New(memory.Logger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	srv, err := server.New(backend, testToken)
	if err != nil {
		t.Fatalf("server.New() = %v", err)
	}
	lis, err := server.ListenUnix("")
	if err != nil {
		t.Fatalf("ListenUnix() = %v", err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		lis.Close()
	})
	return &api{target: lis.Target, backend: backend, logs: logs}
}

// kv reads a key of the backend's KV store.
func (a *api) kv(t *testing.T, key string) string {
	t.Helper()
	resp, err := a.backend.KVGet(context.Background(), &pluginpb.KVGetRequest{Key: key})
	if err != nil {
		t.Fatalf("KVGet(%q) = %v", key, err)
	}
	return string(resp.GetValue())
}

// bundle writes a plugin directory with the test plugin and a manifest.
func bundle(t *testing.T, manifest map[string]any) *supervisor.Bundle {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "hooks_plugin.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hooks_plugin.py"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(manifest)
	if err := os.WriteFile(filepath.Join(dir, supervisor.ManifestFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := supervisor.Load(dir)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	return b
}

func pythonManifest(class string) map[string]any {
	return map[string]any{
		"id":     "com.example.hooks-test",
		"server": map[string]any{"python": map[string]any{"entry": "hooks_plugin.py:" + class}},
	}
}

type started struct {
	sup  *supervisor.Supervisor
	api  *api
	logs *testenv.SyncBuffer
}

func startPlugin(t *testing.T, class string, mutate func(*supervisor.Config)) *started {
	t.Helper()
	a := startAPI(t)
	logs := &testenv.SyncBuffer{}
	cfg := supervisor.Config{
		APITarget:   a.target,
		APIToken:    testToken,
		Python:      testenv.Python(t),
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		StopGrace:   time.Second,
		MinBackoff:  50 * time.Millisecond,
		HookOptions: []hooks.Option{hooks.WithTimeout(10 * time.Second), hooks.WithHookTimeout("MessageWillBePosted", time.Second)},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sup, err := supervisor.Start(ctx, bundle(t, pythonManifest(class)), cfg)
	if err != nil {
		t.Fatalf("Start(%s) = %v\nlog:\n%s", class, err, logs)
	}
	t.Cleanup(func() { _ = sup.Stop(context.Background()) })
	return &started{sup: sup, api: a, logs: logs}
}

var allHooks = []string{
	"ChannelHasBeenCreated",
	"ChannelMemberWillBeAdded",
	"ChannelWillBeArchived",
	"ChannelWillBeRestored",
	"ChannelWillBeUpdated",
	"ConfigurationWillBeSaved",
	"DraftWillBeUpserted",
	"EmailNotificationWillBeSent",
	"ExecuteCommand",
	"FileWillBeDownloaded",
	"FileWillBeUploaded",
	"GenerateSupportData",
	"MessageHasBeenDeleted",
	"MessageHasBeenPosted",
	"MessageHasBeenUpdated",
	"MessageWillBePosted",
	"MessageWillBeUpdated",
	"MessagesWillBeConsumed",
	"MessagesWillBeConsumedWithContext",
	"NotificationWillBePushed",
	"NotificationsWillBeSent",
	"OnActivate",
	"OnCloudLimitsUpdated",
	"OnConfigurationChange",
	"OnDeactivate",
	"OnInstall",
	"OnPluginClusterEvent",
	"OnSAMLLogin",
	"OnSendDailyTelemetry",
	"OnSharedChannelsAttachmentSyncMsg",
	"OnSharedChannelsPing",
	"OnSharedChannelsProfileImageSyncMsg",
	"OnSharedChannelsSyncMsg",
	"OnWebSocketConnect",
	"OnWebSocketDisconnect",
	"PreferencesHaveChanged",
	"ReactionHasBeenAdded",
	"ReactionHasBeenRemoved",
	"RunDataRetention",
	"ScheduledPostWillBeCreated",
	"ServeHTTP",
	"ServeMetrics",
	"TeamMemberWillBeAdded",
	"UserHasBeenCreated",
	"UserHasBeenDeactivated",
	"UserHasJoinedChannel",
	"UserHasJoinedTeam",
	"UserHasLeftChannel",
	"UserHasLeftTeam",
	"UserHasLoggedIn",
	"UserWillBeUpdated",
	"UserWillLogIn",
	"WebSocketMessageHasBeenPosted",
}

// TestEveryHook drives every hook of the contract through a real Python
// plugin process under the supervisor, for a plugin with plain handlers and
// one with async handlers.
func TestEveryHook(t *testing.T) {
	if len(allHooks) != len(hooks.Known) {
		t.Fatalf("the test covers %d hooks; the contract has %d", len(allHooks), len(hooks.Known))
	}
	for _, class := range []string{"SyncHooks", "AsyncHooks"} {
		t.Run(class, func(t *testing.T) {
			s := startPlugin(t, class, nil)
			ctx := context.Background()
			h := s.sup.Hooks()
			if toHandshake, toActivated, ok := s.sup.Timing(); ok {
				t.Logf("%s: spawn to handshake %v, handshake to OnActivate served %v", class, toHandshake.Round(time.Millisecond), toActivated.Round(time.Millisecond))
			}
			if got := s.sup.Client().Implemented(); strings.Join(got, ",") != strings.Join(allHooks, ",") {
				t.Fatalf("Implemented() = %v, want %v", got, allHooks)
			}
			// Activation ran OnConfigurationChange, then OnActivate, in the plugin.
			for _, name := range []string{"OnConfigurationChange", "OnActivate"} {
				if got := s.api.kv(t, "hook:"+name); got != class {
					t.Errorf("KV hook:%s = %q, want %q", name, got, class)
				}
			}
			hc := &pluginpb.Context{RequestId: "req1", SessionId: "sess1", UserAgent: "ua/1"}
			post := &pluginpb.Post{Id: "p1", Message: "well darn"}
			alice := &pluginpb.User{Id: "alice"}

			tests := []struct {
				hook string
				call func(t *testing.T) // makes the call and checks its answer
				want string             // what the plugin recorded
			}{
				{"MessageWillBePosted", func(t *testing.T) {
					got, reason := h.MessageWillBePosted(ctx, hc, post)
					if got.GetMessage() != "well d**n" || reason != "" {
						t.Errorf("MessageWillBePosted = %v, %q; want the rewritten post", got, reason)
					}
				}, class},
				{"MessageWillBeUpdated", func(t *testing.T) {
					got, reason := h.MessageWillBeUpdated(ctx, hc, &pluginpb.Post{Id: "p1", Message: "context"}, post)
					if got.GetMessage() != "req1|sess1|ua/1" || reason != "" {
						t.Errorf("MessageWillBeUpdated = %v, %q; want the context in the message", got, reason)
					}
				}, "well darn"},
				{"MessageHasBeenPosted", func(*testing.T) { h.MessageHasBeenPosted(ctx, hc, post) }, "well darn"},
				{"MessageHasBeenUpdated", func(*testing.T) {
					h.MessageHasBeenUpdated(ctx, hc, &pluginpb.Post{Message: "new"}, &pluginpb.Post{Message: "old"})
				}, "old->new"},
				{"MessageHasBeenDeleted", func(*testing.T) { h.MessageHasBeenDeleted(ctx, hc, post) }, "p1"},
				{"ReactionHasBeenAdded", func(*testing.T) {
					h.ReactionHasBeenAdded(ctx, hc, &pluginpb.Reaction{EmojiName: "smile"})
				}, "smile"},
				{"ReactionHasBeenRemoved", func(*testing.T) {
					h.ReactionHasBeenRemoved(ctx, hc, &pluginpb.Reaction{EmojiName: "frown"})
				}, "frown"},
				{"ChannelHasBeenCreated", func(*testing.T) {
					h.ChannelHasBeenCreated(ctx, hc, &pluginpb.Channel{Name: "town-square"})
				}, "town-square"},
				{"UserHasJoinedChannel", func(*testing.T) {
					h.UserHasJoinedChannel(ctx, hc, &pluginpb.ChannelMember{UserId: "bob"}, alice)
				}, "bob|alice"},
				{"UserHasLeftChannel", func(*testing.T) {
					h.UserHasLeftChannel(ctx, hc, &pluginpb.ChannelMember{UserId: "bob"}, nil)
				}, "bob|"},
				{"TeamMemberWillBeAdded", func(t *testing.T) {
					got, reason := h.TeamMemberWillBeAdded(ctx, hc, &pluginpb.TeamMember{UserId: "carol", TeamId: "t1"})
					if got.GetRoles() != "team_user plugin_role" || got.GetTeamId() != "t1" || reason != "" {
						t.Errorf("TeamMemberWillBeAdded = %v, %q; want the member with the plugin's roles", got, reason)
					}
					if _, reason := h.TeamMemberWillBeAdded(ctx, hc, &pluginpb.TeamMember{UserId: "rejectme"}); reason != "no such users here" {
						t.Errorf("TeamMemberWillBeAdded(rejectme) reason = %q", reason)
					}
				}, "rejectme"},
				{"UserHasJoinedTeam", func(*testing.T) {
					h.UserHasJoinedTeam(ctx, hc, &pluginpb.TeamMember{UserId: "dave"}, alice)
				}, "dave|alice"},
				{"UserHasLeftTeam", func(*testing.T) {
					h.UserHasLeftTeam(ctx, hc, &pluginpb.TeamMember{UserId: "dave"}, nil)
				}, "dave|"},
				{"ExecuteCommand", func(t *testing.T) {
					resp, err := h.ExecuteCommand(ctx, hc, &pluginpb.CommandArgs{Command: "/hello world"})
					if err != nil || resp.GetText() != "you said /hello world" {
						t.Errorf("ExecuteCommand = %v, %v", resp, err)
					}
					resp, err = h.ExecuteCommand(ctx, hc, &pluginpb.CommandArgs{Command: "/pass"})
					if err != nil || resp != nil {
						t.Errorf("ExecuteCommand(/pass) = %v, %v; want nil, nil: the command falls through", resp, err)
					}
					_, err = h.ExecuteCommand(ctx, hc, &pluginpb.CommandArgs{Command: "/fail"})
					var appErr *apperror.Error
					if !errors.As(err, &appErr) || appErr.ID != "test.command.bad" || appErr.StatusCode != 400 {
						t.Errorf("ExecuteCommand(/fail) error = %v; want the plugin's AppError", err)
					}
				}, "/fail"},
				{"UserHasBeenCreated", func(*testing.T) { h.UserHasBeenCreated(ctx, hc, alice) }, class},
				{"UserWillLogIn", func(t *testing.T) {
					if got := h.UserWillLogIn(ctx, hc, alice); got != "" {
						t.Errorf("UserWillLogIn(alice) = %q, want allowed", got)
					}
					if got := h.UserWillLogIn(ctx, hc, &pluginpb.User{Username: "blocked"}); got != "blocked users may not log in" {
						t.Errorf("UserWillLogIn(blocked) = %q", got)
					}
				}, class},
				{"UserHasLoggedIn", func(*testing.T) { h.UserHasLoggedIn(ctx, hc, alice) }, class},
				{"UserHasBeenDeactivated", func(*testing.T) { h.UserHasBeenDeactivated(ctx, hc, alice) }, class},
				{"UserWillBeUpdated", func(t *testing.T) {
					got, reason := h.UserWillBeUpdated(ctx, hc, &pluginpb.User{Id: "alice", Nickname: "new"}, &pluginpb.User{Nickname: "old"})
					if got.GetNickname() != "was old" || got.GetId() != "alice" || reason != "" {
						t.Errorf("UserWillBeUpdated = %v, %q", got, reason)
					}
				}, class},
				{"MessagesWillBeConsumed", func(t *testing.T) {
					got := h.MessagesWillBeConsumed(ctx, []*pluginpb.Post{{Message: "a"}, {Message: "b"}})
					if len(got) != 2 || got[0].GetMessage() != "A" || got[1].GetMessage() != "B" {
						t.Errorf("MessagesWillBeConsumed = %v", got)
					}
				}, class},
				{"MessagesWillBeConsumedWithContext", func(t *testing.T) {
					got := h.MessagesWillBeConsumedWithContext(ctx, hc, []*pluginpb.Post{{Message: "a"}})
					if len(got) != 1 || got[0].GetMessage() != "req1:a" {
						t.Errorf("MessagesWillBeConsumedWithContext = %v", got)
					}
				}, class},
				{"ChannelWillBeArchived", func(t *testing.T) {
					if got := h.ChannelWillBeArchived(ctx, hc, &pluginpb.Channel{Name: "keep"}); got != "keep it" {
						t.Errorf("ChannelWillBeArchived(keep) = %q", got)
					}
					if got := h.ChannelWillBeArchived(ctx, hc, &pluginpb.Channel{Name: "old"}); got != "" {
						t.Errorf("ChannelWillBeArchived(old) = %q", got)
					}
				}, class},
				{"ChannelMemberWillBeAdded", func(t *testing.T) {
					got, reason := h.ChannelMemberWillBeAdded(ctx, hc, &pluginpb.ChannelMember{UserId: "bob"})
					if got.GetRoles() != "channel_user plugin" || got.GetUserId() != "bob" || reason != "" {
						t.Errorf("ChannelMemberWillBeAdded = %v, %q", got, reason)
					}
				}, class},
				{"ChannelWillBeUpdated", func(t *testing.T) {
					got, _ := h.ChannelWillBeUpdated(ctx, hc, &pluginpb.Channel{Name: "c"}, &pluginpb.Channel{Purpose: "p0"})
					if got.GetPurpose() != "was p0" || got.GetName() != "c" {
						t.Errorf("ChannelWillBeUpdated = %v", got)
					}
				}, class},
				{"ChannelWillBeRestored", func(t *testing.T) {
					if got := h.ChannelWillBeRestored(ctx, hc, &pluginpb.Channel{Name: "c"}); got != "" {
						t.Errorf("ChannelWillBeRestored = %q", got)
					}
				}, class},
				{"FileWillBeDownloaded", func(t *testing.T) {
					if got := h.FileWillBeDownloaded(ctx, hc, &pluginpb.FileInfo{Id: "f"}, "bob", "public"); got != "no public downloads for bob" {
						t.Errorf("FileWillBeDownloaded(public) = %q", got)
					}
					if got := h.FileWillBeDownloaded(ctx, hc, &pluginpb.FileInfo{Id: "f"}, "bob", "file"); got != "" {
						t.Errorf("FileWillBeDownloaded(file) = %q", got)
					}
				}, class},
				{"OnPluginClusterEvent", func(*testing.T) {
					h.OnPluginClusterEvent(ctx, hc, &pluginpb.PluginClusterEvent{Id: "ev", Data: []byte("x")})
				}, class},
				{"OnWebSocketConnect", func(*testing.T) { h.OnWebSocketConnect(ctx, "conn1", "bob") }, class},
				{"OnWebSocketDisconnect", func(*testing.T) { h.OnWebSocketDisconnect(ctx, "conn1", "bob") }, class},
				{"RunDataRetention", func(t *testing.T) {
					if n, err := h.RunDataRetention(ctx, 1, 100); n != 50 || err != nil {
						t.Errorf("RunDataRetention = %d, %v", n, err)
					}
				}, class},
				{"OnInstall", func(t *testing.T) {
					if err := h.OnInstall(ctx, hc, &pluginpb.OnInstallEvent{UserId: "admin"}); err != nil {
						t.Errorf("OnInstall = %v", err)
					}
				}, class},
				{"OnSendDailyTelemetry", func(*testing.T) { h.OnSendDailyTelemetry(ctx) }, class},
				{"OnCloudLimitsUpdated", func(*testing.T) { h.OnCloudLimitsUpdated(ctx, &pluginpb.ProductLimits{}) }, class},
				{"ConfigurationWillBeSaved", func(t *testing.T) {
					cfg := &pluginpb.Config{}
					if got, err := h.ConfigurationWillBeSaved(ctx, cfg); err != nil || !proto.Equal(got, cfg) {
						t.Errorf("ConfigurationWillBeSaved = %v, %v", got, err)
					}
				}, class},
				{"PreferencesHaveChanged", func(*testing.T) {
					h.PreferencesHaveChanged(ctx, hc, []*pluginpb.Preference{{UserId: "bob", Category: "c", Name: "n", Value: "v"}})
				}, class},
				{"NotificationWillBePushed", func(t *testing.T) {
					got, reason := h.NotificationWillBePushed(ctx, &pluginpb.PushNotification{Message: "secret"}, "bob")
					if got.GetMessage() != "redacted" || reason != "" {
						t.Errorf("NotificationWillBePushed = %v, %q", got, reason)
					}
				}, class},
				{"NotificationsWillBeSent", func(t *testing.T) {
					if got := h.NotificationsWillBeSent(ctx, &pluginpb.Post{Message: "quiet"}); got != "no notifications" {
						t.Errorf("NotificationsWillBeSent(quiet) = %q", got)
					}
					if got := h.NotificationsWillBeSent(ctx, &pluginpb.Post{Message: "loud"}); got != "" {
						t.Errorf("NotificationsWillBeSent(loud) = %q", got)
					}
				}, class},
				{"OnSharedChannelsPing", func(t *testing.T) {
					if !h.OnSharedChannelsPing(ctx, &pluginpb.RemoteCluster{RemoteId: "r"}) {
						t.Error("OnSharedChannelsPing = false")
					}
				}, class},
				{"OnSharedChannelsAttachmentSyncMsg", func(t *testing.T) {
					if err := h.OnSharedChannelsAttachmentSyncMsg(ctx, &pluginpb.FileInfo{Id: "f"}, post, &pluginpb.RemoteCluster{}); err != nil {
						t.Errorf("OnSharedChannelsAttachmentSyncMsg = %v", err)
					}
				}, class},
				{"OnSharedChannelsProfileImageSyncMsg", func(t *testing.T) {
					err := h.OnSharedChannelsProfileImageSyncMsg(ctx, &pluginpb.User{Username: "broken"}, &pluginpb.RemoteCluster{})
					var callErr *hooks.CallError
					if !errors.As(err, &callErr) || !strings.Contains(err.Error(), "cannot sync this image") {
						t.Errorf("OnSharedChannelsProfileImageSyncMsg(broken) = %v, want the plugin's error", err)
					}
				}, class},
				{"DraftWillBeUpserted", func(t *testing.T) {
					got, reason := h.DraftWillBeUpserted(ctx, hc, &pluginpb.Draft{Message: "  hi  "})
					if got.GetMessage() != "hi" || reason != "" {
						t.Errorf("DraftWillBeUpserted = %v, %q", got, reason)
					}
					if _, reason := h.DraftWillBeUpserted(ctx, hc, &pluginpb.Draft{Message: "secret"}); reason != "no drafts here" {
						t.Errorf("DraftWillBeUpserted(secret) reason = %q", reason)
					}
				}, class},
				{"ScheduledPostWillBeCreated", func(t *testing.T) {
					got, _ := h.ScheduledPostWillBeCreated(ctx, hc, &pluginpb.ScheduledPost{Id: "s", Draft: &pluginpb.Draft{Message: "later"}})
					if got.GetErrorCode() != "checked" || got.GetDraft().GetMessage() != "later" {
						t.Errorf("ScheduledPostWillBeCreated = %v", got)
					}
				}, class},
				{"EmailNotificationWillBeSent", func(t *testing.T) {
					content, reason := h.EmailNotificationWillBeSent(ctx, &pluginpb.EmailNotification{TeamName: "t", Content: &pluginpb.EmailNotificationContent{Subject: "New post"}})
					if content.GetSubject() != "[t] New post" || reason != "" {
						t.Errorf("EmailNotificationWillBeSent = %v, %q", content, reason)
					}
				}, class},
				{"GenerateSupportData", func(t *testing.T) {
					files, err := h.GenerateSupportData(ctx, hc)
					if err != nil || len(files) != 1 || files[0].GetFilename() != "plugin/diag.txt" || string(files[0].GetBody()) != "all good" {
						t.Errorf("GenerateSupportData = %v, %v", files, err)
					}
				}, class},
				{"WebSocketMessageHasBeenPosted", func(*testing.T) {
					h.WebSocketMessageHasBeenPosted(ctx, "conn1", "bob", &pluginpb.WebSocketRequest{Seq: 1, Action: "custom_x"})
				}, class},
				{"OnSharedChannelsSyncMsg", func(t *testing.T) {
					resp, err := h.OnSharedChannelsSyncMsg(ctx, &pluginpb.SyncMsg{
						Users: map[string]*pluginpb.User{"u2": {}, "u1": {}},
						Posts: []*pluginpb.Post{{UpdateAt: 5}, {UpdateAt: 9}},
					}, &pluginpb.RemoteCluster{RemoteId: "r"})
					if err != nil || resp.GetPostsLastUpdateAt() != 9 || strings.Join(resp.GetUsersSyncd(), ",") != "u1,u2" {
						t.Errorf("OnSharedChannelsSyncMsg = %v, %v", resp, err)
					}
				}, class},
				{"OnSAMLLogin", func(t *testing.T) {
					ok := &pluginpb.SAMLAssertionInfo{NameId: "alice", Values: map[string]*pluginpb.SAMLAttribute{
						"email": {Name: "email", Values: []*pluginpb.SAMLAttributeValue{{Value: "alice@example.com"}}},
					}}
					if err := h.OnSAMLLogin(ctx, hc, alice, ok); err != nil {
						t.Errorf("OnSAMLLogin = %v", err)
					}
					bad := &pluginpb.SAMLAssertionInfo{NameId: "mallory", WarningInfo: &pluginpb.SAMLWarningInfo{NotInAudience: true}}
					if err := h.OnSAMLLogin(ctx, hc, alice, bad); err == nil || !strings.Contains(err.Error(), "not for this audience") {
						t.Errorf("OnSAMLLogin(not in audience) = %v, want the plugin's error", err)
					}
				}, class},
				{"FileWillBeUploaded", func(t *testing.T) {
					content := bytes.Repeat([]byte("abcdefgh"), 5<<17) // 5 MiB, several chunks each way
					var out bytes.Buffer
					info, reason := h.FileWillBeUploaded(ctx, hc, &pluginpb.FileInfo{Id: "f", Name: "notes.txt"}, bytes.NewReader(content), &out)
					if reason != "" || info.GetName() != "notes.txt.checked" || info.GetSize() != int64(len(content)) || !bytes.Equal(out.Bytes(), bytes.ToUpper(content)) {
						t.Errorf("FileWillBeUploaded(notes.txt) = %v, %q, %d bytes out", info, reason, out.Len())
					}
					out.Reset()
					if _, reason := h.FileWillBeUploaded(ctx, hc, &pluginpb.FileInfo{Name: "virus.exe"}, bytes.NewReader([]byte("MZ")), &out); reason != "no executables" {
						t.Errorf("FileWillBeUploaded(virus.exe) reason = %q", reason)
					}
					sent := &pluginpb.FileInfo{Id: "g", Name: "photo.png"}
					info, reason = h.FileWillBeUploaded(ctx, hc, sent, bytes.NewReader([]byte("png")), &out)
					if !proto.Equal(info, sent) || reason != "" || out.Len() != 0 {
						t.Errorf("FileWillBeUploaded(photo.png) = %v, %q, %d bytes out; want it kept", info, reason, out.Len())
					}
				}, "photo.png"},
				{"ServeMetrics", func(t *testing.T) {
					w := httptest.NewRecorder()
					h.ServeMetrics(hc, w, httptest.NewRequest("GET", "/metrics", nil))
					if w.Code != 200 || w.Body.String() != "plugin_posts_total 3\n" {
						t.Errorf("ServeMetrics = %d %q", w.Code, w.Body.String())
					}
				}, "/metrics"},
				{"ServeHTTP", func(t *testing.T) {
					w := httptest.NewRecorder()
					r := httptest.NewRequest("GET", "/hello?a=1", nil)
					r.Header.Set("X-Test", "t1")
					h.ServeHTTP(hc, w, r)
					if w.Code != 200 || w.Body.String() != "hello GET /hello a=1 t1" || w.Header().Get("X-Plugin") != "yes" {
						t.Errorf("ServeHTTP = %d %q %v", w.Code, w.Body.String(), w.Header())
					}
				}, "/hello"},
			}
			for _, tc := range tests {
				t.Run(tc.hook, func(t *testing.T) {
					tc.call(t)
					if got := s.api.kv(t, "hook:"+tc.hook); got != tc.want {
						t.Errorf("the plugin recorded %q for %s, want %q", got, tc.hook, tc.want)
					}
				})
			}
			if err := s.sup.Stop(ctx); err != nil {
				t.Errorf("Stop() = %v", err)
			}
			if got := s.api.kv(t, "hook:OnDeactivate"); got != class {
				t.Errorf("KV hook:OnDeactivate = %q, want %q", got, class)
			}
			// Output before the handshake reached the host's log with the
			// plugin's id; prints and log records afterwards went through the
			// API to the server log.
			logs := s.logs.String()
			for _, want := range []string{"printed at import, before the handshake", "plugin_id=com.example.hooks-test"} {
				if !strings.Contains(logs, want) {
					t.Errorf("host log lacks %q:\n%s", want, logs)
				}
			}
			serverLog := s.api.logs.String()
			for _, want := range []string{"printed by OnActivate", "activated through the logger"} {
				if !strings.Contains(serverLog, want) {
					t.Errorf("server log lacks %q:\n%s", want, serverLog)
				}
			}
		})
	}
}

// TestFailOpen shows the host's outcome when MessageWillBePosted fails in
// each way a plugin can fail: the post goes through unchanged, in time,
// and the plugin keeps serving.
func TestFailOpen(t *testing.T) {
	for _, class := range []string{"SyncHooks", "AsyncHooks"} {
		t.Run(class, func(t *testing.T) {
			s := startPlugin(t, class, nil)
			ctx := context.Background()
			tests := []struct {
				message, wantReason, wantLog string
			}{
				{"reject", "rejected by the test plugin", ""},
				{"dismiss", wire.DismissPostError, ""},
				{"raise", "", "RuntimeError: the handler raised"},
				{"garbage", "", "MessageWillBePosted answered 42"},
				{"hang", "", "DeadlineExceeded"},
			}
			for _, tc := range tests {
				t.Run(tc.message, func(t *testing.T) {
					post := &pluginpb.Post{Id: "p", Message: tc.message}
					start := time.Now()
					got, reason := s.sup.Hooks().MessageWillBePosted(ctx, nil, post)
					if elapsed := time.Since(start); elapsed > 5*time.Second {
						t.Errorf("the hook took %v; its deadline is 1 s", elapsed)
					}
					if reason != tc.wantReason {
						t.Errorf("reason = %q, want %q", reason, tc.wantReason)
					}
					if tc.wantReason == "" && !proto.Equal(got, post) {
						t.Errorf("post = %v, want the sent post unchanged", got)
					}
					if tc.wantLog != "" && !strings.Contains(s.logs.String(), tc.wantLog) {
						t.Errorf("host log lacks %q:\n%s", tc.wantLog, s.logs)
					}
				})
			}
			// Still serving.
			if got, _ := s.sup.Hooks().MessageWillBePosted(ctx, nil, &pluginpb.Post{Message: "darn"}); got.GetMessage() != "d**n" {
				t.Errorf("after the failures MessageWillBePosted = %v", got)
			}
		})
	}
}

// TestCrashAndRestart kills the plugin mid-hook: the post goes through
// unchanged, and the supervisor restarts the plugin, which activates again.
func TestCrashAndRestart(t *testing.T) {
	s := startPlugin(t, "SyncHooks", nil)
	ctx := context.Background()
	oldPid := s.sup.Pid()
	post := &pluginpb.Post{Id: "p", Message: "crash"}
	got, reason := s.sup.Hooks().MessageWillBePosted(ctx, nil, post)
	if reason != "" || !proto.Equal(got, post) {
		t.Errorf("MessageWillBePosted during a crash = %v, %q; want the post unchanged", got, reason)
	}
	deadline := time.Now().Add(20 * time.Second)
	for s.sup.Restarts() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s.sup.Restarts() != 1 {
		t.Fatalf("Restarts() = %d after the crash, want 1\nlog:\n%s", s.sup.Restarts(), s.logs)
	}
	if pid := s.sup.Pid(); pid == oldPid || pid == 0 {
		t.Errorf("Pid() = %d after the restart; was %d", pid, oldPid)
	}
	if got, _ := s.sup.Hooks().MessageWillBePosted(ctx, nil, &pluginpb.Post{Message: "darn"}); got.GetMessage() != "d**n" {
		t.Errorf("after the restart MessageWillBePosted = %v", got)
	}
	if err := s.sup.Ping(); err != nil {
		t.Errorf("Ping() after the restart = %v", err)
	}
	if !strings.Contains(s.logs.String(), "plugin process exited; restarting it") {
		t.Errorf("host log lacks the restart:\n%s", s.logs)
	}
}

// pluginDir writes a plugin directory: files (name to content; a name
// ending in ".sh" is made executable) and the manifest.
func pluginDir(t *testing.T, manifest map[string]any, files map[string]string) *supervisor.Bundle {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := json.Marshal(manifest)
	if err := os.WriteFile(filepath.Join(dir, supervisor.ManifestFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := supervisor.Load(dir)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	return b
}

// bareVenv makes a virtual environment without any package, whose Python
// cannot import mattermost_plugin.
func bareVenv(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bare-venv")
	out, err := exec.Command(testenv.Python(t), "-m", "venv", "--without-pip", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("python -m venv: %v\n%s", err, out)
	}
	return filepath.Join(dir, "bin", "python")
}

// TestStartFailures shows what the host gets when a plugin cannot start:
// an error, returned and logged at error level with the plugin's id, that
// names the cause, never go-plugin's guesses alone.
func TestStartFailures(t *testing.T) {
	py := testenv.Python(t)
	a := startAPI(t)
	hooksPlugin, err := os.ReadFile(filepath.Join("testdata", "hooks_plugin.py"))
	if err != nil {
		t.Fatal(err)
	}
	withEntry := func(entry string) map[string]any {
		return map[string]any{"id": "com.example.start-test", "server": map[string]any{"python": map[string]any{"entry": entry}}}
	}
	withInterpreter := func(interpreter string) map[string]any {
		m := withEntry("plugin.py")
		m["server"].(map[string]any)["python"].(map[string]any)["interpreter"] = interpreter
		return m
	}
	timestamp := time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	const cause = "plugin.py line 3: the plugin's module failed to import"
	tests := []struct {
		name     string
		manifest map[string]any
		files    map[string]string
		links    map[string]string // symbolic links to make, name to target
		python   string            // the default interpreter; py if empty
		env      []string
		token    string // testToken if empty
		wantErr  []string
		wantLog  []string
	}{
		{
			name:     "wrong API token: OnActivate's API call is refused, so activation fails",
			manifest: withEntry("plugin.py:SyncHooks"),
			files:    map[string]string{"plugin.py": string(hooksPlugin)},
			token:    "wrong-token",
			wantErr:  []string{"failed to activate"},
		},
		{
			name:     "a program that prints to stdout before the handshake",
			manifest: withInterpreter("chatty.sh"),
			files: map[string]string{
				"plugin.py": string(hooksPlugin),
				"chatty.sh": "#!/bin/sh\necho 'hello from before the handshake'\nexec " + py + " \"$@\"\n",
			},
			wantErr: []string{`wrote "hello from before the handshake" to stdout before the handshake`},
		},
		{
			name:     "a plugin that gives its startup error",
			manifest: withInterpreter("fake.sh"),
			files: map[string]string{"fake.sh": "#!/bin/sh\ncat >&2 <<'EOF'\n" +
				`{"@level":"error","@message":"` + cause + `","@timestamp":"` + timestamp + `","@module":"mattermost_plugin",` +
				`"startup_error":"` + cause + `","traceback":"Traceback (most recent call last):\n  File \"plugin.py\", line 3\nSyntaxError: invalid syntax\n"}` +
				"\nEOF\nexit 1\n"},
			wantErr: []string{"start plugin com.example.start-test: " + cause},
			wantLog: []string{`level=ERROR msg="` + cause + `"`, "SyntaxError: invalid syntax", `level=ERROR msg="plugin failed to start" plugin_id=com.example.start-test`},
		},
		{
			name:     "a plugin that dies with a raw traceback",
			manifest: withInterpreter("fake.sh"),
			files: map[string]string{"fake.sh": "#!/bin/sh\n" +
				"echo 'Traceback (most recent call last):' >&2\necho '  File \"plugin.py\", line 1, in <module>' >&2\necho 'ValueError: boom' >&2\nexit 3\n"},
			wantErr: []string{"the plugin exited before the handshake with status 3; its last output:\n", "\nValueError: boom"},
			wantLog: []string{`level=ERROR msg="Traceback (most recent call last):"`, `level=ERROR msg="ValueError: boom"`},
		},
		{
			name:     "a syntax error in plugin.py",
			manifest: withEntry("plugin.py:Broken"),
			files:    map[string]string{"plugin.py": "import mattermost_plugin as mp\n\ndef broken(:\n    pass\n"},
			wantErr:  []string{"start plugin com.example.start-test: plugin.py:3: SyntaxError: invalid syntax"},
			wantLog:  []string{`level=ERROR msg="plugin.py:3: SyntaxError: invalid syntax"`, "traceback=", `level=ERROR msg="plugin failed to start" plugin_id=com.example.start-test`},
		},
		{
			name:     "an import of a missing module",
			manifest: withEntry("plugin.py:Missing"),
			files:    map[string]string{"plugin.py": "import mattermost_plugin as mp\nimport no_such_module_for_the_test\n"},
			wantErr:  []string{"start plugin com.example.start-test: plugin.py:2: ModuleNotFoundError: No module named 'no_such_module_for_the_test'"},
		},
		{
			name:     "a wrong class name",
			manifest: withEntry("plugin.py:NoSuchClass"),
			files:    map[string]string{"plugin.py": string(hooksPlugin)},
			wantErr:  []string{"plugin.py has no class NoSuchClass; it defines: ", "SyncHooks"},
		},
		{
			name:     "a hook signature that the class check refuses",
			manifest: withEntry("plugin.py:BadHooks"),
			files: map[string]string{"plugin.py": "import mattermost_plugin as mp\n\n\nclass BadHooks(mp.Plugin):\n" +
				"    def message_will_be_posted(self, post):\n        return post\n"},
			wantErr: []string{"start plugin com.example.start-test: plugin.py:4: TypeError: BadHooks.message_will_be_posted(self, post) cannot handle MessageWillBePosted"},
		},
		{
			name:     "a Python without the SDK",
			manifest: withEntry("plugin.py"),
			files:    map[string]string{"plugin.py": string(hooksPlugin)},
			python:   bareVenv(t),
			env:      []string{"PYTHONPATH="},
			wantErr:  []string{"bare-venv/bin/python) cannot import mattermost_plugin: install the SDK into it (pip install mattermost-plugin-sdk)"},
			wantLog:  []string{"level=ERROR", "No module named"},
		},
		{
			name:     "a missing interpreter",
			manifest: withEntry("plugin.py"),
			files:    map[string]string{"plugin.py": string(hooksPlugin)},
			python:   "/nonexistent/bin/python3",
			wantErr:  []string{"the plugin's Python interpreter /nonexistent/bin/python3 does not exist"},
		},
		{
			name:     "a venv whose Python is gone",
			manifest: withInterpreter("venv/bin/python"),
			files:    map[string]string{"plugin.py": string(hooksPlugin)},
			links:    map[string]string{"venv/bin/python": "/nonexistent/python3.11"},
			wantErr:  []string{"/venv/bin/python is a symbolic link to a file that does not exist"},
		},
		{
			name:     "a script whose #! interpreter is gone",
			manifest: withInterpreter("run.sh"),
			files:    map[string]string{"run.sh": "#!/nonexistent/sh\n"},
			wantErr:  []string{"/run.sh cannot be run: the interpreter of its #! line, or its dynamic loader, does not exist"},
		},
		{
			name:     "an interpreter that is not on PATH",
			manifest: withEntry("plugin.py"),
			files:    map[string]string{"plugin.py": string(hooksPlugin)},
			python:   "no-such-python3.99",
			wantErr:  []string{"the plugin's Python interpreter no-such-python3.99 is not on PATH"},
		},
		{
			name:     "a missing executable",
			manifest: map[string]any{"id": "com.example.start-test", "server": map[string]any{"executable": "bin/plugin"}},
			wantErr:  []string{"the plugin's executable /", "/bin/plugin does not exist"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := pluginDir(t, tc.manifest, tc.files)
			for name, target := range tc.links {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(b.Dir, name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, filepath.Join(b.Dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			logs := &testenv.SyncBuffer{}
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sup, err := supervisor.Start(ctx, b, supervisor.Config{
				APITarget: a.target, APIToken: cmp.Or(tc.token, testToken), Python: cmp.Or(tc.python, py), Env: tc.env,
				StopGrace: time.Second, Logger: slog.New(slog.NewTextHandler(logs, nil)),
			})
			if err == nil {
				_ = sup.Stop(context.Background())
				t.Fatalf("Start() succeeded, want an error with %q", tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Start() = %v\nwant an error with %q\nlog:\n%s", err, want, logs)
				}
			}
			for _, goPluginText := range []string{"Unrecognized remote plugin message", "not compiled for this architecture", "exited before we could connect"} {
				if strings.Contains(err.Error(), goPluginText) {
					t.Errorf("Start() = %v; want the cause, not go-plugin's %q", err, goPluginText)
				}
			}
			for _, want := range tc.wantLog {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, logs)
				}
			}
			if elapsed := time.Since(start); elapsed > 15*time.Second {
				t.Errorf("Start() took %v to fail", elapsed)
			}
		})
	}
}

// TestNotStartedByAHost runs the plugin by hand, without the magic cookie:
// it explains itself on stderr and exits 1.
func TestNotStartedByAHost(t *testing.T) {
	b := bundle(t, pythonManifest("SyncHooks"))
	cmd := exec.Command(testenv.Python(t), "-m", supervisor.ServeModule, filepath.Join(b.Dir, "hooks_plugin.py:SyncHooks"))
	cmd.Env = append(os.Environ(), "MATTERMOST_PLUGIN=wrong cookie")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("run by hand: %v, want exit status 1", err)
	}
	if !strings.Contains(stderr.String(), "not meant to be run directly") {
		t.Errorf("stderr = %q", stderr.String())
	}
	if strings.Contains(stdout.String(), "|grpc|") {
		t.Errorf("printed a handshake without the cookie: %q", stdout.String())
	}
}

// TestAutoMTLS runs the plugin under the supervisor with go-plugin's
// AutoMTLS on: the plugin serves TLS with its own certificate and requires
// the host's.
func TestAutoMTLS(t *testing.T) {
	s := startPlugin(t, "AsyncHooks", func(c *supervisor.Config) { c.AutoMTLS = true })
	got, _ := s.sup.Hooks().MessageWillBePosted(context.Background(), nil, &pluginpb.Post{Message: "darn"})
	if got.GetMessage() != "d**n" {
		t.Errorf("MessageWillBePosted over mTLS = %v", got)
	}
	if err := s.sup.Ping(); err != nil {
		t.Errorf("Ping() over mTLS = %v", err)
	}
}

// rawPlugin dispenses the bare connection, for tests that use go-plugin's
// client directly.
type rawPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (rawPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }

func (rawPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return conn, nil
}

// TestGoPluginHost starts the Python plugin with hashicorp/go-plugin's own
// client, as any go-plugin host would, with AutoMTLS on and off: the
// handshake, the health check and a hook call all work.
func TestGoPluginHost(t *testing.T) {
	py := testenv.Python(t)
	a := startAPI(t)
	b := bundle(t, pythonManifest("SyncHooks"))
	for _, autoMTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "AutoMTLS"}[autoMTLS], func(t *testing.T) {
			cmd := exec.Command(py, "-m", supervisor.ServeModule, filepath.Join(b.Dir, "hooks_plugin.py:SyncHooks"))
			cmd.Env = append(os.Environ(), "MATTERMOST_PLUGIN_API_TARGET="+a.target, "MATTERMOST_PLUGIN_API_TOKEN="+testToken)
			client := plugin.NewClient(&plugin.ClientConfig{
				HandshakeConfig:  supervisor.Handshake,
				Plugins:          plugin.PluginSet{"hooks": rawPlugin{}},
				Cmd:              cmd,
				AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
				AutoMTLS:         autoMTLS,
				Logger:           hclog.NewNullLogger(),
			})
			defer client.Kill()
			rpc, err := client.Client()
			if err != nil {
				t.Fatalf("go-plugin Client() = %v", err)
			}
			if err := rpc.Ping(); err != nil {
				t.Fatalf("go-plugin Ping() = %v", err)
			}
			if got := client.NegotiatedVersion(); got != 1 {
				t.Errorf("NegotiatedVersion() = %d, want 1", got)
			}
			raw, err := rpc.Dispense("hooks")
			if err != nil {
				t.Fatalf("Dispense() = %v", err)
			}
			hooksClient := pluginpb.NewPluginHooksClient(raw.(*grpc.ClientConn))
			resp, err := hooksClient.MessageWillBePosted(context.Background(), &pluginpb.MessageWillBePostedRequest{Post: &pluginpb.Post{Message: "darn"}})
			if err != nil || resp.GetPost().GetMessage() != "d**n" {
				t.Errorf("MessageWillBePosted = %v, %v", resp, err)
			}
			client.Kill()
			if !client.Exited() {
				t.Errorf("the plugin is still running after Kill()")
			}
		})
	}
}

// TestServeHTTP serves HTTP through the plugin with a real HTTP server in
// front, as the dev server does: streamed bodies both ways, and the host's
// answers when the plugin fails.
func TestServeHTTP(t *testing.T) {
	for _, class := range []string{"SyncHooks", "AsyncHooks"} {
		t.Run(class, func(t *testing.T) {
			s := startPlugin(t, class, nil)
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.sup.Hooks().ServeHTTP(&pluginpb.Context{RequestId: "abcdefghijklmnopqrstuvwxyz", UserAgent: r.UserAgent()}, w, r)
			}))
			defer front.Close()

			t.Run("a 100 MiB upload streams back", func(t *testing.T) {
				const size = 100 << 20
				body := io.LimitReader(&pattern{}, size)
				resp, err := http.Post(front.URL+"/echo", "application/octet-stream", body)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				want := sha256.New()
				_, _ = io.Copy(want, io.LimitReader(&pattern{}, size))
				got := sha256.New()
				n, err := io.Copy(got, resp.Body)
				if err != nil || n != size || resp.StatusCode != 201 || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
					t.Errorf("echo: status %d, %d bytes, err %v, same bytes %v", resp.StatusCode, n, err, bytes.Equal(got.Sum(nil), want.Sum(nil)))
				}
			})
			t.Run("a 100 MiB download streams", func(t *testing.T) {
				resp, err := http.Get(front.URL + "/big?mib=100")
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				n, err := io.Copy(io.Discard, resp.Body)
				if err != nil || n != 100<<20 {
					t.Errorf("download: %d bytes, err %v", n, err)
				}
			})
			t.Run("the plugin's memory stays bounded", func(t *testing.T) {
				if peak := peakRSS(t, s.sup.Pid()); peak > 200<<20 {
					t.Errorf("the plugin process peaked at %d MiB after moving 200 MiB", peak>>20)
				} else {
					t.Logf("plugin peak RSS after 100 MiB up and 100 MiB down: %d MiB", peak>>20)
				}
			})
			tests := []struct {
				path       string
				wantStatus int
				wantBody   string
			}{
				{"/context", 200, "26|Go-http-client/1.1"},
				{"/raise", 500, "500 internal server error\n"},
				{"/garbage", 500, "500 internal server error\n"},
				{"/badstatus", 500, "500 internal server error\n"},
				{"/nowhere", 404, "no such page"},
			}
			for _, tc := range tests {
				t.Run(tc.path, func(t *testing.T) {
					resp, err := http.Get(front.URL + tc.path)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					body, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != tc.wantStatus || string(body) != tc.wantBody {
						t.Errorf("GET %s = %d %q, want %d %q\nlog:\n%s", tc.path, resp.StatusCode, body, tc.wantStatus, tc.wantBody, s.logs)
					}
				})
			}
		})
	}
}

// pattern is an endless reader of a repeating byte pattern.
type pattern struct{ i byte }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = p.i
		p.i = (p.i + 1) % 251
	}
	return len(b), nil
}

// peakRSS reads a process's peak resident set size (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// TestHealthCheckRestartsAHungPlugin freezes the plugin's process: it
// fails its health checks, and the supervisor kills it and starts a new
// one, which activates again.
func TestHealthCheckRestartsAHungPlugin(t *testing.T) {
	s := startPlugin(t, "SyncHooks", func(c *supervisor.Config) { c.HealthCheckInterval = 500 * time.Millisecond })
	oldPid := s.sup.Pid()
	if err := syscall.Kill(oldPid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.sup.Restarts() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if s.sup.Restarts() != 1 {
		t.Fatalf("Restarts() = %d after the plugin hung, want 1\nlog:\n%s", s.sup.Restarts(), s.logs)
	}
	if !strings.Contains(s.logs.String(), "plugin failed its health check; restarting it") {
		t.Errorf("host log lacks the failed health check:\n%s", s.logs)
	}
	if pid := s.sup.Pid(); pid == oldPid || pid == 0 {
		t.Errorf("Pid() = %d after the restart; was %d", pid, oldPid)
	}
	if got, _ := s.sup.Hooks().MessageWillBePosted(context.Background(), nil, &pluginpb.Post{Message: "darn"}); got.GetMessage() != "d**n" {
		t.Errorf("after the restart MessageWillBePosted = %v", got)
	}
	if err := syscall.Kill(oldPid, 0); err == nil {
		t.Errorf("the hung process %d is still alive", oldPid)
	}
}

// TestWrongCookie: a go-plugin host with another application's cookie
// cannot start the plugin; the plugin says why and exits.
func TestWrongCookie(t *testing.T) {
	py := testenv.Python(t)
	b := bundle(t, pythonManifest("SyncHooks"))
	var stderr testenv.SyncBuffer
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  plugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "MATTERMOST_PLUGIN", MagicCookieValue: "another application"},
		Plugins:          plugin.PluginSet{"hooks": rawPlugin{}},
		Cmd:              exec.Command(py, "-m", supervisor.ServeModule, filepath.Join(b.Dir, "hooks_plugin.py:SyncHooks")),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
		Stderr:           &stderr,
		StartTimeout:     20 * time.Second,
	})
	defer client.Kill()
	if _, err := client.Client(); err == nil {
		t.Fatal("go-plugin started the plugin with the wrong cookie")
	}
	// go-plugin copies the plugin's stderr in a goroutine of its own,
	// which may still be at it when Client returns.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(stderr.String(), "not meant to be run directly"); {
		if time.Now().After(deadline) {
			t.Fatalf("the plugin's stderr = %q", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStopAHungPlugin stops a frozen process: Shutdown and SIGTERM go
// unanswered, and SIGKILL ends it, so Stop returns.
func TestStopAHungPlugin(t *testing.T) {
	s := startPlugin(t, "AsyncHooks", func(c *supervisor.Config) {
		c.HealthCheckInterval = -1
		c.DeactivateTimeout = time.Second
	})
	pid := s.sup.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.sup.Stop(context.Background()) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("Stop() did not return for a hung plugin\nlog:\n%s", s.logs)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("the hung process %d is still alive", pid)
	}
	if !strings.Contains(s.logs.String(), "plugin did not exit after SIGTERM; killing it") {
		t.Errorf("host log lacks the kill:\n%s", s.logs)
	}
}

// TestRelativePython: a relative Config.Python is taken relative to the
// host's working directory, not to the plugin directory where the plugin
// runs.
func TestRelativePython(t *testing.T) {
	py := testenv.Python(t)
	work := t.TempDir()
	wrapper := filepath.Join(work, "env", "bin", "python")
	if err := os.MkdirAll(filepath.Dir(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec "+py+" \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := startAPI(t)
	b := bundle(t, pythonManifest("SyncHooks"))
	t.Chdir(work)
	logs := &testenv.SyncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sup, err := supervisor.Start(ctx, b, supervisor.Config{
		APITarget: a.target, APIToken: testToken, Python: filepath.Join("env", "bin", "python"), StopGrace: time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatalf("Start() = %v\nlog:\n%s", err, logs)
	}
	defer sup.Stop(context.Background())
	if got, _ := sup.Hooks().MessageWillBePosted(ctx, nil, &pluginpb.Post{Message: "darn"}); got.GetMessage() != "d**n" {
		t.Errorf("MessageWillBePosted = %v", got)
	}
}

// TestSocketDirsAreRemoved kills the plugin's process with SIGKILL five
// times, and the supervisor restarts it each time: each process has a
// socket directory of its own, given by the supervisor, which is removed
// when the process ends, so that nothing is left in TMPDIR.
func TestSocketDirsAreRemoved(t *testing.T) {
	a := startAPI(t)
	b := bundle(t, pythonManifest("SyncHooks"))
	tmp := shortTempDir(t)
	logs := &testenv.SyncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sup, err := supervisor.Start(ctx, b, supervisor.Config{
		APITarget: a.target, APIToken: testToken, Python: testenv.Python(t),
		Logger: slog.New(slog.NewTextHandler(logs, nil)), StopGrace: time.Second,
		MinBackoff: 50 * time.Millisecond, FailureLimit: -1, HealthCheckInterval: -1,
	})
	if err != nil {
		t.Fatalf("Start() = %v\nlog:\n%s", err, logs)
	}
	defer sup.Stop(context.Background())
	seen := map[string]bool{}
	for kill := 1; kill <= 5; kill++ {
		// One directory, the running process's, holds its socket.
		entries, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "mmplugin-sock-") || seen[entries[0].Name()] {
			t.Fatalf("before kill %d, TMPDIR holds %v; want a new socket directory of the supervisor's", kill, entries)
		}
		seen[entries[0].Name()] = true
		pid := sup.Pid()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for (sup.Restarts() < kill || sup.Client() == nil) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if sup.Restarts() != kill || sup.Pid() == pid {
			t.Fatalf("after kill %d: Restarts() = %d, Pid() = %d (was %d)\nlog:\n%s", kill, sup.Restarts(), sup.Pid(), pid, logs)
		}
	}
	if err := sup.Stop(context.Background()); err != nil {
		t.Errorf("Stop() = %v", err)
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in TMPDIR after 5 kills and a stop: %s", e.Name())
	}
}
