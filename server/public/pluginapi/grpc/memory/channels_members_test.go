package memory

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// wantAppErrorID fails unless err is an AppError with the given id and
// HTTP status.
func wantAppErrorID(t *testing.T, call string, err error, id string, status int) {
	t.Helper()
	var appErr *apperror.Error
	if !errors.As(err, &appErr) || appErr.ID != id || appErr.StatusCode != status {
		t.Errorf("%s = %v; want the AppError %s with status %d", call, err, id, status)
	}
}

// TestAddChannelMemberFollowsTheAppLayer checks the refusals of
// AddChannelMember and AddUserToChannel and their order against the app
// layer that upstream's plugin API calls (plugin_api.go → AddChannelMember
// → AddUserToChannel → addUserToChannel), not against the REST handler:
// server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1
// (AddChannelMember, AddUserToChannel, addUserToChannel) and
// server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace
// (AddChannelMember, AddUserToChannel).
func TestAddChannelMemberFollowsTheAppLayer(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "dev", DisplayName: "Dev"})
	dave := create(t, w.b, newUser("dave"))
	join(t, w.b, w.team.GetId(), dave.GetId())
	if _, err := w.b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: w.team.GetId(), UserId: dave.GetId()}); err != nil {
		t.Fatal(err)
	}
	erin := create(t, w.b, newUser("erin"))
	join(t, w.b, w.team.GetId(), erin.GetId())
	if _, err := w.b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: erin.GetId()}); err != nil {
		t.Fatal(err)
	}
	dm, err := w.b.GetDirectChannel(ctx, &pluginpb.GetDirectChannelRequest{UserId_1: w.alice.GetId(), UserId_2: w.bob.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, channelID, userID, asUserID string
		id                                string
		status                            int
	}{
		// AddUserToChannel: the team member is looked up first.
		{"not in the team", c.GetId(), w.carol.GetId(), "", "app.team.get_member.missing.app_error", http.StatusNotFound},
		{"left the team", c.GetId(), dave.GetId(), "", "api.channel.add_user.to.channel.failed.deleted.app_error", http.StatusBadRequest},
		// AddChannelMember: a deactivated user, before any team check.
		{"deactivated", c.GetId(), erin.GetId(), "", "app.channel.add_member.deleted_user.app_error", http.StatusForbidden},
		{"deactivated, as a user", c.GetId(), erin.GetId(), w.bob.GetId(), "app.channel.add_member.deleted_user.app_error", http.StatusForbidden},
		// The requestor is looked up after the user.
		{"unknown requestor", c.GetId(), w.alice.GetId(), newID(), "app.user.missing_account.const", http.StatusNotFound},
		// A direct message has no team: the team check answers first.
		{"direct message", dm.GetChannel().GetId(), w.carol.GetId(), "", "app.team.get_member.missing.app_error", http.StatusNotFound},
	}
	for _, tt := range tests {
		var err error
		if tt.asUserID == "" {
			_, err = w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: tt.channelID, UserId: tt.userID})
		} else {
			_, err = w.b.AddUserToChannel(ctx, &pluginpb.AddUserToChannelRequest{ChannelId: tt.channelID, UserId: tt.userID, AsUserId: tt.asUserID})
		}
		wantAppErrorID(t, tt.name, err, tt.id, tt.status)
	}

	// An existing member is returned before any check, even with an
	// unknown requestor.
	if _, err := w.b.AddUserToChannel(ctx, &pluginpb.AddUserToChannelRequest{ChannelId: dm.GetChannel().GetId(), UserId: w.alice.GetId(), AsUserId: newID()}); err != nil {
		t.Errorf("AddUserToChannel(existing member, unknown requestor) = %v; want the membership", err)
	}

	// addUserToChannel has no archived-channel check: the plugin path adds
	// a member to an archived channel.
	if _, err := w.b.DeleteChannel(ctx, &pluginpb.DeleteChannelRequest{ChannelId: c.GetId()}); err != nil {
		t.Fatal(err)
	}
	m, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: c.GetId(), UserId: w.alice.GetId()})
	if err != nil || m.GetChannelMember().GetUserId() != w.alice.GetId() {
		t.Errorf("AddChannelMember(archived channel) = %v, %v; want the new membership", m, err)
	}
}

// actorHooks records the actor of each membership hook, by hook name.
type actorHooks struct {
	NoHooks
	mu     sync.Mutex
	actors map[string][]string // hook -> actor ids ("" for none)
}

func (h *actorHooks) record(hook string, actor *pluginpb.User) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.actors == nil {
		h.actors = map[string][]string{}
	}
	h.actors[hook] = append(h.actors[hook], actor.GetId())
}

func (h *actorHooks) got(hook string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.actors[hook]...)
}

func (h *actorHooks) UserHasJoinedChannel(_ context.Context, _ *pluginpb.ChannelMember, actor *pluginpb.User) {
	h.record("UserHasJoinedChannel", actor)
}

func (h *actorHooks) UserHasLeftChannel(_ context.Context, _ *pluginpb.ChannelMember, actor *pluginpb.User) {
	h.record("UserHasLeftChannel", actor)
}

func (h *actorHooks) UserHasJoinedTeam(_ context.Context, _ *pluginpb.TeamMember, actor *pluginpb.User) {
	h.record("UserHasJoinedTeam", actor)
}

// TestUserHasJoinedChannelActor checks the actor that UserHasJoinedChannel
// gets: none after AddChannelMember, whose plugin API passes no requestor
// (server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace
// AddChannelMember), and the requestor after AddUserToChannel; the app
// layer passes its userRequestor, nil without one
// (server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1
// AddChannelMember).
func TestUserHasJoinedChannelActor(t *testing.T) {
	w := newWorld(t)
	h := &actorHooks{}
	w.b.hooks = h
	ctx := context.Background()
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "dev", DisplayName: "Dev"})
	if _, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: c.GetId(), UserId: w.alice.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.b.AddUserToChannel(ctx, &pluginpb.AddUserToChannelRequest{ChannelId: c.GetId(), UserId: w.bob.GetId(), AsUserId: w.alice.GetId()}); err != nil {
		t.Fatal(err)
	}
	got := h.got("UserHasJoinedChannel")
	if len(got) != 2 || got[0] != "" || got[1] != w.alice.GetId() {
		t.Errorf("UserHasJoinedChannel actors = %q; want none, then alice (%s)", got, w.alice.GetId())
	}
}

// TestTeamJoinFiresNoChannelJoins follows App.JoinDefaultChannels
// (server/channels/app/channel.go@a63955a2dd2844a2f47afb389bd5e952e83dc5b0),
// which saves the default channels' members with the channel store's
// SaveMember and fires no UserHasJoinedChannel: joining a team runs
// UserHasJoinedTeam only, though the user is then in town-square and
// off-topic.
func TestTeamJoinFiresNoChannelJoins(t *testing.T) {
	w := newWorld(t)
	h := &actorHooks{}
	w.b.hooks = h
	ctx := context.Background()
	if _, err := w.b.CreateTeamMember(ctx, &pluginpb.CreateTeamMemberRequest{TeamId: w.team.GetId(), UserId: w.carol.GetId()}); err != nil {
		t.Fatal(err)
	}
	if got := h.got("UserHasJoinedTeam"); len(got) != 1 {
		t.Errorf("UserHasJoinedTeam ran %d times; want once", len(got))
	}
	if got := h.got("UserHasJoinedChannel"); len(got) != 0 {
		t.Errorf("UserHasJoinedChannel ran %d times after a team join; want never", len(got))
	}
	for _, name := range []string{townSquare, offTopic} {
		c, err := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.b.GetChannelMember(ctx, &pluginpb.GetChannelMemberRequest{ChannelId: c.GetChannel().GetId(), UserId: w.carol.GetId()}); err != nil {
			t.Errorf("GetChannelMember(%s, carol) = %v; want the default channel's member", name, err)
		}
	}
}

// TestUserHasLeftChannelActor follows the plugin API's DeleteChannelMember,
// which is App.LeaveChannel (server/channels/app/plugin_api.go, the same in
// every stored version), and LeaveChannel, which calls
// removeUserFromChannel(c, userID, userID, channel); removeUserFromChannel
// passes the remover, looked up, as UserHasLeftChannel's actor
// (server/channels/app/channel.go@a63955a2dd2844a2f47afb389bd5e952e83dc5b0
// LeaveChannel, removeUserFromChannel). The user who leaves is the actor.
func TestUserHasLeftChannelActor(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := createChannel(t, w.b, &pluginpb.Channel{TeamId: w.team.GetId(), Type: channelOpen, Name: "dev", DisplayName: "Dev"})
	if _, err := w.b.AddChannelMember(ctx, &pluginpb.AddChannelMemberRequest{ChannelId: c.GetId(), UserId: w.bob.GetId()}); err != nil {
		t.Fatal(err)
	}
	h := &actorHooks{}
	w.b.hooks = h
	if _, err := w.b.DeleteChannelMember(ctx, &pluginpb.DeleteChannelMemberRequest{ChannelId: c.GetId(), UserId: w.bob.GetId()}); err != nil {
		t.Fatal(err)
	}
	if got := h.got("UserHasLeftChannel"); len(got) != 1 || got[0] != w.bob.GetId() {
		t.Errorf("UserHasLeftChannel actors = %q; want bob (%s), who left", got, w.bob.GetId())
	}
}

// TestUpdateChannelMemberRolesFollowsTheAppLayer checks
// UpdateChannelMemberRoles against App.updateChannelMemberRolesInternal,
// which upstream's plugin API reaches through App.UpdateChannelMemberRoles
// (server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1,
// server/channels/app/plugin_api.go@f56166d6baa65d91684ba3b6455b65feef3ceace):
// the membership is looked up first, so an unknown channel or user is a
// membership not found, and new roles with neither channel_user nor
// channel_guest are refused with unset_user_scheme.
func TestUpdateChannelMemberRolesFollowsTheAppLayer(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	town, err := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: townSquare})
	if err != nil {
		t.Fatal(err)
	}
	const missing = "app.channel.get_member.missing.app_error"
	tests := []struct {
		name                     string
		channelID, userID, roles string
		id                       string
		status                   int
	}{
		{"unknown channel", newID(), w.alice.GetId(), roleChannelUser, missing, http.StatusNotFound},
		{"unknown user", town.GetChannel().GetId(), newID(), roleChannelUser, missing, http.StatusNotFound},
		{"admin only", town.GetChannel().GetId(), w.alice.GetId(), roleChannelAdmin,
			"api.channel.update_channel_member_roles.unset_user_scheme.app_error", http.StatusBadRequest},
		{"no roles", town.GetChannel().GetId(), w.alice.GetId(), "",
			"api.channel.update_channel_member_roles.unset_user_scheme.app_error", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.b.UpdateChannelMemberRoles(ctx, &pluginpb.UpdateChannelMemberRolesRequest{
				ChannelId: tt.channelID, UserId: tt.userID, NewRoles: tt.roles,
			})
			wantAppErrorID(t, "UpdateChannelMemberRoles("+tt.name+")", err, tt.id, tt.status)
		})
	}
	m, err := w.b.UpdateChannelMemberRoles(ctx, &pluginpb.UpdateChannelMemberRolesRequest{
		ChannelId: town.GetChannel().GetId(), UserId: w.alice.GetId(), NewRoles: roleChannelUser + " " + roleChannelAdmin,
	})
	if err != nil || !m.GetChannelMember().GetSchemeAdmin() || !m.GetChannelMember().GetSchemeUser() {
		t.Errorf("UpdateChannelMemberRoles(user and admin) = %v, %v; want both scheme flags", m, err)
	}
}

// TestUpdateChannelMemberNotificationsFollowsTheAppLayer checks
// UpdateChannelMemberNotifications against App.UpdateChannelMemberNotifyProps
// (server/channels/app/channel.go@003a6338e610a19a11c49c3da64832306033b4c1),
// which keeps only the known notify props, and the store's
// UpdateMemberNotifyProps
// (server/channels/store/sqlstore/channel_store.go@003a6338e610a19a11c49c3da64832306033b4c1),
// which merges them with no check of their values and no channel lookup:
// a missing membership is MissingChannelMemberError (404).
func TestUpdateChannelMemberNotificationsFollowsTheAppLayer(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	town, err := w.b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: townSquare})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := w.b.UpdateChannelMemberNotifications(ctx, &pluginpb.UpdateChannelMemberNotificationsRequest{
		ChannelId: town.GetChannel().GetId(), UserId: w.alice.GetId(),
		Notifications: map[string]string{"desktop": "loud", "desktop_sound": "true", "color": "red"},
	})
	if err != nil {
		t.Fatalf("UpdateChannelMemberNotifications = %v", err)
	}
	props := resp.GetChannelMember().GetNotifyProps()
	if props["desktop"] != "loud" || props["desktop_sound"] != "true" || props["push"] != "default" {
		t.Errorf("notify props = %v; want desktop loud, desktop_sound true, the rest kept", props)
	}
	if _, ok := props["color"]; ok {
		t.Errorf("notify props = %v; want the unknown key dropped", props)
	}
	_, err = w.b.UpdateChannelMemberNotifications(ctx, &pluginpb.UpdateChannelMemberNotificationsRequest{
		ChannelId: newID(), UserId: w.alice.GetId(), Notifications: map[string]string{"desktop": "all"},
	})
	wantAppErrorID(t, "UpdateChannelMemberNotifications(unknown channel)", err, "app.channel.get_member.missing.app_error", http.StatusNotFound)
}
