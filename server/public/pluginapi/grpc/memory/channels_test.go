package memory

import (
	"context"
	"net/http"
	"strings"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func createChannel(t *testing.T, b *Backend, c *pluginpb.Channel) *pluginpb.Channel {
	t.Helper()
	resp, err := b.CreateChannel(context.Background(), &pluginpb.CreateChannelRequest{Channel: c})
	if err != nil {
		t.Fatalf("CreateChannel(%s) = %v", c.GetName(), err)
	}
	return resp.GetChannel()
}

// world is a team with two members and a third user outside it.
type world struct {
	b                 *Backend
	team              *pluginpb.Team
	alice, bob, carol *pluginpb.User
}

func newWorld(t *testing.T) world {
	t.Helper()
	b, _ := newTestBackend(t)
	w := world{b: b, team: createTeam(t, b, newTeam("core"))}
	w.alice = create(t, b, newUser("alice"))
	w.bob = create(t, b, newUser("bob"))
	w.carol = create(t, b, newUser("carol"))
	join(t, b, w.team.GetId(), w.alice.GetId())
	join(t, b, w.team.GetId(), w.bob.GetId())
	return w
}

func TestTeamsGetDefaultChannels(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	public, err := w.b.GetPublicChannelsForTeam(ctx, &pluginpb.GetPublicChannelsForTeamRequest{TeamId: w.team.GetId(), PerPage: 10})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range public.GetChannels() {
		names = append(names, c.GetName())
	}
	if len(names) != 2 || names[0] != offTopic || names[1] != townSquare {
		t.Fatalf("public channels = %v; want off-topic and town-square", names)
	}
	mine, err := w.b.GetChannelsForTeamForUser(ctx, &pluginpb.GetChannelsForTeamForUserRequest{TeamId: w.team.GetId(), UserId: w.alice.GetId()})
	if err != nil || len(mine.GetChannels()) != 2 {
		t.Fatalf("alice's channels = %v, %v; want the two default channels", mine, err)
	}
	_, err = w.b.GetChannelsForTeamForUser(ctx, &pluginpb.GetChannelsForTeamForUserRequest{TeamId: w.team.GetId(), UserId: w.carol.GetId()})
	wantAppError(t, "GetChannelsForTeamForUser(outsider)", err, http.StatusNotFound)

	// Leaving the team leaves its channels.
	if _, err := w.b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: w.team.GetId(), UserId: w.bob.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err = w.b.GetChannelsForTeamForUser(ctx, &pluginpb.GetChannelsForTeamForUserRequest{TeamId: w.team.GetId(), UserId: w.bob.GetId()})
	wantAppError(t, "GetChannelsForTeamForUser(after leaving)", err, http.StatusNotFound)
}

func TestPrivateChannelsAreNotListed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	secret := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelPrivate, Name: "secret", DisplayName: "Secret"})
	public, _ := w.b.GetPublicChannelsForTeam(ctx, &pluginpb.GetPublicChannelsForTeamRequest{TeamId: w.team.GetId(), PerPage: 10})
	found, _ := w.b.SearchChannels(ctx, &pluginpb.SearchChannelsRequest{TeamId: w.team.GetId(), Term: "sec"})
	for _, c := range append(public.GetChannels(), found.GetChannels()...) {
		if c.GetId() == secret.GetId() {
			t.Errorf("the private channel is listed to everyone")
		}
	}
	if _, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: secret.GetId(), UserId: w.alice.GetId()}); err != nil {
		t.Fatal(err)
	}
	mine, _ := w.b.GetChannelsForTeamForUser(ctx, &pluginpb.GetChannelsForTeamForUserRequest{TeamId: w.team.GetId(), UserId: w.alice.GetId()})
	if len(mine.GetChannels()) != 3 {
		t.Errorf("alice's channels = %d; want the private channel with the defaults", len(mine.GetChannels()))
	}
}

func TestDirectAndGroupChannels(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	dm, err := w.b.GetDirectChannel(ctx, &pluginpb.GetDirectChannelRequest{UserId_1: w.bob.GetId(), UserId_2: w.alice.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.b.GetDirectChannel(ctx, &pluginpb.GetDirectChannelRequest{UserId_1: w.alice.GetId(), UserId_2: w.bob.GetId()})
	if err != nil || again.GetChannel().GetId() != dm.GetChannel().GetId() {
		t.Fatalf("the DM is not unique: %v, %v", again, err)
	}
	if want := directChannelName(w.alice.GetId(), w.bob.GetId()); dm.GetChannel().GetName() != want || dm.GetChannel().GetType() != channelDirect {
		t.Errorf("DM = %v; want name %s and type D", dm.GetChannel(), want)
	}
	// A user it cannot find is invalid_user (400), as
	// App.createDirectChannel answers (channel.go@003a6338e610a19a11c49c3da64832306033b4c1).
	_, err = w.b.GetDirectChannel(ctx, &pluginpb.GetDirectChannelRequest{UserId_1: w.alice.GetId(), UserId_2: newID()})
	wantAppErrorID(t, "GetDirectChannel(unknown user)", err, "api.channel.create_direct_channel.invalid_user.app_error", http.StatusBadRequest)
	// App.createGroupChannel (channel.go@003a6338e610a19a11c49c3da64832306033b4c1),
	// which the plugin API's GetGroupChannel reaches through
	// App.CreateGroupChannel (plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace):
	// the size is that of the list as given, then a list whose profiles
	// are fewer than its ids (an unknown user, a repeat) is bad_user.
	const badSize, badUser = "api.channel.create_group.bad_size.app_error", "api.channel.create_group.bad_user.app_error"
	tests := []struct {
		name  string
		users []string
		id    string
	}{
		{"two users", []string{w.alice.GetId(), w.bob.GetId()}, badSize},
		{"two users and a repeat", []string{w.alice.GetId(), w.bob.GetId(), w.bob.GetId()}, badUser},
		{"three users and a repeat", []string{w.alice.GetId(), w.bob.GetId(), w.carol.GetId(), w.bob.GetId()}, badUser},
		{"nine users", make([]string, 9), badSize},
		{"unknown user", []string{w.alice.GetId(), w.bob.GetId(), newID()}, badUser},
	}
	for _, tt := range tests {
		_, err := w.b.GetGroupChannel(ctx, &pluginpb.GetGroupChannelRequest{UserIds: tt.users})
		wantAppErrorID(t, "GetGroupChannel("+tt.name+")", err, tt.id, http.StatusBadRequest)
	}
	gm, err := w.b.GetGroupChannel(ctx, &pluginpb.GetGroupChannelRequest{UserIds: []string{w.carol.GetId(), w.alice.GetId(), w.bob.GetId()}})
	if err != nil {
		t.Fatal(err)
	}
	if gm.GetChannel().GetDisplayName() != "alice, bob, carol" || gm.GetChannel().GetType() != channelGroup {
		t.Errorf("GM = %v", gm.GetChannel())
	}
	members, _ := w.b.GetChannelMembers(ctx, &pluginpb.GetChannelMembersRequest{ChannelId: gm.GetChannel().GetId(), PerPage: 10})
	if len(members.GetChannelMembers()) != 3 {
		t.Errorf("GM members = %d; want 3", len(members.GetChannelMembers()))
	}
	// Archiving a GM succeeds upstream: TestDeleteDirectAndGroupChannels.
}

func TestArchiveAndRestoreKeepData(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "dev", DisplayName: "Dev"})
	if _, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: c.GetId(), UserId: w.alice.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: c.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, err := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: "dev"})
	wantAppError(t, "GetChannelByName(archived)", err, http.StatusNotFound)
	if _, err := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: "dev", IncludeDeleted: true}); err != nil {
		t.Errorf("GetChannelByName(archived, include deleted) = %v", err)
	}
	_, err = w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: c.GetId()})
	wantAppError(t, "DeleteChannel(twice)", err, http.StatusBadRequest)
	if _, err := w.b.RestoreChannel(ctx, &pluginpb.RestoreChannelRequest{ChannelId: c.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.GetChannelMember(ctx, &pluginpb.GetChannelMemberRequest{ChannelId: c.GetId(), UserId: w.alice.GetId()}); err != nil {
		t.Errorf("the member did not survive archiving: %v", err)
	}
	_, err = w.b.RestoreChannel(ctx, &pluginpb.RestoreChannelRequest{ChannelId: c.GetId()})
	wantAppError(t, "RestoreChannel(live)", err, http.StatusBadRequest)
}

func TestChannelMembershipRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "dev", DisplayName: "Dev"})
	town, _ := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: townSquare})
	tests := []struct {
		name string
		call func() error
		code int
	}{
		// Not in the team: app.team.get_member.missing.app_error, 404, as
		// server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1
		// AddUserToChannel answers (channels_members_test.go has the rest).
		{"outsider joins", func() error {
			_, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: c.GetId(), UserId: w.carol.GetId()})
			return err
		}, http.StatusNotFound},
		{"remove a non-member", func() error {
			_, err := w.b.DeleteChannelMember(ctx, &pluginpb.DeleteChannelMemberRequest{ChannelId: c.GetId(), UserId: w.bob.GetId()})
			return err
		}, http.StatusNotFound},
		{"leave town-square", func() error {
			_, err := w.b.DeleteChannelMember(ctx, &pluginpb.DeleteChannelMemberRequest{ChannelId: town.GetChannel().GetId(), UserId: w.bob.GetId()})
			return err
		}, http.StatusBadRequest},
		// Values are not checked on the plugin path, sizes are
		// (TestUpdateChannelMemberNotificationsFollowsTheAppLayer).
		{"notify props too large", func() error {
			_, err := w.b.UpdateChannelMemberNotifications(ctx, &pluginpb.UpdateChannelMemberNotificationsRequest{ChannelId: town.GetChannel().GetId(), UserId: w.bob.GetId(), Notifications: map[string]string{"desktop": strings.Repeat("x", notifyPropsMaxBytes)}})
			return err
		}, http.StatusBadRequest},
		{"unknown role", func() error {
			_, err := w.b.UpdateChannelMemberRoles(ctx, &pluginpb.UpdateChannelMemberRolesRequest{ChannelId: town.GetChannel().GetId(), UserId: w.bob.GetId(), NewRoles: "channel_user boss"})
			return err
		}, http.StatusBadRequest},
		{"patch over 200", func() error {
			_, err := w.b.PatchChannelMembersNotifications(ctx, &pluginpb.PatchChannelMembersNotificationsRequest{Members: make([]*pluginpb.ChannelMemberIdentifier, 201)})
			return err
		}, http.StatusBadRequest},
		{"retention policy", func() error {
			_, err := w.b.AddChannelsToRetentionPolicy(ctx, &pluginpb.AddChannelsToRetentionPolicyRequest{PolicyId: newID()})
			return err
		}, http.StatusNotImplemented},
	}
	for _, tt := range tests {
		wantAppError(t, tt.name, tt.call(), tt.code)
	}
	m, err := w.b.UpdateChannelMemberRoles(ctx, &pluginpb.UpdateChannelMemberRolesRequest{ChannelId: town.GetChannel().GetId(), UserId: w.bob.GetId(), NewRoles: "channel_user channel_admin"})
	if err != nil || m.GetChannelMember().GetRoles() != "channel_user channel_admin" {
		t.Errorf("UpdateChannelMemberRoles = %v, %v", m, err)
	}
}

// TestCreateChannelStoreRules follows App.CreateChannel
// (server/channels/app/channel.go@a63955a2dd2844a2f47afb389bd5e952e83dc5b0),
// which the plugin path calls directly: its errors are those of the
// channel store's Save
// (server/channels/store/sqlstore/channel_store.go@628273d98ddbb68042c0d4ec09ce81c8bc4d920a),
// in order: delete_at set, then type D (store.sql_channel.save.direct_channel,
// not the REST handler's api.channel.create_channel.direct_channel), then
// an id. A group message is saved like any channel.
func TestCreateChannelStoreRules(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name    string
		channel *pluginpb.Channel
		id      string
	}{
		{"archived", &pluginpb.Channel{TeamId: w.team.GetId(), Name: "old", DisplayName: "Old", Type: channelOpen, DeleteAt: 1},
			"store.sql_channel.save.archived_channel.app_error"},
		{"direct", &pluginpb.Channel{TeamId: w.team.GetId(), Name: "dm", Type: channelDirect},
			"store.sql_channel.save.direct_channel.app_error"},
		{"archived direct", &pluginpb.Channel{TeamId: w.team.GetId(), Name: "dm", Type: channelDirect, DeleteAt: 1},
			"store.sql_channel.save.archived_channel.app_error"},
		{"direct with an id", &pluginpb.Channel{Id: newID(), TeamId: w.team.GetId(), Name: "dm", Type: channelDirect},
			"store.sql_channel.save.direct_channel.app_error"},
		{"id", &pluginpb.Channel{Id: newID(), TeamId: w.team.GetId(), Name: "x", DisplayName: "X", Type: channelOpen},
			"store.sql_channel.save_channel.existing.app_error"},
	}
	for _, tt := range tests {
		_, err := w.b.CreateChannel(context.Background(), &pluginpb.CreateChannelRequest{Channel: tt.channel})
		wantErrorID(t, "CreateChannel("+tt.name+")", err, tt.id, http.StatusBadRequest)
	}
	gm := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Name: "group", Type: channelGroup})
	if gm.GetType() != channelGroup || gm.GetDeleteAt() != 0 {
		t.Errorf("CreateChannel(group) = %v; want a group channel", gm)
	}
}

// TestDeleteDirectAndGroupChannels follows App.DeleteChannel
// (server/channels/app/channel.go@a63955a2dd2844a2f47afb389bd5e952e83dc5b0),
// which PluginAPI.DeleteChannel calls: it refuses only an archived channel
// and the default one, whatever the type, so a direct or group message is
// archived (the REST handler's type check is not on this path).
func TestDeleteDirectAndGroupChannels(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	dm, err := w.b.GetDirectChannel(ctx, &pluginpb.GetDirectChannelRequest{UserId_1: w.alice.GetId(), UserId_2: w.bob.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	gm, err := w.b.GetGroupChannel(ctx, &pluginpb.GetGroupChannelRequest{UserIds: []string{w.alice.GetId(), w.bob.GetId(), w.carol.GetId()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*pluginpb.Channel{dm.GetChannel(), gm.GetChannel()} {
		if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: c.GetId()}); err != nil {
			t.Fatalf("DeleteChannel(%s) = %v; want it archived", c.GetType(), err)
		}
		got, _ := w.b.GetChannel(ctx, &pluginpb.GetChannelRequest{ChannelId: c.GetId()})
		if got.GetChannel().GetDeleteAt() == 0 {
			t.Errorf("channel %s = %v; want delete_at set", c.GetType(), got.GetChannel())
		}
		_, err = w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: c.GetId()})
		wantErrorID(t, "DeleteChannel(archived "+c.GetType()+")", err, "api.channel.delete_channel.deleted.app_error", http.StatusBadRequest)
	}
}

// TestGetChannelStatsFollowsThePluginAPI follows
// server/channels/app/plugin_api.go@f56166d6:PluginAPI.GetChannelStats: two
// calls of App.GetChannelMemberCount (active members), so guest_count is
// member_count, no pinned post count is set, and an unknown channel counts
// zero without an error.
func TestGetChannelStatsFollowsThePluginAPI(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	p := w.post(t, w.alice, "pin me", "")
	p.IsPinned = true
	if _, err := w.b.UpdatePost(ctx, &pluginpb.UpdatePostRequest{Post: p}); err != nil {
		t.Fatal(err)
	}
	// Only active accounts count: bob, deactivated, keeps his membership.
	if _, err := w.b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: w.bob.GetId(), Active: false}); err != nil {
		t.Fatal(err)
	}
	unknown := newID()
	for _, tc := range []struct {
		name      string
		channelID string
		members   int64
	}{
		{"town square", w.town.GetId(), 1},
		{"unknown channel", unknown, 0},
		{"malformed id", "nope", 0},
	} {
		resp, err := w.b.GetChannelStats(ctx, &pluginpb.GetChannelStatsRequest{ChannelId: tc.channelID})
		if err != nil {
			t.Errorf("%s: GetChannelStats = %v; want no error", tc.name, err)
			continue
		}
		s := resp.GetChannelStats()
		if s.GetChannelId() != tc.channelID || s.GetMemberCount() != tc.members || s.GetGuestCount() != tc.members || s.GetPinnedPostCount() != 0 {
			t.Errorf("%s: stats = %v; want channel %q, %d members, guest_count the same, no pinned count", tc.name, s, tc.channelID, tc.members)
		}
	}
}
