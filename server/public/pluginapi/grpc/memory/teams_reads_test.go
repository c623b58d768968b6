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
