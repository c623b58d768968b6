package memory

import (
	"context"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
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

	// EnsureBotUser takes the existing bot, reactivates it and records it.
	id, err := b.EnsureBotUser(ctx, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{Username: "helper", DisplayName: "New"}})
	if err != nil || id.GetBotUserId() != bot.GetUserId() {
		t.Fatalf("EnsureBotUser = %v, %v; want the existing bot", id, err)
	}
	got, _ := b.GetBot(ctx, &pluginpb.GetBotRequest{BotUserId: bot.GetUserId()})
	if got.GetBot().GetDisplayName() != "New" || got.GetBot().GetDeleteAt() != 0 {
		t.Errorf("ensured bot = %v; want it updated and active", got.GetBot())
	}
	if v, _ := b.KVGet(ctx, &pluginpb.KVGetRequest{Key: pluginBotKVKey}); string(v.GetValue()) != bot.GetUserId() {
		t.Errorf("KV %s = %q; want the bot id", pluginBotKVKey, v.GetValue())
	}
	create(t, b, newUser("person"))
	_, err = b.EnsureBotUser(ctx, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{Username: "person"}})
	if err != nil {
		// The recorded bot wins over the username, as in Mattermost.
		t.Errorf("EnsureBotUser(person) = %v; want the recorded bot", err)
	}
	b.kv = make(map[string]kvStore)
	_, err = b.EnsureBotUser(ctx, &pluginpb.EnsureBotUserRequest{Bot: &pluginpb.Bot{Username: "person"}})
	wantAppError(t, "EnsureBotUser(a person's name)", err, http.StatusBadRequest)

	patched, err := b.PatchBot(ctx, &pluginpb.PatchBotRequest{BotUserId: bot.GetUserId(), BotPatch: &pluginpb.BotPatch{Description: proto.String("d")}})
	if err != nil || patched.GetBot().GetDescription() != "d" || patched.GetBot().GetDisplayName() != "" {
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
