package memory

import (
	"context"
	"net/http"
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
	tests := []struct {
		name  string
		users []string
		code  int
	}{
		{"two users", []string{w.alice.GetId(), w.bob.GetId()}, http.StatusBadRequest},
		{"three with a repeat", []string{w.alice.GetId(), w.bob.GetId(), w.bob.GetId()}, http.StatusBadRequest},
		{"nine users", make([]string, 9), http.StatusBadRequest},
		{"unknown user", []string{w.alice.GetId(), w.bob.GetId(), newID()}, http.StatusNotFound},
	}
	for _, tt := range tests {
		_, err := w.b.GetGroupChannel(ctx, &pluginpb.GetGroupChannelRequest{UserIds: tt.users})
		wantAppError(t, "GetGroupChannel("+tt.name+")", err, tt.code)
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
	_, err = w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: gm.GetChannel().GetId()})
	wantAppError(t, "DeleteChannel(GM)", err, http.StatusBadRequest)
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
		{"outsider joins", func() error {
			_, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: c.GetId(), UserId: w.carol.GetId()})
			return err
		}, http.StatusBadRequest},
		{"remove a non-member", func() error {
			_, err := w.b.DeleteChannelMember(ctx, &pluginpb.DeleteChannelMemberRequest{ChannelId: c.GetId(), UserId: w.bob.GetId()})
			return err
		}, http.StatusNotFound},
		{"leave town-square", func() error {
			_, err := w.b.DeleteChannelMember(ctx, &pluginpb.DeleteChannelMemberRequest{ChannelId: town.GetChannel().GetId(), UserId: w.bob.GetId()})
			return err
		}, http.StatusBadRequest},
		{"bad notify level", func() error {
			_, err := w.b.UpdateChannelMemberNotifications(ctx, &pluginpb.UpdateChannelMemberNotificationsRequest{ChannelId: town.GetChannel().GetId(), UserId: w.bob.GetId(), Notifications: map[string]string{"desktop": "loud"}})
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
