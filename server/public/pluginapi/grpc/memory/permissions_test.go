package memory

import (
	"context"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestPermissionsFallBack checks the order of the permission checks, as
// server/channels/app/authorization.go@01357633 has it: a channel's roles,
// then its team's, then the system roles; empty ids are no, and an ended
// membership grants nothing.
func TestPermissionsFallBack(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t) // alice, the first user, is the system admin
	b := w.b
	townSquare, err := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: w.team.GetId(), Name: "town-square"})
	if err != nil {
		t.Fatal(err)
	}
	channel := townSquare.GetChannel().GetId()
	dave := create(t, b, newUser("dave"))
	join(t, b, w.team.GetId(), dave.GetId())
	if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: w.team.GetId(), UserId: dave.GetId()}); err != nil {
		t.Fatal(err)
	}
	perm := func(id string) *pluginpb.Permission { return &pluginpb.Permission{Id: id} }

	system := []struct {
		name, user, permission string
		want                   bool
	}{
		{"system_user grants", w.bob.GetId(), "create_team", true},
		{"system_user lacks", w.bob.GetId(), "manage_system", false},
		{"system_admin grants all", w.alice.GetId(), "manage_system", true},
		{"unknown user", newID(), "create_team", false},
		{"empty permission", w.bob.GetId(), "", false},
		{"team role is not a system role", w.bob.GetId(), "view_team", false},
	}
	for _, tt := range system {
		t.Run("system/"+tt.name, func(t *testing.T) {
			resp, err := b.HasPermissionTo(ctx, &pluginpb.HasPermissionToRequest{UserId: tt.user, Permission: perm(tt.permission)})
			if err != nil || resp.GetHasPermission() != tt.want {
				t.Errorf("HasPermissionTo(%s) = %v, %v; want %v", tt.permission, resp.GetHasPermission(), err, tt.want)
			}
		})
	}

	team := []struct {
		name, user, team, permission string
		want                         bool
	}{
		{"team_user grants", w.bob.GetId(), w.team.GetId(), "view_team", true},
		{"not a member", w.carol.GetId(), w.team.GetId(), "view_team", false},
		{"system roles after the team's", w.carol.GetId(), w.team.GetId(), "create_team", true},
		{"ended membership", dave.GetId(), w.team.GetId(), "view_team", false},
		{"empty team", w.bob.GetId(), "", "create_team", false},
		{"empty user", "", w.team.GetId(), "view_team", false},
		{"unknown team", w.bob.GetId(), newID(), "create_team", true},
	}
	for _, tt := range team {
		t.Run("team/"+tt.name, func(t *testing.T) {
			resp, err := b.HasPermissionToTeam(ctx, &pluginpb.HasPermissionToTeamRequest{UserId: tt.user, TeamId: tt.team, Permission: perm(tt.permission)})
			if err != nil || resp.GetHasPermission() != tt.want {
				t.Errorf("HasPermissionToTeam(%s) = %v, %v; want %v", tt.permission, resp.GetHasPermission(), err, tt.want)
			}
		})
	}

	channels := []struct {
		name, user, channel, permission string
		want                            bool
	}{
		{"channel_user grants", w.bob.GetId(), channel, "create_post", true},
		{"team roles after the channel's", w.bob.GetId(), channel, "add_user_to_team", true},
		{"system roles after the team's", w.bob.GetId(), channel, "create_team", true},
		{"not a member", w.carol.GetId(), channel, "create_post", false},
		{"unknown channel: system roles", w.bob.GetId(), newID(), "create_team", true},
		{"unknown channel: no team roles", w.bob.GetId(), newID(), "view_team", false},
		{"empty channel", w.bob.GetId(), "", "create_team", false},
		{"empty user", "", channel, "create_post", false},
	}
	for _, tt := range channels {
		t.Run("channel/"+tt.name, func(t *testing.T) {
			resp, err := b.HasPermissionToChannel(ctx, &pluginpb.HasPermissionToChannelRequest{UserId: tt.user, ChannelId: tt.channel, Permission: perm(tt.permission)})
			if err != nil || resp.GetHasPermission() != tt.want {
				t.Errorf("HasPermissionToChannel(%s) = %v, %v; want %v", tt.permission, resp.GetHasPermission(), err, tt.want)
			}
		})
	}
}
