package memory

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/auth"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// otherPlugin is a second plugin whose KV store the state file keeps
// apart from the served plugin's.
const otherPlugin = "com.example.other"

// stateWorld is a Backend with some of everything that the state file
// holds, and the ids to ask about it.
type stateWorld struct {
	b                 *Backend
	clock             *fakeClock
	team              *pluginpb.Team
	alice, bob, carol *pluginpb.User
	private           *pluginpb.Channel
	root, reply       *pluginpb.Post
	bot               *pluginpb.Bot
	session           *pluginpb.Session
	group             *pluginpb.Group
	propertyGroup     string
	field             *pluginpb.PropertyField
	command           *pluginpb.Command
	app               *pluginpb.OAuthApp
	dm                *pluginpb.Channel
}

// must fails the test when a call that builds the world fails.
func must[T any](t *testing.T, call string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s = %v", call, err)
		}
		return v
	}
}

func newStateWorld(t *testing.T) stateWorld {
	t.Helper()
	ctx := context.Background()
	other := auth.NewContext(ctx, otherPlugin)
	clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
	b := New(Clock(clock.Now))
	s := stateWorld{b: b, clock: clock, team: createTeam(t, b, newTeam("core"))}
	s.alice, s.bob, s.carol = create(t, b, newUser("alice")), create(t, b, newUser("bob")), create(t, b, newUser("carol"))
	join(t, b, s.team.GetId(), s.alice.GetId())
	join(t, b, s.team.GetId(), s.bob.GetId())
	join(t, b, s.team.GetId(), s.carol.GetId())
	must[*pluginpb.DeleteTeamMemberResponse](t, "DeleteTeamMember")(b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{
		TeamId: s.team.GetId(), UserId: s.carol.GetId(), RequestorId: s.alice.GetId()}))

	s.private = createChannel(t, b, &pluginpb.Channel{TeamId: s.team.GetId(), Name: "secret", DisplayName: "Secret", Type: channelPrivate})
	for _, u := range []*pluginpb.User{s.alice, s.bob} {
		must[*pluginpb.AddChannelMemberResponse](t, "AddChannelMember")(b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{
			ChannelId: s.private.GetId(), UserId: u.GetId()}))
	}
	must[*pluginpb.DeleteChannelMemberResponse](t, "DeleteChannelMember")(b.DeleteChannelMember(ctx, &pluginpb.DeleteChannelMemberRequest{
		ChannelId: s.private.GetId(), UserId: s.bob.GetId()}))
	must[*pluginpb.RegisterChannelGuardResponse](t, "RegisterChannelGuard")(b.RegisterChannelGuard(ctx, &pluginpb.RegisterChannelGuardRequest{
		ChannelId: s.private.GetId()}))
	s.dm = must[*pluginpb.GetDirectChannelResponse](t, "GetDirectChannel")(b.GetDirectChannel(ctx, &pluginpb.GetDirectChannelRequest{
		UserId_1: s.alice.GetId(), UserId_2: s.bob.GetId()})).GetChannel()

	post := func(author *pluginpb.User, message, rootID string) *pluginpb.Post {
		clock.Advance(time.Millisecond)
		return must[*pluginpb.CreatePostResponse](t, "CreatePost")(b.CreatePost(ctx, &pluginpb.CreatePostRequest{Post: &pluginpb.Post{
			ChannelId: s.private.GetId(), UserId: author.GetId(), Message: message, RootId: rootID}})).GetPost()
	}
	s.root = post(s.alice, "hello #launch", "")
	s.reply = post(s.alice, "again", s.root.GetId())
	must[*pluginpb.AddReactionResponse](t, "AddReaction")(b.AddReaction(ctx, &pluginpb.AddReactionRequest{Reaction: &pluginpb.Reaction{
		UserId: s.alice.GetId(), PostId: s.root.GetId(), EmojiName: "tada"}}))

	must[*pluginpb.KVSetResponse](t, "KVSet")(b.KVSet(ctx, &pluginpb.KVSetRequest{Key: "forever", Value: []byte("v1")}))
	must[*pluginpb.KVSetResponse](t, "KVSet(empty)")(b.KVSet(ctx, &pluginpb.KVSetRequest{Key: "empty", Value: []byte{}}))
	must[*pluginpb.KVSetWithExpiryResponse](t, "KVSetWithExpiry")(b.KVSetWithExpiry(ctx, &pluginpb.KVSetWithExpiryRequest{
		Key: "soon", Value: []byte("v2"), ExpireInSeconds: 60}))
	must[*pluginpb.KVSetWithExpiryResponse](t, "KVSetWithExpiry(gone)")(b.KVSetWithExpiry(ctx, &pluginpb.KVSetWithExpiryRequest{
		Key: "gone", Value: []byte("v3"), ExpireInSeconds: 1}))
	must[*pluginpb.KVSetResponse](t, "KVSet(other plugin)")(b.KVSet(other, &pluginpb.KVSetRequest{Key: "forever", Value: []byte("other")}))

	must[*pluginpb.UpdatePreferencesForUserResponse](t, "UpdatePreferencesForUser")(b.UpdatePreferencesForUser(ctx,
		&pluginpb.UpdatePreferencesForUserRequest{UserId: s.alice.GetId(), Preferences: []*pluginpb.Preference{
			pref(s.alice.GetId(), "display_settings", "use_military_time", "true")}}))
	settings, err := structpb.NewStruct(map[string]any{"Channel": "alerts", "Threshold": 3, "On": true})
	if err != nil {
		t.Fatal(err)
	}
	must[*pluginpb.SavePluginConfigResponse](t, "SavePluginConfig")(b.SavePluginConfig(ctx, &pluginpb.SavePluginConfigRequest{Config: settings}))
	cfg := map[string]any{}
	if err := json.Unmarshal([]byte(must[*pluginpb.GetUnsanitizedConfigResponse](t, "GetUnsanitizedConfig")(
		b.GetUnsanitizedConfig(ctx, &pluginpb.GetUnsanitizedConfigRequest{})).GetConfig().GetJson()), &cfg); err != nil {
		t.Fatal(err)
	}
	section(cfg, "TeamSettings")["SiteName"] = "Acme"
	must[*pluginpb.SaveConfigResponse](t, "SaveConfig")(b.SaveConfig(ctx, &pluginpb.SaveConfigRequest{Config: &pluginpb.Config{Json: encodeConfig(cfg)}}))

	must[*pluginpb.SetTeamIconResponse](t, "SetTeamIcon")(b.SetTeamIcon(ctx, &pluginpb.SetTeamIconRequest{TeamId: s.team.GetId(), Data: pngImage(t, 8, 8)}))
	must[*pluginpb.SetProfileImageResponse](t, "SetProfileImage")(b.SetProfileImage(ctx, &pluginpb.SetProfileImageRequest{UserId: s.alice.GetId(), Data: pngImage(t, 4, 4)}))
	must[*pluginpb.UpdateUserStatusResponse](t, "UpdateUserStatus")(b.UpdateUserStatus(ctx, &pluginpb.UpdateUserStatusRequest{UserId: s.bob.GetId(), Status: "dnd"}))
	s.session = must[*pluginpb.CreateSessionResponse](t, "CreateSession")(b.CreateSession(ctx, &pluginpb.CreateSessionRequest{
		Session: &pluginpb.Session{UserId: s.alice.GetId()}})).GetSession()
	s.bot = must[*pluginpb.CreateBotResponse](t, "CreateBot")(b.CreateBot(ctx, &pluginpb.CreateBotRequest{Bot: &pluginpb.Bot{Username: "helper"}})).GetBot()
	s.app = must[*pluginpb.CreateOAuthAppResponse](t, "CreateOAuthApp")(b.CreateOAuthApp(ctx, &pluginpb.CreateOAuthAppRequest{App: &pluginpb.OAuthApp{
		CreatorId: s.alice.GetId(), Name: "CI", Homepage: "https://ci.example.com", CallbackUrls: []string{"https://ci.example.com/cb"}}})).GetApp()
	s.command = must[*pluginpb.CreateCommandResponse](t, "CreateCommand")(b.CreateCommand(ctx, &pluginpb.CreateCommandRequest{Cmd: &pluginpb.Command{
		TeamId: s.team.GetId(), Trigger: "build", Method: "P", Url: "https://ci.example.com/build"}})).GetCommand()
	s.group = createGroup(t, b, customGroup("devs"))
	addToGroup(t, b, s.group.GetId(), s.alice.GetId())
	link(t, b, s.group.GetId(), s.team.GetId(), "Team", false)
	s.propertyGroup = must[*pluginpb.RegisterPropertyGroupResponse](t, "RegisterPropertyGroup")(b.RegisterPropertyGroup(ctx,
		&pluginpb.RegisterPropertyGroupRequest{Name: "acme"})).GetGroup().GetId()
	s.field = must[*pluginpb.CreatePropertyFieldResponse](t, "CreatePropertyField")(b.CreatePropertyField(ctx, &pluginpb.CreatePropertyFieldRequest{
		Field: &pluginpb.PropertyField{GroupId: s.propertyGroup, Name: "nick", Type: "text"}})).GetField()
	must[*pluginpb.CreatePropertyValueResponse](t, "CreatePropertyValue")(b.CreatePropertyValue(ctx, &pluginpb.CreatePropertyValueRequest{
		Value: &pluginpb.PropertyValue{GroupId: s.propertyGroup, FieldId: s.field.GetId(), TargetId: s.alice.GetId(), TargetType: "user", Value: `"al"`}}))
	must[*pluginpb.GetChannelSidebarCategoriesResponse](t, "GetChannelSidebarCategories")(b.GetChannelSidebarCategories(ctx,
		&pluginpb.GetChannelSidebarCategoriesRequest{UserId: s.alice.GetId(), TeamId: s.team.GetId()}))
	clock.Advance(2 * time.Second) // "gone" expires
	return s
}

// saveState returns the document that b.SaveState writes.
func saveState(t *testing.T, b *Backend) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := b.SaveState(&buf); err != nil {
		t.Fatalf("SaveState = %v", err)
	}
	return buf.Bytes()
}

// stateQuery is one question whose answer must not change across a save
// and a load.
type stateQuery struct {
	name string
	ask  func(ctx context.Context, b *Backend) (proto.Message, error)
}

func (s stateWorld) queries() []stateQuery {
	other := func(ctx context.Context) context.Context { return auth.NewContext(ctx, otherPlugin) }
	return []stateQuery{
		{"GetUser", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetUser(ctx, &pluginpb.GetUserRequest{UserId: s.alice.GetId()})
		}},
		{"GetUserByUsername", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetUserByUsername(ctx, &pluginpb.GetUserByUsernameRequest{Username: "bob"})
		}},
		{"GetUserByEmail", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetUserByEmail(ctx, &pluginpb.GetUserByEmailRequest{Email: "carol@example.com"})
		}},
		{"GetUsers", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetUsers(ctx, &pluginpb.GetUsersRequest{Options: &pluginpb.UserGetOptions{PerPage: 100}})
		}},
		{"GetProfileImage", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetProfileImage(ctx, &pluginpb.GetProfileImageRequest{UserId: s.alice.GetId()})
		}},
		{"GetUserStatus", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetUserStatus(ctx, &pluginpb.GetUserStatusRequest{UserId: s.bob.GetId()})
		}},
		{"GetSession", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetSession(ctx, &pluginpb.GetSessionRequest{SessionId: s.session.GetId()})
		}},
		{"GetBot", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetBot(ctx, &pluginpb.GetBotRequest{BotUserId: s.bot.GetUserId()})
		}},
		{"GetTeamByName", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetTeamByName(ctx, &pluginpb.GetTeamByNameRequest{Name: "core"})
		}},
		{"GetTeamMembers", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetTeamMembers(ctx, &pluginpb.GetTeamMembersRequest{TeamId: s.team.GetId(), PerPage: 100})
		}},
		{"GetTeamMember(left)", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetTeamMember(ctx, &pluginpb.GetTeamMemberRequest{TeamId: s.team.GetId(), UserId: s.carol.GetId()})
		}},
		{"GetTeamIcon", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetTeamIcon(ctx, &pluginpb.GetTeamIconRequest{TeamId: s.team.GetId()})
		}},
		{"GetChannelByName", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: s.team.GetId(), Name: "secret"})
		}},
		{"GetChannelByName(town-square)", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: s.team.GetId(), Name: townSquare})
		}},
		{"GetDirectChannel", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetDirectChannel(ctx, &pluginpb.GetDirectChannelRequest{UserId_1: s.bob.GetId(), UserId_2: s.alice.GetId()})
		}},
		{"GetChannelMembers", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetChannelMembers(ctx, &pluginpb.GetChannelMembersRequest{ChannelId: s.private.GetId(), PerPage: 100})
		}},
		{"GetChannelsForTeamForUser", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetChannelsForTeamForUser(ctx, &pluginpb.GetChannelsForTeamForUserRequest{TeamId: s.team.GetId(), UserId: s.alice.GetId()})
		}},
		{"GetChannelSidebarCategories", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetChannelSidebarCategories(ctx, &pluginpb.GetChannelSidebarCategoriesRequest{UserId: s.alice.GetId(), TeamId: s.team.GetId()})
		}},
		{"GetPost", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetPost(ctx, &pluginpb.GetPostRequest{PostId: s.root.GetId()})
		}},
		{"GetPostThread", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetPostThread(ctx, &pluginpb.GetPostThreadRequest{PostId: s.reply.GetId()})
		}},
		{"GetPostsForChannel", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetPostsForChannel(ctx, &pluginpb.GetPostsForChannelRequest{ChannelId: s.private.GetId(), PerPage: 100})
		}},
		{"GetReactions", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetReactions(ctx, &pluginpb.GetReactionsRequest{PostId: s.root.GetId()})
		}},
		{"KVGet", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.KVGet(ctx, &pluginpb.KVGetRequest{Key: "forever"})
		}},
		{"KVGet(empty)", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.KVGet(ctx, &pluginpb.KVGetRequest{Key: "empty"})
		}},
		{"KVGet(expiring)", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.KVGet(ctx, &pluginpb.KVGetRequest{Key: "soon"})
		}},
		{"KVList", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.KVList(ctx, &pluginpb.KVListRequest{PerPage: 100})
		}},
		{"KVGet(other plugin)", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.KVGet(other(ctx), &pluginpb.KVGetRequest{Key: "forever"})
		}},
		{"GetPreferencesForUser", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetPreferencesForUser(ctx, &pluginpb.GetPreferencesForUserRequest{UserId: s.alice.GetId()})
		}},
		{"GetPluginConfig", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetPluginConfig(ctx, &pluginpb.GetPluginConfigRequest{})
		}},
		{"GetUnsanitizedConfig", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetUnsanitizedConfig(ctx, &pluginpb.GetUnsanitizedConfigRequest{})
		}},
		{"GetOAuthApp", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetOAuthApp(ctx, &pluginpb.GetOAuthAppRequest{AppId: s.app.GetId()})
		}},
		{"GetCommand", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetCommand(ctx, &pluginpb.GetCommandRequest{CommandId: s.command.GetId()})
		}},
		{"GetGroup", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetGroup(ctx, &pluginpb.GetGroupRequest{GroupId: s.group.GetId()})
		}},
		{"GetGroupMemberUsers", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetGroupMemberUsers(ctx, &pluginpb.GetGroupMemberUsersRequest{GroupId: s.group.GetId(), PerPage: 100})
		}},
		{"GetGroupSyncable", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetGroupSyncable(ctx, &pluginpb.GetGroupSyncableRequest{GroupId: s.group.GetId(), SyncableId: s.team.GetId(), SyncableType: "Team"})
		}},
		{"GetPropertyField", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.GetPropertyField(ctx, &pluginpb.GetPropertyFieldRequest{GroupId: s.propertyGroup, FieldId: s.field.GetId()})
		}},
		{"GetPropertyValues", func(ctx context.Context, b *Backend) (proto.Message, error) {
			return b.SearchPropertyValues(ctx, &pluginpb.SearchPropertyValuesRequest{GroupId: s.propertyGroup,
				Opts: &pluginpb.PropertyValueSearchOpts{PerPage: 100}})
		}},
	}
}

func TestStateRoundTrip(t *testing.T) {
	s := newStateWorld(t)
	ctx := context.Background()
	doc := saveState(t, s.b)

	loaded := New(Clock(s.clock.Now))
	if err := loaded.LoadState(bytes.NewReader(doc)); err != nil {
		t.Fatalf("LoadState = %v", err)
	}
	for _, q := range s.queries() {
		t.Run(q.name, func(t *testing.T) {
			want, err := q.ask(ctx, s.b)
			if err != nil {
				t.Fatalf("before the save: %v", err)
			}
			got, err := q.ask(ctx, loaded)
			if err != nil {
				t.Fatalf("after the load: %v", err)
			}
			if !proto.Equal(got, want) {
				t.Errorf("after the load:\n%v\nwant\n%v", got, want)
			}
		})
	}

	// The password digest survives, and the loaded backend saves the same
	// document again.
	if got, want := loaded.users.byID[s.alice.GetId()].passwordHash, sha256.Sum256([]byte("passw0rd!")); got != want {
		t.Errorf("alice's password digest = %x; want %x", got, want)
	}
	if again := saveState(t, loaded); !bytes.Equal(again, doc) {
		t.Errorf("saving the loaded state wrote another document:\n%s\nwant\n%s", again, doc)
	}
	if bytes.Contains(doc, []byte(`"gone"`)) {
		t.Errorf("the document holds an expired KV key: %s", doc)
	}

	// The indexes are rebuilt: names stay unique, and expiry goes on.
	_, err := loaded.CreateUser(ctx, &pluginpb.CreateUserRequest{User: newUser("alice")})
	wantAppError(t, "CreateUser(a loaded username)", err, 400)
	_, err = loaded.CreateTeam(ctx, &pluginpb.CreateTeamRequest{Team: newTeam("core")})
	wantAppError(t, "CreateTeam(a loaded name)", err, 400)
	_, err = loaded.CreateChannel(ctx, &pluginpb.CreateChannelRequest{Channel: &pluginpb.Channel{
		TeamId: s.team.GetId(), Name: "secret", DisplayName: "Again", Type: channelOpen}})
	wantAppError(t, "CreateChannel(a loaded name)", err, 400)
	s.clock.Advance(time.Minute)
	if v := get(t, loaded, "soon"); v != nil {
		t.Errorf("KVGet(soon) after its expiry = %q; want nil", v)
	}
	if v := get(t, loaded, "forever"); string(v) != "v1" {
		t.Errorf("KVGet(forever) = %q; want v1", v)
	}
}

func TestStateDocumentEnvelope(t *testing.T) {
	s := newStateWorld(t)
	var doc map[string]any
	if err := json.Unmarshal(saveState(t, s.b), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["format"] != stateFormat || doc["version"] != float64(StateVersion) {
		t.Errorf("format, version = %v, %v; want %q, %d", doc["format"], doc["version"], stateFormat, StateVersion)
	}
	if _, err := time.Parse(time.RFC3339Nano, doc["saved_at"].(string)); err != nil {
		t.Errorf("saved_at = %v: %v", doc["saved_at"], err)
	}
	users := doc["users"].([]any)
	first := users[0].(map[string]any)["user"].(map[string]any)
	if _, ok := first["create_at"]; !ok {
		t.Errorf("a user is not in protojson with proto names: %v", first)
	}
}

// mutated returns doc with change applied to its JSON.
func mutated(t *testing.T, doc []byte, change func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// entry returns the i-th object of a list of the document.
func entry(m map[string]any, list string, i int) map[string]any {
	return m[list].([]any)[i].(map[string]any)
}

func TestLoadStateRefusesAndChangesNothing(t *testing.T) {
	s := newStateWorld(t)
	doc := saveState(t, s.b)
	tests := []struct {
		name string
		doc  []byte
		want string
	}{
		{"garbage", []byte("\x00\x01garbage"), "not a state file: invalid character"},
		{"empty", nil, "the document is empty"},
		{"truncated", doc[:len(doc)/2], "unexpected end of JSON input"},
		{"an array", []byte("[1, 2]"), "not a state file"},
		{"no format", mutated(t, doc, func(m map[string]any) { delete(m, "format") }), `no "format" field`},
		{"another format", mutated(t, doc, func(m map[string]any) { m["format"] = "something-else" }),
			`its format is "something-else"`},
		{"no version", mutated(t, doc, func(m map[string]any) { delete(m, "version") }), `no "version" field`},
		{"a future version", mutated(t, doc, func(m map[string]any) { m["version"] = 7; m["new_things"] = []any{} }),
			"state file version 7 is newer than this server reads (1)"},
		{"version 0", mutated(t, doc, func(m map[string]any) { m["version"] = 0 }), "state file version 0 is unknown"},
		{"a version that is not a number", mutated(t, doc, func(m map[string]any) { m["version"] = "1" }), "not a state file"},
		{"an unknown field", mutated(t, doc, func(m map[string]any) { m["extra"] = 1 }), `unknown field "extra"`},
		{"a user with a bad id", mutated(t, doc, func(m map[string]any) {
			entry(m, "users", 1)["user"].(map[string]any)["id"] = "not-an-id"
		}), `users[1]: id "not-an-id" is not a Mattermost id`},
		{"a user with an unknown field", mutated(t, doc, func(m map[string]any) {
			entry(m, "users", 0)["user"].(map[string]any)["shoe_size"] = 9
		}), "users[0]: "},
		{"a bad password digest", mutated(t, doc, func(m map[string]any) { entry(m, "users", 0)["password_sha256"] = "abc" }),
			"users[0]: password_sha256 is not 64 hex digits"},
		{"a duplicate username", mutated(t, doc, func(m map[string]any) {
			name := entry(m, "users", 0)["user"].(map[string]any)["username"]
			entry(m, "users", 1)["user"].(map[string]any)["username"] = name
		}), "users[1]: a second user with username"},
		{"a member of a missing team", mutated(t, doc, func(m map[string]any) {
			entry(m, "team_members", 0)["team_id"] = newID()
		}), "team_members[0]: team"},
		{"a post in a missing channel", mutated(t, doc, func(m map[string]any) {
			entry(m, "posts", 0)["channel_id"] = newID()
		}), "posts[0]: channel"},
		{"a KV entry without a value", mutated(t, doc, func(m map[string]any) { delete(entry(m, "kv", 0), "value") }),
			"kv[0]: value is missing"},
		{"an invalid configuration", mutated(t, doc, func(m map[string]any) {
			section(m["config"].(map[string]any), "TeamSettings")["MaxUsersPerTeam"] = 0
		}), "config: "},
		{"a configuration that is not an object", mutated(t, doc, func(m map[string]any) { m["config"] = []any{} }),
			"config: not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(Clock(s.clock.Now))
			if err := b.LoadState(bytes.NewReader(doc)); err != nil {
				t.Fatal(err)
			}
			err := b.LoadState(bytes.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadState = %v; want an error with %q", err, tt.want)
			}
			if after := saveState(t, b); !bytes.Equal(after, doc) {
				t.Errorf("a refused document changed the backend")
			}
		})
	}
}

func TestLoadStateIntoAFreshBackendKeepsItsPluginSettings(t *testing.T) {
	// A document without a configuration loads the defaults, with the
	// served plugin enabled.
	b := New(PluginID("com.example.served"))
	if err := b.LoadState(strings.NewReader(`{"format": "` + stateFormat + `", "version": 1}`)); err != nil {
		t.Fatalf("LoadState(minimal) = %v", err)
	}
	resp, err := b.GetPluginStatus(context.Background(), &pluginpb.GetPluginStatusRequest{Id: "com.example.served"})
	if err != nil || resp.GetStatus().GetState() != pluginStateRunning {
		t.Errorf("GetPluginStatus = %v, %v; want running", resp, err)
	}
}

func TestSaveStateFile(t *testing.T) {
	s := newStateWorld(t)
	path := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.b.SaveStateFile(path); err != nil {
		t.Fatalf("SaveStateFile = %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v; want 0600", info.Mode().Perm())
	}
	loaded := New(Clock(s.clock.Now))
	ok, err := loaded.LoadStateFile(path)
	if !ok || err != nil {
		t.Fatalf("LoadStateFile = %v, %v; want true, nil", ok, err)
	}
	if !bytes.Equal(saveState(t, loaded), saveState(t, s.b)) {
		t.Errorf("the loaded file holds another state")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d files; want only the state file", len(entries))
	}
}

func TestSaveStateFileIsAtomic(t *testing.T) {
	failure := errors.New("disk full")
	halfThenFail := func(w io.Writer) error {
		_, _ = w.Write([]byte(`{"format": "` + stateFormat))
		return failure
	}
	tests := []struct {
		name string
		old  []byte // nil: no file before
	}{
		{"over an existing file", []byte("the previous state")},
		{"with no file before", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if tt.old != nil {
				if err := os.WriteFile(path, tt.old, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := writeFileAtomically(path, halfThenFail); !errors.Is(err, failure) {
				t.Fatalf("writeFileAtomically = %v; want %v", err, failure)
			}
			got, err := os.ReadFile(path)
			switch {
			case tt.old != nil && (err != nil || !bytes.Equal(got, tt.old)):
				t.Errorf("the file holds %q, %v; want the previous content", got, err)
			case tt.old == nil && !errors.Is(err, os.ErrNotExist):
				t.Errorf("the file holds %q, %v; want no file", got, err)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "state.json" {
					t.Errorf("a temporary file is left: %s", e.Name())
				}
			}
		})
	}
}

func TestLoadStateFile(t *testing.T) {
	dir := t.TempDir()
	b := New()
	ok, err := b.LoadStateFile(filepath.Join(dir, "missing.json"))
	if ok || err != nil {
		t.Errorf("LoadStateFile(missing) = %v, %v; want false, nil", ok, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok, err = b.LoadStateFile(bad)
	if ok || err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("LoadStateFile(bad) = %v, %v; want false and an error that names %s", ok, err, bad)
	}
}

func TestSaveStateWhileTheBackendChanges(t *testing.T) {
	s := newStateWorld(t)
	ctx := context.Background()
	img := pngImage(t, 2, 2)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			if _, err := s.b.KVSet(ctx, &pluginpb.KVSetRequest{Key: "busy", Value: []byte{byte(i)}}); err != nil {
				t.Errorf("KVSet = %v", err)
			}
			if _, err := s.b.SetProfileImage(ctx, &pluginpb.SetProfileImageRequest{UserId: s.bob.GetId(), Data: img}); err != nil {
				t.Errorf("SetProfileImage = %v", err)
			}
		}
	}()
	for range 10 {
		loaded := New()
		if err := loaded.LoadState(bytes.NewReader(saveState(t, s.b))); err != nil {
			t.Fatalf("LoadState(a document saved while the backend changed) = %v", err)
		}
	}
	<-done
}
