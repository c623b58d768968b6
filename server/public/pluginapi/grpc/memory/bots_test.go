package memory

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/store"
)

func TestBots(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	created, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "Helper", DisplayName: "Helper"}})
	if err != nil {
		t.Fatal(err)
	}
	bot := created.GetBot()
	if bot.GetOwnerId() != DefaultPluginID || bot.GetUsername() != "helper" {
		t.Errorf("bot = %v; want the plugin as owner and a lower-case name", bot)
	}
	u, err := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: bot.GetUserId()})
	if err != nil || !u.GetUser().GetIsBot() || u.GetUser().GetEmail() != "helper@localhost" {
		t.Errorf("bot user = %v, %v", u, err)
	}
	_, err = b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}})
	wantAppError(t, "CreateBot(taken name)", err, http.StatusBadRequest)

	if _, err := b.UpdateBotActive(ctx, &pluginpb.UpdateBotActiveRequest{BotUserId: bot.GetUserId()}); err != nil {
		t.Fatal(err)
	}
	_, err = b.GetBot(ctx, &pluginpb.GetBotRequest{BotUserId: bot.GetUserId()})
	wantAppError(t, "GetBot(deactivated)", err, http.StatusNotFound)

	// EnsureBotUser takes the existing bot by its name, as it is, and
	// records it (App.EnsureBot).
	id, err := b.EnsureBotUser(ctx, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{Username: "helper", DisplayName: "New"}})
	if err != nil || id.GetBotUserId() != bot.GetUserId() {
		t.Fatalf("EnsureBotUser = %v, %v; want the existing bot", id, err)
	}
	got, _ := b.GetBot(ctx, &pluginpb.GetBotRequest{BotUserId: bot.GetUserId(), IncludeDeleted: true})
	if got.GetBot().GetDisplayName() != "Helper" || got.GetBot().GetDeleteAt() == 0 {
		t.Errorf("ensured bot = %v; want it untouched and still deactivated", got.GetBot())
	}
	if v, _ := b.KVGet(ctx, &pluginpb.KVGetRequest{Key: pluginBotKVKey}); string(v.GetValue()) != bot.GetUserId() {
		t.Errorf("KV %s = %q; want the bot id", pluginBotKVKey, v.GetValue())
	}
	if _, err := b.UpdateBotActive(ctx, &pluginpb.UpdateBotActiveRequest{BotUserId: bot.GetUserId(), Active: true}); err != nil {
		t.Fatal(err)
	}

	patched, err := b.PatchBot(ctx, &pluginpb.PatchBotRequest{BotUserId: bot.GetUserId(), BotPatch: &pluginpb.BotPatch{Description: proto.String("d")}})
	if err != nil || patched.GetBot().GetDescription() != "d" || patched.GetBot().GetDisplayName() != "Helper" {
		t.Errorf("PatchBot = %v, %v", patched, err)
	}
	if _, err := b.PermanentDeleteBot(ctx, &pluginpb.PermanentDeleteBotRequest{BotUserId: bot.GetUserId()}); err != nil {
		t.Fatal(err)
	}
	_, err = b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: bot.GetUserId()})
	wantAppError(t, "GetUser(deleted bot)", err, http.StatusNotFound)
}

func TestOAuthApps(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	app := &pluginpb.OAuthApp{CreatorId: newID(), Name: "CI", Homepage: "https://ci.example.com", CallbackUrls: []string{"https://ci.example.com/cb"}}
	created, err := b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: app})
	if err != nil || created.GetApp().GetClientSecret() == "" {
		t.Fatalf("CreateOAuthApp = %v, %v", created, err)
	}
	bad := proto.Clone(app).(*pluginpb.OAuthApp)
	bad.CallbackUrls = []string{"ftp://nope"}
	_, err = b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: bad})
	wantAppError(t, "CreateOAuthApp(ftp callback)", err, http.StatusBadRequest)
	in := proto.Clone(created.GetApp()).(*pluginpb.OAuthApp)
	in.ClientSecret, in.Name = "forged", "CI 2"
	updated, err := b.UpdateOAuthApp(ctx, &pluginpb.UpdateOAuthAppRequest{App: in})
	if err != nil || updated.GetApp().GetClientSecret() != created.GetApp().GetClientSecret() || updated.GetApp().GetName() != "CI 2" {
		t.Errorf("UpdateOAuthApp = %v, %v; want the secret kept", updated, err)
	}
	if _, err := b.DeleteOAuthApp(ctx, &pluginpb.DeleteOAuthAppRequest{AppId: in.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = b.GetOAuthApp(ctx, &pluginpb.GetOAuthAppRequest{AppId: in.GetId()})
	wantAppError(t, "GetOAuthApp(deleted)", err, http.StatusNotFound)
}

// TestCreateBotOwnedByABot checks that a bot cannot own a bot, as
// upstream's plugin API refuses it before the app layer's checks
// (server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace
// CreateBot): plugin_api.bot_cant_create_bot, 400, and no user is made.
func TestCreateBotOwnedByABot(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	first, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "first"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "second", OwnerId: first.GetBot().GetUserId()}})
	wantAppErrorID(t, "CreateBot(owned by a bot)", err, "plugin_api.bot_cant_create_bot", http.StatusBadRequest)
	if _, err := b.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{Username: "second"}); err == nil {
		t.Error("the refused bot's user was stored")
	}
	// A person may own a bot.
	person := create(t, b, newUser("person"))
	if _, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "third", OwnerId: person.GetId()}}); err != nil {
		t.Errorf("CreateBot(owned by a person) = %v", err)
	}
}

// TestBotsFollowTheAppLayer checks the bot calls against upstream's app
// layer and bot store: App.EnsureBot, App.GetBot, App.PatchBot,
// App.UpdateBotActive and App.PermanentDeleteBot
// (server/channels/app/bot.go@0bc448c3e6001029ef4478fbad0b7b207993d7b7)
// and SqlBotStore.GetAll
// (server/channels/store/sqlstore/bot_store.go@401714c1438a2c522ff46ab0ee5a418a788b55aa).
func TestBotsFollowTheAppLayer(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, b *Backend, clock *fakeClock)
	}{
		{"GetBot of a malformed id is the bot store's miss", func(t *testing.T, b *Backend, _ *fakeClock) {
			_, err := b.GetBot(ctx, &pluginpb.GetBotRequest{BotUserId: "nope"})
			wantAppErrorID(t, "GetBot(nope)", err, "store.sql_bot.get.missing.app_error", http.StatusNotFound)
		}},
		{"PatchBot of a malformed id is the bot store's miss", func(t *testing.T, b *Backend, _ *fakeClock) {
			_, err := b.PatchBot(ctx, &pluginpb.PatchBotRequest{BotUserId: "nope", BotPatch: &pluginpb.BotPatch{}})
			wantAppErrorID(t, "PatchBot(nope)", err, "store.sql_bot.get.missing.app_error", http.StatusNotFound)
		}},
		{"PatchBot that changes nothing keeps update_at", func(t *testing.T, b *Backend, _ *fakeClock) {
			bot := mustBot(t, b, "keeper")
			got, err := b.PatchBot(ctx, &pluginpb.PatchBotRequest{BotUserId: bot.GetUserId(), BotPatch: &pluginpb.BotPatch{Username: proto.String("keeper")}})
			if err != nil || got.GetBot().GetUpdateAt() != bot.GetUpdateAt() {
				t.Errorf("PatchBot(no change) = %v, %v; want update_at %d", got.GetBot(), err, bot.GetUpdateAt())
			}
		}},
		{"UpdateBotActive of an unknown id is the user's miss", func(t *testing.T, b *Backend, _ *fakeClock) {
			_, err := b.UpdateBotActive(ctx, &pluginpb.UpdateBotActiveRequest{BotUserId: newID()})
			wantAppErrorID(t, "UpdateBotActive(unknown)", err, "app.user.missing_account.const", http.StatusNotFound)
		}},
		{"UpdateBotActive of a person is the bot store's miss", func(t *testing.T, b *Backend, _ *fakeClock) {
			person := create(t, b, newUser("person"))
			_, err := b.UpdateBotActive(ctx, &pluginpb.UpdateBotActiveRequest{BotUserId: person.GetId()})
			wantAppErrorID(t, "UpdateBotActive(person)", err, "store.sql_bot.get.missing.app_error", http.StatusNotFound)
		}},
		{"PermanentDeleteBot of an unknown id is no error", func(t *testing.T, b *Backend, _ *fakeClock) {
			if _, err := b.PermanentDeleteBot(ctx, &pluginpb.PermanentDeleteBotRequest{BotUserId: "nope"}); err != nil {
				t.Errorf("PermanentDeleteBot(nope) = %v; want no error", err)
			}
		}},
		{"GetBots lists the oldest first", func(t *testing.T, b *Backend, clock *fakeClock) {
			mustBot(t, b, "zed")
			clock.Advance(time.Second)
			mustBot(t, b, "abe")
			got, err := b.GetBots(ctx, &pluginpb.GetBotsRequest{Options: &pluginpb.BotGetOptions{PerPage: 10}})
			if err != nil || len(got.GetBots()) != 2 || got.GetBots()[0].GetUsername() != "zed" {
				t.Errorf("GetBots = %v, %v; want zed, then abe", got.GetBots(), err)
			}
		}},
		{"EnsureBotUser refuses a bot without a username", func(t *testing.T, b *Backend, _ *fakeClock) {
			_, err := b.EnsureBotUser(ctx, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{DisplayName: "x"}})
			wantAppError(t, "EnsureBotUser(no username)", err, http.StatusBadRequest)
		}},
		{"EnsureBotUser returns a person's id and records nothing", func(t *testing.T, b *Backend, _ *fakeClock) {
			person := create(t, b, newUser("person"))
			got, err := b.EnsureBotUser(ctx, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{Username: "person"}})
			if err != nil || got.GetBotUserId() != person.GetId() {
				t.Errorf("EnsureBotUser(person) = %v, %v; want the person's id", got, err)
			}
			if v, _ := b.KVGet(ctx, &pluginpb.KVGetRequest{Key: pluginBotKVKey}); len(v.GetValue()) != 0 {
				t.Errorf("KV %s = %q; want nothing recorded", pluginBotKVKey, v.GetValue())
			}
		}},
		{"EnsureBotUser patches the recorded bot, name included, and does not reactivate it", func(t *testing.T, b *Backend, _ *fakeClock) {
			first, err := b.EnsureBotUser(ctx, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{Username: "old-name", DisplayName: "Old"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.UpdateBotActive(ctx, &pluginpb.UpdateBotActiveRequest{BotUserId: first.GetBotUserId()}); err != nil {
				t.Fatal(err)
			}
			again, err := b.EnsureBotUser(ctx, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{Username: "new-name"}})
			if err != nil || again.GetBotUserId() != first.GetBotUserId() {
				t.Fatalf("EnsureBotUser(again) = %v, %v; want the recorded bot", again, err)
			}
			got, _ := b.GetBot(ctx, &pluginpb.GetBotRequest{BotUserId: first.GetBotUserId(), IncludeDeleted: true})
			if g := got.GetBot(); g.GetUsername() != "new-name" || g.GetDisplayName() != "" || g.GetDeleteAt() == 0 {
				t.Errorf("ensured bot = %v; want new-name, no display name, still deactivated", g)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, clock := newTestBackend(t)
			tt.run(t, b, clock)
		})
	}
}

// mustBot creates a bot owned by the plugin.
func mustBot(t *testing.T, b *Backend, username string) *pluginpb.Bot {
	t.Helper()
	r, err := b.CreateBot(context.Background(), &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: username}})
	if err != nil {
		t.Fatal(err)
	}
	return r.GetBot()
}

// TestPermanentDeleteBotLeavesNoOrphans: a bot that joined a team and its
// channels, then was deleted for good, is listed by no member query, as
// upstream's queries join Users (App.PermanentDeleteBot leaves the rows),
// and the backend's readers do not fail on it.
func TestPermanentDeleteBotLeavesNoOrphans(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	resp, err := w.b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}})
	if err != nil {
		t.Fatal(err)
	}
	bot := resp.GetBot().GetUserId()
	join(t, w.b, w.team.GetId(), bot)
	if _, err := w.b.PermanentDeleteBot(ctx, &pluginpb.PermanentDeleteBotRequest{BotUserId: bot}); err != nil {
		t.Fatal(err)
	}
	users, err := w.b.GetUsersInTeam(ctx, &pluginpb.GetUsersInTeamRequest{TeamId: w.team.GetId(), PerPage: 100})
	if err != nil || len(users.GetUsers()) != 2 {
		t.Errorf("GetUsersInTeam = %d users, %v; want alice and bob", len(users.GetUsers()), err)
	}
	inChannel, err := w.b.GetUsersInChannel(ctx, &pluginpb.GetUsersInChannelRequest{ChannelId: w.town.GetId(), SortBy: "username", PerPage: 100})
	if err != nil || len(inChannel.GetUsers()) != 2 {
		t.Errorf("GetUsersInChannel = %d users, %v; want alice and bob", len(inChannel.GetUsers()), err)
	}
	members, err := w.b.GetChannelMembers(ctx, &pluginpb.GetChannelMembersRequest{ChannelId: w.town.GetId(), PerPage: 100})
	if err != nil || len(members.GetChannelMembers()) != 2 {
		t.Errorf("GetChannelMembers = %d members, %v; want alice's and bob's", len(members.GetChannelMembers()), err)
	}
	if _, err := w.b.GetTeamMember(ctx, &pluginpb.GetTeamMemberRequest{TeamId: w.team.GetId(), UserId: bot}); err == nil {
		t.Error("the deleted bot is still a team member")
	}
}

// TestUpdateBotActiveFollowsUpdateActive pins
// server/channels/app/bot.go@0bc448c3:App.UpdateBotActive: App.UpdateActive
// runs on the user before the bot store answers, so a person is
// deactivated (and UserHasBeenDeactivated runs) before the bot's 404.
func TestUpdateBotActiveFollowsUpdateActive(t *testing.T) {
	b, _ := newTestBackend(t)
	h := &gateHooks{}
	b.hooks = h
	ctx := context.Background()
	person := create(t, b, newUser("person"))
	_, err := b.UpdateBotActive(ctx, &pluginpb.UpdateBotActiveRequest{BotUserId: person.GetId()})
	wantAppErrorID(t, "UpdateBotActive(person)", err, "store.sql_bot.get.missing.app_error", http.StatusNotFound)
	u, _ := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: person.GetId()})
	if u.GetUser().GetDeleteAt() == 0 {
		t.Error("the person was not deactivated")
	}
	bot, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := b.UpdateBotActive(ctx, &pluginpb.UpdateBotActiveRequest{BotUserId: bot.GetBot().GetUserId()}); err != nil {
			t.Fatal(err)
		}
	}
	want := "[UserHasBeenDeactivated:person UserHasBeenDeactivated:helper UserHasBeenDeactivated:helper]"
	if got := fmtList(h.seen()); got != want {
		t.Errorf("hooks = %s; want %s", got, want)
	}
}

// TestPatchBotChecksTheUserFirst pins
// server/channels/app/bot.go@0bc448c3:App.PatchBot: the user store's
// User.IsValid and unique keys answer before Bot.IsValid.
func TestPatchBotChecksTheUserFirst(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	bot, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}})
	if err != nil {
		t.Fatal(err)
	}
	create(t, b, newUser("taken"))
	long := strings.Repeat("x", 2000)
	tests := []struct {
		name  string
		patch *pluginpb.BotPatch
		id    string
	}{
		{"long name and description", &pluginpb.BotPatch{DisplayName: proto.String(strings.Repeat("n", 65)), Description: proto.String(long)},
			"model.user.is_valid.first_name.app_error"},
		{"taken name and long description", &pluginpb.BotPatch{Username: proto.String("taken"), Description: proto.String(long)},
			"app.user.save.username_exists.app_error"},
		{"long description", &pluginpb.BotPatch{Description: proto.String(long)}, "model.bot.is_valid.description.app_error"},
	}
	for _, tt := range tests {
		_, err := b.PatchBot(ctx, &pluginpb.PatchBotRequest{BotUserId: bot.GetBot().GetUserId(), BotPatch: tt.patch})
		wantAppErrorID(t, tt.name, err, tt.id, http.StatusBadRequest)
	}
	patched, err := b.PatchBot(ctx, &pluginpb.PatchBotRequest{BotUserId: bot.GetBot().GetUserId(), BotPatch: &pluginpb.BotPatch{Username: proto.String("aide")}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: patched.GetBot().GetUserId()})
	if u.GetUser().GetEmail() != "aide@localhost" {
		t.Errorf("email = %q; want aide@localhost, as model.UserFromBot", u.GetUser().GetEmail())
	}
}

// downKV is a KV store whose database is down for reads, or for writes.
type downKV struct {
	store.KV
	reads, writes bool
}

func (d downKV) Get(ctx context.Context, pluginID, key string) ([]byte, error) {
	if d.reads {
		return nil, store.Unavailable("Get", errors.New("connection refused"))
	}
	return d.KV.Get(ctx, pluginID, key)
}

func (d downKV) Set(ctx context.Context, pluginID, key string, value []byte, opts store.SetOptions) (bool, error) {
	if d.writes {
		return false, store.Unavailable("Set", errors.New("connection refused"))
	}
	return d.KV.Set(ctx, pluginID, key, value, opts)
}

// TestEnsureBotUserWithTheKVStoreDown: EnsureBotUser reads and records
// the bot id in the plugin's KV store, which may be a database. A read it
// cannot make fails with the store's 503 and creates nothing; a bot it
// created and cannot record fails too; a bot it claimed and cannot record
// is still answered, as upstream's App.EnsureBot only warns then.
func TestEnsureBotUserWithTheKVStoreDown(t *testing.T) {
	ctx := context.Background()
	ensure := func(b *Backend, username string) (string, error) {
		resp, err := b.EnsureBotUser(ctx, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{Username: username}})
		return resp.GetBotUserId(), err
	}
	t.Run("read down", func(t *testing.T) {
		b := New(WithKV(downKV{KV: store.NewMemoryKV(time.Now), reads: true}))
		_, err := ensure(b, "helper")
		wantAppError(t, "EnsureBotUser", err, http.StatusServiceUnavailable)
		if _, err := b.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{Username: "helper"}); err == nil {
			t.Fatal("EnsureBotUser created a bot although it could not read the KV store")
		}
	})
	t.Run("created bot not recorded", func(t *testing.T) {
		b := New(WithKV(downKV{KV: store.NewMemoryKV(time.Now), writes: true}))
		_, err := ensure(b, "helper")
		wantAppError(t, "EnsureBotUser", err, http.StatusServiceUnavailable)
	})
	t.Run("claimed bot not recorded", func(t *testing.T) {
		kv := store.NewMemoryKV(time.Now)
		b := New(WithKV(kv))
		created, err := b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}})
		if err != nil {
			t.Fatal(err)
		}
		b.kv = downKV{KV: kv, writes: true}
		id, err := ensure(b, "helper")
		if err != nil || id != created.GetBot().GetUserId() {
			t.Fatalf("EnsureBotUser = %q, %v; want the existing bot %q", id, err, created.GetBot().GetUserId())
		}
	})
}
