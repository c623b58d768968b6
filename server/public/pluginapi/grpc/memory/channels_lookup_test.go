package memory

import (
	"context"
	"net/http"
	"slices"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestChannelLookupsHaveNoIDFormatCheck checks that the plugin path's
// lookups of channels and memberships answer a malformed id as an unknown
// one, not as a bad request: upstream's plugin API calls the app layer,
// which asks the store and has no id format check (that is the REST
// handlers' RequireChannelId and the like). It follows
// server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1
// (Server.getChannel: app.channel.get.existing.app_error 404;
// App.GetChannelByName: app.channel.get_by_name.missing.app_error 404;
// Server.getChannelMember: MissingChannelMemberError 404) and
// server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace
// (GetChannel, GetChannelByName, GetChannelMember, which call them as is).
func TestChannelLookupsHaveNoIDFormatCheck(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	town, err := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: townSquare})
	if err != nil {
		t.Fatal(err)
	}
	const malformed = "not-an-id"
	tests := []struct {
		name string
		call func() error
		id   string
	}{
		{"GetChannel", func() error {
			_, err := w.b.GetChannel(ctx, &pluginpb.GetChannelRequest{ChannelId: malformed})
			return err
		}, "app.channel.get.existing.app_error"},
		{"GetChannel(empty)", func() error {
			_, err := w.b.GetChannel(ctx, &pluginpb.GetChannelRequest{})
			return err
		}, "app.channel.get.existing.app_error"},
		{"GetChannelByName", func() error {
			_, err := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: malformed, Name: townSquare})
			return err
		}, "app.channel.get_by_name.missing.app_error"},
		{"GetChannelMember(channel)", func() error {
			_, err := w.b.GetChannelMember(ctx, &pluginpb.GetChannelMemberRequest{ChannelId: malformed, UserId: w.alice.GetId()})
			return err
		}, "app.channel.get_member.missing.app_error"},
		{"GetChannelMember(user)", func() error {
			_, err := w.b.GetChannelMember(ctx, &pluginpb.GetChannelMemberRequest{ChannelId: town.GetChannel().GetId(), UserId: malformed})
			return err
		}, "app.channel.get_member.missing.app_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAppErrorID(t, tt.name, tt.call(), tt.id, http.StatusNotFound)
		})
	}
}

// TestSearchChannelsFollowsTheStore checks SearchChannels against
// upstream's App.SearchChannels, which asks the store with includeDeleted
// true (server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1),
// and SqlChannelStore.SearchInTeam and searchClause
// (server/channels/store/sqlstore/channel_store.go@003a6338e610a19a11c49c3da64832306033b4c1):
// public channels of the team, archived ones included, whose name,
// display name or purpose contains the term ("%term%", any case); no
// team id check.
func TestSearchChannelsFollowsTheStore(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "design-review", DisplayName: "Design Review"})
	old := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "old-reviews", DisplayName: "Old"})
	createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "ops", DisplayName: "Ops", Purpose: "Weekly REVIEW of incidents"})
	createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelPrivate, Name: "review-secret", DisplayName: "Review Secret"})
	if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: old.GetId()}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, teamID, term string
		want               []string
	}{
		{"inside a word, archived and purpose included", w.team.GetId(), "view", []string{"design-review", "old-reviews", "ops"}},
		{"trimmed, any case", w.team.GetId(), "  DESIGN ", []string{"design-review"}},
		{"empty term", w.team.GetId(), "", []string{"design-review", "off-topic", "old-reviews", "ops", "town-square"}},
		{"malformed team id", "bad-team-id", "review", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := w.b.SearchChannels(ctx, &pluginpb.SearchChannelsRequest{TeamId: tt.teamID, Term: tt.term})
			if err != nil {
				t.Fatalf("SearchChannels(%q) = %v", tt.term, err)
			}
			var names []string
			for _, c := range resp.GetChannels() {
				names = append(names, c.GetName())
			}
			slices.Sort(names)
			if !slices.Equal(names, tt.want) {
				t.Errorf("SearchChannels(%q) = %v; want %v", tt.term, names, tt.want)
			}
		})
	}
}

// TestChannelListingsFollowTheStore checks the channel and membership
// listings against the store functions upstream's plugin API reaches
// (server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace,
// server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1,
// server/channels/store/sqlstore/channel_store.go@003a6338e610a19a11c49c3da64832306033b4c1):
// GetPublicChannelsForTeam, GetMembers and GetMembersByIds look nothing up
// first, so an unknown team or channel has nothing; GetMembers sets no
// limit for a per_page of 0; GetMembersForUserWithPagination ignores the
// team (the plugin API drops it); GetChannels finds nothing for a
// malformed id, which is app.channel.get_channels.not_found.app_error.
func TestChannelListingsFollowTheStore(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	town, err := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: townSquare})
	if err != nil {
		t.Fatal(err)
	}
	other := createTeam(t, w.b, newTeam("other"))
	join(t, w.b, other.GetId(), w.alice.GetId())

	public, err := w.b.GetPublicChannelsForTeam(ctx, &pluginpb.GetPublicChannelsForTeamRequest{TeamId: newID(), PerPage: 10})
	if err != nil || len(public.GetChannels()) != 0 {
		t.Errorf("GetPublicChannelsForTeam(unknown team) = %v, %v; want no channels, no error", public, err)
	}
	members, err := w.b.GetChannelMembers(ctx, &pluginpb.GetChannelMembersRequest{ChannelId: newID(), PerPage: 10})
	if err != nil || len(members.GetChannelMembers()) != 0 {
		t.Errorf("GetChannelMembers(unknown channel) = %v, %v; want no members, no error", members, err)
	}
	members, err = w.b.GetChannelMembers(ctx, &pluginpb.GetChannelMembersRequest{ChannelId: town.GetChannel().GetId()})
	if err != nil || len(members.GetChannelMembers()) != 2 {
		t.Errorf("GetChannelMembers(per_page 0) = %v, %v; want both members", members, err)
	}
	byIDs, err := w.b.GetChannelMembersByIds(ctx, &pluginpb.GetChannelMembersByIdsRequest{
		ChannelId: town.GetChannel().GetId(), UserIds: []string{w.alice.GetId(), "not-an-id"},
	})
	if err != nil || len(byIDs.GetChannelMembers()) != 1 {
		t.Errorf("GetChannelMembersByIds(a member, a malformed id) = %v, %v; want the member", byIDs, err)
	}
	byIDs, err = w.b.GetChannelMembersByIds(ctx, &pluginpb.GetChannelMembersByIdsRequest{ChannelId: newID(), UserIds: []string{w.alice.GetId()}})
	if err != nil || len(byIDs.GetChannelMembers()) != 0 {
		t.Errorf("GetChannelMembersByIds(unknown channel) = %v, %v; want none, no error", byIDs, err)
	}
	// alice is in the default channels of both teams: four memberships,
	// whatever team id is given.
	for _, teamID := range []string{w.team.GetId(), "", "not-an-id"} {
		mine, err := w.b.GetChannelMembersForUser(ctx, &pluginpb.GetChannelMembersForUserRequest{TeamId: teamID, UserId: w.alice.GetId(), PerPage: 10})
		if err != nil || len(mine.GetChannelMembers()) != 4 {
			t.Errorf("GetChannelMembersForUser(team %q) = %v, %v; want alice's 4 memberships", teamID, mine, err)
		}
	}
	_, err = w.b.GetChannelsForTeamForUser(ctx, &pluginpb.GetChannelsForTeamForUserRequest{TeamId: "not-an-id", UserId: w.alice.GetId()})
	wantAppErrorID(t, "GetChannelsForTeamForUser(malformed team)", err, "app.channel.get_channels.not_found.app_error", http.StatusNotFound)
	_, err = w.b.GetChannelsForTeamForUser(ctx, &pluginpb.GetChannelsForTeamForUserRequest{TeamId: w.team.GetId(), UserId: "not-an-id"})
	wantAppErrorID(t, "GetChannelsForTeamForUser(malformed user)", err, "app.channel.get_channels.not_found.app_error", http.StatusNotFound)
}

// TestChannelGuardIDs checks RegisterChannelGuard and
// UnregisterChannelGuard against upstream's App.RegisterChannelGuard and
// App.UnregisterChannelGuard
// (server/channels/app/channel_guards.go@3db052711ad1cbadfe852ad34781e8a3fa028583):
// an empty channel id, then a malformed one, each with its own 400, and
// unregistering a claim that does not exist is a no-op.
func TestChannelGuardIDs(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		id   string
	}{
		{"register empty", func() error {
			_, err := w.b.RegisterChannelGuard(ctx, &pluginpb.RegisterChannelGuardRequest{})
			return err
		}, "app.channel_guard.register.empty_channel.app_error"},
		{"register malformed", func() error {
			_, err := w.b.RegisterChannelGuard(ctx, &pluginpb.RegisterChannelGuardRequest{ChannelId: "not-an-id"})
			return err
		}, "app.channel_guard.invalid_channel.app_error"},
		{"unregister empty", func() error {
			_, err := w.b.UnregisterChannelGuard(ctx, &pluginpb.UnregisterChannelGuardRequest{})
			return err
		}, "app.channel_guard.unregister.empty_channel.app_error"},
		{"unregister malformed", func() error {
			_, err := w.b.UnregisterChannelGuard(ctx, &pluginpb.UnregisterChannelGuardRequest{ChannelId: "not-an-id"})
			return err
		}, "app.channel_guard.invalid_channel.app_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAppErrorID(t, tt.name, tt.call(), tt.id, http.StatusBadRequest)
		})
	}
	if _, err := w.b.UnregisterChannelGuard(ctx, &pluginpb.UnregisterChannelGuardRequest{ChannelId: newID()}); err != nil {
		t.Errorf("UnregisterChannelGuard(unknown channel) = %v; want a no-op", err)
	}
}

// TestUpdateChannelFollowsTheStore checks two answers of UpdateChannel
// against App.UpdateChannel
// (server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1)
// and SqlChannelStore.updateChannelT
// (server/channels/store/sqlstore/channel_store.go@003a6338e610a19a11c49c3da64832306033b4c1):
// a channel given as archived is ErrInvalidInput, app.channel.update.bad_id
// (400), and a name taken in the team is store.ChannelExistsError (400).
func TestUpdateChannelFollowsTheStore(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	dev := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "dev", DisplayName: "Dev"})
	if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: dev.GetId()}); err != nil {
		t.Fatal(err)
	}
	archived, err := w.b.GetChannel(ctx, &pluginpb.GetChannelRequest{ChannelId: dev.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	archived.GetChannel().Header = "new"
	_, err = w.b.UpdateChannel(ctx, &pluginpb.UpdateChannelRequest{Channel: archived.GetChannel()})
	wantAppErrorID(t, "UpdateChannel(archived)", err, "app.channel.update.bad_id", http.StatusBadRequest)

	ops := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "ops", DisplayName: "Ops"})
	ops.Name = offTopic
	_, err = w.b.UpdateChannel(ctx, &pluginpb.UpdateChannelRequest{Channel: ops})
	wantAppErrorID(t, "UpdateChannel(taken name)", err, "store.sql_channel.save_channel.exists.app_error", http.StatusBadRequest)
}
