package memory

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestTeamReadsFollowTheStore checks the team reads whose answer upstream's
// store decides, with no lookup and no id check of the app layer:
// server/channels/store/sqlstore/team_store.go@009fc71d (SqlTeamStore.GetMember,
// GetMembers, GetTeamsByUserId, GetTeamsForUserWithPagination,
// GetTotalMemberCount, GetActiveMemberCount, SearchAll) behind
// server/channels/app/team.go@00e25d39 (App.GetTeamStats and the others).
func TestTeamReadsFollowTheStore(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	core := createTeam(t, b, &pluginpb.Team{Name: "core", DisplayName: "Core", Type: teamTypeOpen})
	old := createTeam(t, b, &pluginpb.Team{Name: "oldies", DisplayName: "Old core", Type: teamTypeOpen})
	alice := create(t, b, newUser("alice"))
	join(t, b, core.GetId(), alice.GetId())
	join(t, b, old.GetId(), alice.GetId())
	clock.Advance(time.Second)
	if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: old.GetId(), UserId: alice.GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DeleteTeam(ctx, &pluginpb.DeleteTeamRequest{TeamId: old.GetId()}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() (any, error)
		want string
	}{
		{"stats of an unknown team are zero", func() (any, error) {
			r, err := b.GetTeamStats(ctx, &pluginpb.GetTeamStatsRequest{TeamId: newID()})
			return fmt.Sprint(r.GetTeamStats().GetTotalMemberCount(), r.GetTeamStats().GetActiveMemberCount()), err
		}, "0 0"},
		{"an unknown team has no members", func() (any, error) {
			r, err := b.GetTeamMembers(ctx, &pluginpb.GetTeamMembersRequest{TeamId: newID(), PerPage: 10})
			return len(r.GetTeamMembers()), err
		}, "0"},
		{"per_page 0 is an empty page", func() (any, error) {
			r, err := b.GetTeamMembers(ctx, &pluginpb.GetTeamMembersRequest{TeamId: core.GetId()})
			return len(r.GetTeamMembers()), err
		}, "0"},
		{"a user's memberships include past ones", func() (any, error) {
			r, err := b.GetTeamMembersForUser(ctx, &pluginpb.GetTeamMembersForUserRequest{UserId: alice.GetId(), PerPage: 10})
			return len(r.GetTeamMembers()), err
		}, "2"},
		{"a malformed user has no memberships", func() (any, error) {
			r, err := b.GetTeamMembersForUser(ctx, &pluginpb.GetTeamMembersForUserRequest{UserId: "bad", PerPage: 10})
			return len(r.GetTeamMembers()), err
		}, "0"},
		{"a malformed user has no teams", func() (any, error) {
			r, err := b.GetTeamsForUser(ctx, &pluginpb.GetTeamsForUserRequest{UserId: "bad"})
			return len(r.GetTeams()), err
		}, "0"},
		{"search matches inside names, any case, archived teams included", func() (any, error) {
			r, err := b.SearchTeams(ctx, &pluginpb.SearchTeamsRequest{Term: "CORE"})
			var names []string
			for _, t := range r.GetTeams() {
				names = append(names, t.GetName())
			}
			return names, err
		}, "[core oldies]"},
		{"an empty search term matches every team", func() (any, error) {
			r, err := b.SearchTeams(ctx, &pluginpb.SearchTeamsRequest{})
			return len(r.GetTeams()), err
		}, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil || fmt.Sprint(got) != tt.want {
				t.Errorf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
	_, err := b.GetTeamMember(ctx, &pluginpb.GetTeamMemberRequest{TeamId: "bad", UserId: alice.GetId()})
	wantAppErrorID(t, "GetTeamMember(malformed team id)", err, "app.team.get_member.missing.app_error", http.StatusNotFound)
}

// TestTeamWritesFollowTheAppLayer checks the team writes against
// server/channels/app/team.go@00e25d39 (App.CreateTeam, App.SoftDeleteTeam,
// App.RemoveTeamIcon, App.LeaveTeam, App.AddTeamMembers),
// server/channels/app/teams/teams.go@0985ce2c (TeamService.CreateTeam) and
// server/channels/store/sqlstore/team_store.go@009fc71d (SqlTeamStore.Save).
func TestTeamWritesFollowTheAppLayer(t *testing.T) {
	hooks := &recordingHooks{}
	clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
	b := New(WithHooks(hooks), Clock(clock.Now))
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	alice := create(t, b, newUser("alice"))

	t.Run("CreateTeam with an id", func(t *testing.T) {
		_, err := b.CreateTeam(ctx, &pluginpb.CreateTeamRequest{Team: &pluginpb.Team{Id: newID(), Name: "ab", DisplayName: "A", Type: teamTypeOpen}})
		wantAppErrorID(t, "CreateTeam", err, "app.team.save.existing.app_error", http.StatusBadRequest)
	})
	t.Run("CreateTeam makes a new invite id", func(t *testing.T) {
		given := newID()
		got := createTeam(t, b, &pluginpb.Team{Name: "invited", DisplayName: "I", Type: teamTypeOpen, InviteId: given})
		if got.GetInviteId() == given || !isValidID(got.GetInviteId()) {
			t.Errorf("invite id = %q; want a new id, not %q", got.GetInviteId(), given)
		}
	})
	t.Run("DeleteTeam archives an archived team again", func(t *testing.T) {
		gone := createTeam(t, b, newTeam("gone"))
		for range 2 {
			clock.Advance(time.Second)
			if _, err := b.DeleteTeam(ctx, &pluginpb.DeleteTeamRequest{TeamId: gone.GetId()}); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := b.GetTeam(ctx, &pluginpb.GetTeamRequest{TeamId: gone.GetId()})
		if got.GetTeam().GetDeleteAt() != clock.Now().UnixMilli() {
			t.Errorf("delete_at = %d; want the second archiving's %d", got.GetTeam().GetDeleteAt(), clock.Now().UnixMilli())
		}
	})
	t.Run("RemoveTeamIcon keeps the icon", func(t *testing.T) {
		if _, err := b.SetTeamIcon(ctx, &pluginpb.SetTeamIconRequest{TeamId: team.GetId(), Data: pngImage(t, 8, 8)}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.RemoveTeamIcon(ctx, &pluginpb.RemoveTeamIconRequest{TeamId: team.GetId()}); err != nil {
			t.Fatal(err)
		}
		got, _ := b.GetTeam(ctx, &pluginpb.GetTeamRequest{TeamId: team.GetId()})
		icon, err := b.GetTeamIcon(ctx, &pluginpb.GetTeamIconRequest{TeamId: team.GetId()})
		if got.GetTeam().GetLastTeamIconUpdate() != 0 || err != nil || len(icon.GetData()) == 0 {
			t.Errorf("after RemoveTeamIcon: last_team_icon_update %d, icon %d bytes, %v; want 0 and the icon kept",
				got.GetTeam().GetLastTeamIconUpdate(), len(icon.GetData()), err)
		}
	})
	t.Run("DeleteTeamMember removes a past member again", func(t *testing.T) {
		join(t, b, team.GetId(), alice.GetId())
		for range 2 {
			clock.Advance(time.Second)
			if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: team.GetId(), UserId: alice.GetId()}); err != nil {
				t.Fatal(err)
			}
		}
		m, _ := b.GetTeamMember(ctx, &pluginpb.GetTeamMemberRequest{TeamId: team.GetId(), UserId: alice.GetId()})
		if m.GetTeamMember().GetDeleteAt() != clock.Now().UnixMilli() {
			t.Errorf("delete_at = %d; want the second removal's", m.GetTeamMember().GetDeleteAt())
		}
		want := fmt.Sprint([]string{"left:" + alice.GetId(), "left:" + alice.GetId()})
		if got := fmt.Sprint(hooks.events[len(hooks.events)-2:]); got != want {
			t.Errorf("last hook events = %v; want UserHasLeftTeam twice", got)
		}
	})
	t.Run("CreateTeamMembersGracefully with an unknown team", func(t *testing.T) {
		resp, err := b.CreateTeamMembersGracefully(ctx, &pluginpb.CreateTeamMembersGracefullyRequest{TeamId: newID(), UserIds: []string{alice.GetId()}})
		if err != nil || len(resp.GetTeamMembers()) != 1 || resp.GetTeamMembers()[0].GetError().GetId() != "app.team.get.find.app_error" {
			t.Errorf("CreateTeamMembersGracefully = %v, %v; want the user's app.team.get.find.app_error", resp, err)
		}
	})
}

// TestTeamsUnreadFollowTheStore checks GetTeamsUnreadForUser against
// server/channels/app/team.go@00e25d39 (App.GetTeamsUnreadForUser) and
// server/channels/store/sqlstore/team_store.go@009fc71d
// (SqlTeamStore.GetChannelUnreadsForAllTeams): no user lookup, the teams
// of the user's channel memberships, and no message count for a channel
// whose mark_unread is "mention".
func TestTeamsUnreadFollowTheStore(t *testing.T) {
	w := newPostWorld(t)
	ctx := context.Background()
	unread, err := w.b.GetTeamsUnreadForUser(ctx, &pluginpb.GetTeamsUnreadForUserRequest{UserId: newID()})
	if err != nil || len(unread.GetTeamUnreads()) != 0 {
		t.Fatalf("GetTeamsUnreadForUser(unknown) = %v, %v; want none", unread, err)
	}
	w.post(t, w.bob, "one", "")
	w.post(t, w.bob, "two", "")
	count := func() int64 {
		t.Helper()
		r, err := w.b.GetTeamsUnreadForUser(ctx, &pluginpb.GetTeamsUnreadForUserRequest{UserId: w.alice.GetId()})
		if err != nil || len(r.GetTeamUnreads()) != 1 {
			t.Fatalf("GetTeamsUnreadForUser(alice) = %v, %v; want one team", r, err)
		}
		return r.GetTeamUnreads()[0].GetMsgCount()
	}
	if got := count(); got != 2 {
		t.Errorf("msg_count = %d; want 2", got)
	}
	if _, err := w.b.UpdateChannelMemberNotifications(ctx, &pluginpb.UpdateChannelMemberNotificationsRequest{
		ChannelId: w.town.GetId(), UserId: w.alice.GetId(), Notifications: map[string]string{"mark_unread": "mention"},
	}); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 0 {
		t.Errorf("msg_count with mark_unread=mention = %d; want 0", got)
	}
}
