package memory

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

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

// TestRemoveTeamIconZeroesUpdateAt follows
// server/channels/store/sqlstore/team_store.go@009fc71d:SqlTeamStore.UpdateLastTeamIconUpdate,
// which App.RemoveTeamIcon calls with 0: update_at takes the same 0.
func TestRemoveTeamIconZeroesUpdateAt(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	if _, err := b.RemoveTeamIcon(ctx, &pluginpb.RemoveTeamIconRequest{TeamId: team.GetId()}); err != nil {
		t.Fatal(err)
	}
	got, _ := b.GetTeam(ctx, &pluginpb.GetTeamRequest{TeamId: team.GetId()})
	if got.GetTeam().GetUpdateAt() != 0 || got.GetTeam().GetLastTeamIconUpdate() != 0 {
		t.Errorf("after RemoveTeamIcon: %v; want update_at and last_team_icon_update 0", got.GetTeam())
	}
	// A later update stamps update_at again, as Team.PreUpdate does.
	clock.Advance(time.Second)
	resp, err := b.UpdateTeam(ctx, &pluginpb.UpdateTeamRequest{Team: got.GetTeam()})
	if err != nil || resp.GetTeam().GetUpdateAt() != clock.Now().UnixMilli() {
		t.Errorf("UpdateTeam after RemoveTeamIcon = %v, %v; want update_at now", resp, err)
	}
}
