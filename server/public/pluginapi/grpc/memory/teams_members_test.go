package memory

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestTeamJoinsFollowTheAppLayer checks the joins of CreateTeamMember
// against server/channels/app/team.go@00e25d39 (App.AddUserToTeam,
// App.JoinUserToTeam), server/channels/app/teams/teams.go@0985ce2c
// (TeamService.JoinUserToTeam),
// server/channels/store/sqlstore/team_store.go@009fc71d
// (SqlTeamStore.Get, SaveMultipleMembers, GetActiveMemberCount) and
// server/channels/app/channel.go@003a6338 (App.JoinDefaultChannels).
func TestTeamJoinsFollowTheAppLayer(t *testing.T) {
	ctx := context.Background()
	leave := func(t *testing.T, b *Backend, teamID, userID string) {
		t.Helper()
		if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: teamID, UserId: userID}); err != nil {
			t.Fatal(err)
		}
	}
	townMember := func(b *Backend, teamID, userID string) (*pluginpb.ChannelMember, error) {
		town, err := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: teamID, Name: townSquare})
		if err != nil {
			return nil, err
		}
		m, err := b.GetChannelMember(ctx, &pluginpb.GetChannelMemberRequest{ChannelId: town.GetChannel().GetId(), UserId: userID})
		return m.GetChannelMember(), err
	}

	t.Run("a malformed team id is not found", func(t *testing.T) {
		b, _ := newTestBackend(t)
		alice := create(t, b, newUser("alice"))
		_, err := b.GetTeam(ctx, &pluginpb.GetTeamRequest{TeamId: "not-an-id"})
		wantAppErrorID(t, "GetTeam", err, "app.team.get.find.app_error", http.StatusNotFound)
		_, err = b.CreateTeamMember(ctx, &pluginpb.CreateTeamMemberRequest{TeamId: "not-an-id", UserId: alice.GetId()})
		wantAppErrorID(t, "CreateTeamMember", err, "app.team.get.find.app_error", http.StatusNotFound)
	})
	t.Run("a malformed user id is a missing account", func(t *testing.T) {
		b, _ := newTestBackend(t)
		team := createTeam(t, b, newTeam("core"))
		_, err := b.CreateTeamMember(ctx, &pluginpb.CreateTeamMemberRequest{TeamId: team.GetId(), UserId: "nope"})
		wantAppErrorID(t, "CreateTeamMember", err, "app.user.missing_account.const", http.StatusNotFound)
	})
	t.Run("a new member over the limit is the store's refusal", func(t *testing.T) {
		b := New(MaxUsersPerTeam(1))
		team := createTeam(t, b, newTeam("core"))
		join(t, b, team.GetId(), create(t, b, newUser("alice")).GetId())
		_, err := b.CreateTeamMember(ctx, &pluginpb.CreateTeamMemberRequest{TeamId: team.GetId(), UserId: create(t, b, newUser("bob")).GetId()})
		wantAppErrorID(t, "CreateTeamMember", err, "app.team.join_user_to_team.save_member.max_accounts.app_error", http.StatusBadRequest)
	})
	t.Run("a past member over the limit is JoinUserToTeam's refusal", func(t *testing.T) {
		b := New(MaxUsersPerTeam(1))
		team := createTeam(t, b, newTeam("core"))
		alice := create(t, b, newUser("alice"))
		join(t, b, team.GetId(), alice.GetId())
		leave(t, b, team.GetId(), alice.GetId())
		join(t, b, team.GetId(), create(t, b, newUser("bob")).GetId())
		_, err := b.CreateTeamMember(ctx, &pluginpb.CreateTeamMemberRequest{TeamId: team.GetId(), UserId: alice.GetId()})
		wantAppErrorID(t, "CreateTeamMember", err, "app.team.join_user_to_team.max_accounts.app_error", http.StatusBadRequest)
	})
	t.Run("deactivated members do not count", func(t *testing.T) {
		b := New(MaxUsersPerTeam(1))
		team := createTeam(t, b, newTeam("core"))
		alice := create(t, b, newUser("alice"))
		join(t, b, team.GetId(), alice.GetId())
		if _, err := b.UpdateUserActive(ctx, &pluginpb.UpdateUserActiveRequest{UserId: alice.GetId(), Active: false}); err != nil {
			t.Fatal(err)
		}
		join(t, b, team.GetId(), create(t, b, newUser("bob")).GetId())
	})
	t.Run("a guest joins no default channel", func(t *testing.T) {
		b, _ := newTestBackend(t)
		team := createTeam(t, b, newTeam("core"))
		guest := createGuest(t, b, "gus")
		m := join(t, b, team.GetId(), guest.GetId())
		if !m.GetSchemeGuest() || m.GetSchemeUser() {
			t.Errorf("member = %v; want a scheme guest", m)
		}
		_, err := townMember(b, team.GetId(), guest.GetId())
		wantAppError(t, "GetChannelMember(guest, town square)", err, http.StatusNotFound)
	})
	t.Run("the user whose email is the team's becomes its admin", func(t *testing.T) {
		b, _ := newTestBackend(t)
		alice := create(t, b, newUser("alice"))
		team := createTeam(t, b, &pluginpb.Team{Name: "core", DisplayName: "C", Email: alice.GetEmail()})
		m := join(t, b, team.GetId(), alice.GetId())
		cm, err := townMember(b, team.GetId(), alice.GetId())
		if !m.GetSchemeAdmin() || err != nil || !cm.GetSchemeAdmin() {
			t.Errorf("member %v, town square member %v, %v; want admins of both", m, cm, err)
		}
	})
	t.Run("the email domain is checked before the membership", func(t *testing.T) {
		b, _ := newTestBackend(t)
		team := createTeam(t, b, newTeam("core"))
		alice := create(t, b, newUser("alice"))
		join(t, b, team.GetId(), alice.GetId())
		team.AllowedDomains = "corp.example"
		if _, err := b.UpdateTeam(ctx, &pluginpb.UpdateTeamRequest{Team: team}); err != nil {
			t.Fatal(err)
		}
		_, err := b.CreateTeamMember(ctx, &pluginpb.CreateTeamMemberRequest{TeamId: team.GetId(), UserId: alice.GetId()})
		wantAppErrorID(t, "CreateTeamMember(current member)", err, "api.team.join_user_to_team.allowed_domains.app_error", http.StatusBadRequest)
	})
	t.Run("a rejoin is a new membership", func(t *testing.T) {
		b, clock := newTestBackend(t)
		team := createTeam(t, b, newTeam("core"))
		alice := create(t, b, newUser("alice"))
		join(t, b, team.GetId(), alice.GetId())
		if _, err := b.UpdateTeamMemberRoles(ctx, &pluginpb.UpdateTeamMemberRolesRequest{TeamId: team.GetId(), UserId: alice.GetId(), NewRoles: "team_user team_admin"}); err != nil {
			t.Fatal(err)
		}
		leave(t, b, team.GetId(), alice.GetId())
		clock.Advance(time.Second)
		m := join(t, b, team.GetId(), alice.GetId())
		if m.GetSchemeAdmin() || m.GetCreateAt() != clock.Now().UnixMilli() {
			t.Errorf("rejoined = %v; want a plain member made now", m)
		}
	})
}

// TestTeamJoinAdminGroups checks who joins a team as its admin through a
// group, as server/channels/app/teams/teams.go@0985ce2c:TeamService.JoinUserToTeam
// asks teams/utils.go@86b60aad:TeamService.userIsInAdminRoleGroup, which
// reads server/channels/store/sqlstore/group_store.go@02fd7885:SqlGroupStore.AdminRoleGroupsForSyncableMember:
// a user who is not a guest is an admin when a current membership of a
// group meets a live team link with scheme_admin. The default channels
// keep the email rule of App.JoinUserToTeam (team.go@00e25d39).
func TestTeamJoinAdminGroups(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// arrange links the group to the team (or not) and returns the
		// user who joins.
		arrange func(t *testing.T, b *Backend, team, other *pluginpb.Team, g *pluginpb.Group) *pluginpb.User
		admin   bool
	}{
		{"a member of an admin group", func(t *testing.T, b *Backend, team, _ *pluginpb.Team, g *pluginpb.Group) *pluginpb.User {
			u := create(t, b, newUser("alice"))
			addToGroup(t, b, g.GetId(), u.GetId())
			adminLink(t, b, g.GetId(), team.GetId(), true)
			return u
		}, true},
		{"a link without scheme_admin", func(t *testing.T, b *Backend, team, _ *pluginpb.Team, g *pluginpb.Group) *pluginpb.User {
			u := create(t, b, newUser("alice"))
			addToGroup(t, b, g.GetId(), u.GetId())
			adminLink(t, b, g.GetId(), team.GetId(), false)
			return u
		}, false},
		{"an admin link to another team", func(t *testing.T, b *Backend, _, other *pluginpb.Team, g *pluginpb.Group) *pluginpb.User {
			u := create(t, b, newUser("alice"))
			addToGroup(t, b, g.GetId(), u.GetId())
			adminLink(t, b, g.GetId(), other.GetId(), true)
			return u
		}, false},
		{"a past member of the group", func(t *testing.T, b *Backend, team, _ *pluginpb.Team, g *pluginpb.Group) *pluginpb.User {
			u := create(t, b, newUser("alice"))
			addToGroup(t, b, g.GetId(), u.GetId())
			adminLink(t, b, g.GetId(), team.GetId(), true)
			if _, err := b.DeleteGroupMember(ctx, &pluginpb.DeleteGroupMemberRequest{GroupId: g.GetId(), UserId: u.GetId()}); err != nil {
				t.Fatal(err)
			}
			return u
		}, false},
		{"a deleted link", func(t *testing.T, b *Backend, team, _ *pluginpb.Team, g *pluginpb.Group) *pluginpb.User {
			u := create(t, b, newUser("alice"))
			addToGroup(t, b, g.GetId(), u.GetId())
			adminLink(t, b, g.GetId(), team.GetId(), true)
			if _, err := b.DeleteGroupSyncable(ctx, &pluginpb.DeleteGroupSyncableRequest{
				GroupId: g.GetId(), SyncableId: team.GetId(), SyncableType: syncableTeam,
			}); err != nil {
				t.Fatal(err)
			}
			return u
		}, false},
		{"a guest in an admin group", func(t *testing.T, b *Backend, team, _ *pluginpb.Team, g *pluginpb.Group) *pluginpb.User {
			u := createGuest(t, b, "gus")
			addToGroup(t, b, g.GetId(), u.GetId())
			adminLink(t, b, g.GetId(), team.GetId(), true)
			return u
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			team := createTeam(t, b, newTeam("core"))
			other := createTeam(t, b, newTeam("other"))
			g := createGroup(t, b, customGroup("admins"))
			u := tt.arrange(t, b, team, other, g)
			m := join(t, b, team.GetId(), u.GetId())
			if m.GetSchemeAdmin() != tt.admin {
				t.Errorf("scheme_admin = %v; want %v", m.GetSchemeAdmin(), tt.admin)
			}
			if tt.admin && !strings.Contains(m.GetRoles(), "team_admin") {
				t.Errorf("roles = %q; want team_admin", m.GetRoles())
			}
			town, err := b.GetChannelByName(ctx, &pluginpb.GetChannelByNameRequest{TeamId: team.GetId(), Name: townSquare})
			if err != nil {
				t.Fatal(err)
			}
			cm, err := b.GetChannelMember(ctx, &pluginpb.GetChannelMemberRequest{ChannelId: town.GetChannel().GetId(), UserId: u.GetId()})
			if err == nil && cm.GetChannelMember().GetSchemeAdmin() {
				t.Errorf("town square member = %v; want no channel admin (the email rule only)", cm.GetChannelMember())
			}
		})
	}

	t.Run("a rejoin asks the groups again", func(t *testing.T) {
		b, _ := newTestBackend(t)
		team := createTeam(t, b, newTeam("core"))
		g := createGroup(t, b, customGroup("admins"))
		u := create(t, b, newUser("alice"))
		join(t, b, team.GetId(), u.GetId())
		if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: team.GetId(), UserId: u.GetId()}); err != nil {
			t.Fatal(err)
		}
		addToGroup(t, b, g.GetId(), u.GetId())
		adminLink(t, b, g.GetId(), team.GetId(), true)
		if m := join(t, b, team.GetId(), u.GetId()); !m.GetSchemeAdmin() {
			t.Errorf("rejoined = %v; want a team admin", m)
		}
	})
}

// createGuest creates a user and makes it a guest: App.CreateUser sets
// the roles of a new user itself, so the guest role comes after. The
// first user may be made the system admin, who cannot lose the role, so
// another user is made first.
func createGuest(t *testing.T, b *Backend, name string) *pluginpb.User {
	t.Helper()
	create(t, b, newUser(name+"-admin"))
	u := create(t, b, newUser(name))
	resp, err := b.UpdateUserRoles(context.Background(), &pluginpb.UpdateUserRolesRequest{UserId: u.GetId(), NewRoles: "system_guest"})
	if err != nil {
		t.Fatalf("UpdateUserRoles(system_guest) = %v", err)
	}
	return resp.GetUser()
}

// adminLink links a group to a team, with or without scheme_admin.
func adminLink(t *testing.T, b *Backend, groupID, teamID string, admin bool) {
	t.Helper()
	if _, err := b.UpsertGroupSyncable(context.Background(), &pluginpb.UpsertGroupSyncableRequest{GroupSyncable: &pluginpb.GroupSyncable{
		GroupId: groupID, SyncableId: teamID, Type: syncableTeam, SchemeAdmin: admin,
	}}); err != nil {
		t.Fatalf("UpsertGroupSyncable = %v", err)
	}
}

// TestUpdateTeamMemberRolesFollowsTheAppLayer checks the lookups of
// server/channels/app/team.go@00e25d39:App.UpdateTeamMemberRoles: the
// store's GetMember first, a past membership included, then App.GetTeam,
// and no user lookup; the guest flag is compared with the membership's.
func TestUpdateTeamMemberRolesFollowsTheAppLayer(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	alice := create(t, b, newUser("alice"))
	bob := create(t, b, newUser("bob"))
	join(t, b, team.GetId(), alice.GetId())
	join(t, b, team.GetId(), bob.GetId())
	if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: team.GetId(), UserId: bob.GetId()}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		teamID, userID string
		roles          string
		want           string
		id             string
		status         int
	}{
		{"no membership, unknown team", newID(), alice.GetId(), "team_user", "", "app.team.get_member.missing.app_error", http.StatusNotFound},
		{"no membership, unknown user", team.GetId(), newID(), "team_user", "", "app.team.get_member.missing.app_error", http.StatusNotFound},
		{"a past membership is updated", team.GetId(), bob.GetId(), "team_user team_admin", "team_user team_admin", "", 0},
		{"a user may not become a guest", team.GetId(), alice.GetId(), "team_guest", "", "api.channel.update_team_member_roles.changing_guest_role.app_error", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := b.UpdateTeamMemberRoles(ctx, &pluginpb.UpdateTeamMemberRolesRequest{TeamId: tt.teamID, UserId: tt.userID, NewRoles: tt.roles})
			if tt.status != 0 {
				wantAppErrorID(t, "UpdateTeamMemberRoles", err, tt.id, tt.status)
				return
			}
			if err != nil || resp.GetTeamMember().GetRoles() != tt.want {
				t.Errorf("UpdateTeamMemberRoles = %v, %v; want roles %q", resp, err, tt.want)
			}
		})
	}
}

// leaveHooks records the leave hooks it receives.
type leaveHooks struct {
	NoHooks
	events []string
}

func (h *leaveHooks) UserHasLeftChannel(_ context.Context, m *pluginpb.ChannelMember, _ *pluginpb.User) {
	h.events = append(h.events, "left channel:"+m.GetChannelId())
}

func (h *leaveHooks) UserHasLeftTeam(_ context.Context, m *pluginpb.TeamMember, _ *pluginpb.User) {
	h.events = append(h.events, "left team:"+m.GetTeamId())
}

// TestTeamLeaveFiresNoChannelLeave follows
// server/channels/app/team.go@00e25d39:App.LeaveTeam: the channel
// memberships go through the store's RemoveMember, with no
// UserHasLeftChannel; only UserHasLeftTeam runs.
func TestTeamLeaveFiresNoChannelLeave(t *testing.T) {
	hooks := &leaveHooks{}
	b := New(WithHooks(hooks))
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	alice := create(t, b, newUser("alice"))
	join(t, b, team.GetId(), alice.GetId())
	if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: team.GetId(), UserId: alice.GetId()}); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(hooks.events), fmt.Sprint([]string{"left team:" + team.GetId()}); got != want {
		t.Errorf("hooks = %v; want %v", got, want)
	}
	channels, err := b.GetChannelsForTeamForUser(ctx, &pluginpb.GetChannelsForTeamForUserRequest{TeamId: team.GetId(), UserId: alice.GetId()})
	if err == nil && len(channels.GetChannels()) != 0 {
		t.Errorf("channels after leaving = %v; want none", channels.GetChannels())
	}
}
