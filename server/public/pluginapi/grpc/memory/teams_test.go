package memory

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

func newTeam(name string) *pluginpb.Team {
	return &pluginpb.Team{Name: name, DisplayName: strings.ToUpper(name), Type: teamTypeOpen, AllowOpenInvite: true}
}

func createTeam(t *testing.T, b *Backend, team *pluginpb.Team) *pluginpb.Team {
	t.Helper()
	resp, err := b.CreateTeam(context.Background(), &pluginpb.CreateTeamRequest{Team: team})
	if err != nil {
		t.Fatalf("CreateTeam(%s) = %v", team.GetName(), err)
	}
	return resp.GetTeam()
}

func join(t *testing.T, b *Backend, teamID, userID string) *pluginpb.TeamMember {
	t.Helper()
	resp, err := b.CreateTeamMember(context.Background(), &pluginpb.CreateTeamMemberRequest{TeamId: teamID, UserId: userID})
	if err != nil {
		t.Fatalf("CreateTeamMember = %v", err)
	}
	return resp.GetTeamMember()
}

func TestCreateTeam(t *testing.T) {
	b, clock := newTestBackend(t)
	team := createTeam(t, b, &pluginpb.Team{Name: "core", DisplayName: "Core", Type: teamTypeInvite})
	now := clock.Now().UnixMilli()
	if !isValidID(team.GetId()) || !isValidID(team.GetInviteId()) {
		t.Errorf("id, invite id = %q, %q; want ids", team.GetId(), team.GetInviteId())
	}
	if team.GetCreateAt() != now || team.GetUpdateAt() != now || team.GetAllowOpenInvite() {
		t.Errorf("team = %v; want timestamps %d and no open invite", team, now)
	}
	_, err := b.CreateTeam(context.Background(), &pluginpb.CreateTeamRequest{Team: newTeam("core")})
	wantAppError(t, "CreateTeam(duplicate name)", err, http.StatusBadRequest)
}

func TestCreateTeamInvalid(t *testing.T) {
	tests := []struct {
		name string
		team *pluginpb.Team
		id   string
	}{
		{"nil team", nil, "api.context.invalid_param.app_error"},
		{"id set", &pluginpb.Team{Id: newID(), Name: "ab", DisplayName: "A", Type: "O"}, "app.team.save.existing.app_error"},
		{"no display name", &pluginpb.Team{Name: "ab", Type: "O"}, "model.team.is_valid.name.app_error"},
		{"name too short", newTeam("a"), "model.team.is_valid.characters.app_error"},
		{"name too long", &pluginpb.Team{Name: strings.Repeat("a", 65), DisplayName: "A", Type: "O"}, "model.team.is_valid.url.app_error"},
		{"upper-case name", &pluginpb.Team{Name: "Core", DisplayName: "C", Type: "O"}, "model.team.is_valid.characters.app_error"},
		{"name ends with dash", newTeam("core-"), "model.team.is_valid.characters.app_error"},
		{"reserved prefix", newTeam("signup-team"), "model.team.is_valid.reserved.app_error"},
		{"bad email", &pluginpb.Team{Name: "ab", DisplayName: "A", Type: "O", Email: "nope"}, "model.team.is_valid.email.app_error"},
		{"long description", &pluginpb.Team{Name: "ab", DisplayName: "A", Type: "O", Description: strings.Repeat("d", 256)}, "model.team.is_valid.description.app_error"},
		{"long company", &pluginpb.Team{Name: "ab", DisplayName: "A", Type: "O", CompanyName: strings.Repeat("c", 65)}, "model.team.is_valid.company.app_error"},
		{"long domains", &pluginpb.Team{Name: "ab", DisplayName: "A", Type: "O", AllowedDomains: strings.Repeat("d", 501)}, "model.team.is_valid.domains.app_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			_, err := b.CreateTeam(context.Background(), &pluginpb.CreateTeamRequest{Team: tt.team})
			wantAppError(t, "CreateTeam", err, http.StatusBadRequest)
			if got := err.(*apperror.Error).ID; got != tt.id {
				t.Errorf("CreateTeam = %s; want id %s", got, tt.id)
			}
		})
	}
}

func TestTeamLookupsAndArchive(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	beta := createTeam(t, b, &pluginpb.Team{Name: "beta", DisplayName: "Beta", Type: "O"})
	alpha := createTeam(t, b, &pluginpb.Team{Name: "alpha", DisplayName: "Alpha", Type: "O"})
	all, err := b.GetTeams(ctx, &pluginpb.GetTeamsRequest{})
	if err != nil || len(all.GetTeams()) != 2 || all.GetTeams()[0].GetId() != alpha.GetId() {
		t.Fatalf("GetTeams = %v, %v; want alpha then beta", all, err)
	}
	byName, err := b.GetTeamByName(ctx, &pluginpb.GetTeamByNameRequest{Name: "beta"})
	if err != nil || byName.GetTeam().GetId() != beta.GetId() {
		t.Fatalf("GetTeamByName(beta) = %v, %v", byName, err)
	}
	_, err = b.GetTeamByName(ctx, &pluginpb.GetTeamByNameRequest{Name: "gamma"})
	wantAppError(t, "GetTeamByName(gamma)", err, http.StatusNotFound)
	_, err = b.GetTeam(ctx, &pluginpb.GetTeamRequest{TeamId: newID()})
	wantAppError(t, "GetTeam(unknown)", err, http.StatusNotFound)

	clock.Advance(time.Second)
	if _, err := b.DeleteTeam(ctx, &pluginpb.DeleteTeamRequest{TeamId: beta.GetId()}); err != nil {
		t.Fatal(err)
	}
	got, err := b.GetTeam(ctx, &pluginpb.GetTeamRequest{TeamId: beta.GetId()})
	if err != nil || got.GetTeam().GetDeleteAt() != clock.Now().UnixMilli() {
		t.Fatalf("GetTeam(archived) = %v, %v; want delete_at set and the team kept", got, err)
	}
	// SqlTeamStore.SearchAll has no delete_at filter
	// (server/channels/store/sqlstore/team_store.go@009fc71d).
	found, _ := b.SearchTeams(ctx, &pluginpb.SearchTeamsRequest{Term: "B"})
	if len(found.GetTeams()) != 1 || found.GetTeams()[0].GetId() != beta.GetId() {
		t.Errorf("SearchTeams(B) = %v; want the archived team found", found.GetTeams())
	}
	found, _ = b.SearchTeams(ctx, &pluginpb.SearchTeamsRequest{Term: "ALP"})
	if len(found.GetTeams()) != 1 || found.GetTeams()[0].GetId() != alpha.GetId() {
		t.Errorf("SearchTeams(ALP) = %v; want alpha", found.GetTeams())
	}
	_, err = b.DeleteTeam(ctx, &pluginpb.DeleteTeamRequest{TeamId: newID()})
	wantAppError(t, "DeleteTeam(unknown)", err, http.StatusNotFound)
}

func TestUpdateTeam(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	in := &pluginpb.Team{Id: team.GetId(), Name: "renamed", DisplayName: "Core team", Description: "d", AllowOpenInvite: false}
	resp, err := b.UpdateTeam(ctx, &pluginpb.UpdateTeamRequest{Team: in})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetTeam()
	if got.GetName() != "core" || got.GetDisplayName() != "Core team" || got.GetType() != teamTypeInvite || got.GetInviteId() != team.GetInviteId() {
		t.Errorf("UpdateTeam = %v; want the name and invite id kept, type I", got)
	}
	in.DisplayName = ""
	_, err = b.UpdateTeam(ctx, &pluginpb.UpdateTeamRequest{Team: in})
	wantAppError(t, "UpdateTeam(no display name)", err, http.StatusBadRequest)
	_, err = b.UpdateTeam(ctx, &pluginpb.UpdateTeamRequest{Team: &pluginpb.Team{Id: newID(), DisplayName: "x"}})
	wantAppError(t, "UpdateTeam(unknown)", err, http.StatusNotFound)
}

func TestTeamMembership(t *testing.T) {
	b, clock := newTestBackend(t)
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	alice := create(t, b, newUser("alice"))
	bob := create(t, b, newUser("bob"))

	m := join(t, b, team.GetId(), alice.GetId())
	if m.GetRoles() != "team_user" || !m.GetSchemeUser() || m.GetDeleteAt() != 0 {
		t.Errorf("member = %v; want a team_user", m)
	}
	again := join(t, b, team.GetId(), alice.GetId())
	if again.GetCreateAt() != m.GetCreateAt() {
		t.Errorf("joining twice made a new membership: %v", again)
	}
	join(t, b, team.GetId(), bob.GetId())
	members, err := b.GetTeamMembers(ctx, &pluginpb.GetTeamMembersRequest{TeamId: team.GetId(), Page: 0, PerPage: 1})
	if err != nil || len(members.GetTeamMembers()) != 1 {
		t.Fatalf("GetTeamMembers(page 0 of 1) = %v, %v", members, err)
	}
	teams, _ := b.GetTeamsForUser(ctx, &pluginpb.GetTeamsForUserRequest{UserId: bob.GetId()})
	if len(teams.GetTeams()) != 1 {
		t.Errorf("GetTeamsForUser(bob) = %v; want core", teams.GetTeams())
	}

	clock.Advance(time.Second)
	if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: team.GetId(), UserId: bob.GetId()}); err != nil {
		t.Fatal(err)
	}
	// App.LeaveTeam finds the past membership and removes it again
	// (server/channels/app/team.go@00e25d39:App.LeaveTeam).
	if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: team.GetId(), UserId: bob.GetId()}); err != nil {
		t.Errorf("DeleteTeamMember(twice) = %v; want the past member removed again", err)
	}
	past, err := b.GetTeamMember(ctx, &pluginpb.GetTeamMemberRequest{TeamId: team.GetId(), UserId: bob.GetId()})
	if err != nil || past.GetTeamMember().GetDeleteAt() == 0 {
		t.Errorf("GetTeamMember(left) = %v, %v; want delete_at set", past, err)
	}
	stats, _ := b.GetTeamStats(ctx, &pluginpb.GetTeamStatsRequest{TeamId: team.GetId()})
	if stats.GetTeamStats().GetTotalMemberCount() != 1 {
		t.Errorf("GetTeamStats = %v; want 1 member", stats)
	}
	// Rejoining replaces the past membership with a new one, as
	// TeamService.JoinUserToTeam updates the row with a new member
	// (server/channels/app/teams/teams.go@0985ce2c).
	back := join(t, b, team.GetId(), bob.GetId())
	if back.GetDeleteAt() != 0 || back.GetCreateAt() != clock.Now().UnixMilli() {
		t.Errorf("rejoined member = %v; want a new membership made now", back)
	}
}

func TestTeamJoinRules(t *testing.T) {
	ctx := context.Background()
	t.Run("allowed domains", func(t *testing.T) {
		b, _ := newTestBackend(t)
		team := createTeam(t, b, &pluginpb.Team{Name: "core", DisplayName: "C", Type: "O", AllowedDomains: "corp.example, other.example"})
		u := create(t, b, newUser("alice"))
		_, err := b.CreateTeamMember(ctx, &pluginpb.CreateTeamMemberRequest{TeamId: team.GetId(), UserId: u.GetId()})
		wantAppError(t, "CreateTeamMember(domain not allowed)", err, http.StatusBadRequest)
		ok := create(t, b, &pluginpb.User{Username: "bob", Email: "bob@Corp.Example", Password: "passw0rd!"})
		join(t, b, team.GetId(), ok.GetId())
	})
	t.Run("max users per team", func(t *testing.T) {
		b := New(MaxUsersPerTeam(2))
		team := createTeam(t, b, newTeam("core"))
		var ids []string
		for i := range 3 {
			ids = append(ids, create(t, b, newUser(fmt.Sprintf("user%d", i))).GetId())
		}
		_, err := b.CreateTeamMembers(ctx, &pluginpb.CreateTeamMembersRequest{TeamId: team.GetId(), UserIds: ids})
		wantAppError(t, "CreateTeamMembers(over the limit)", err, http.StatusBadRequest)
		members, _ := b.GetTeamMembers(ctx, &pluginpb.GetTeamMembersRequest{TeamId: team.GetId(), PerPage: 10})
		if len(members.GetTeamMembers()) != 2 {
			t.Errorf("members = %d; want the 2 added before the failure", len(members.GetTeamMembers()))
		}
	})
	t.Run("gracefully", func(t *testing.T) {
		b, _ := newTestBackend(t)
		team := createTeam(t, b, newTeam("core"))
		u := create(t, b, newUser("alice"))
		resp, err := b.CreateTeamMembersGracefully(ctx, &pluginpb.CreateTeamMembersGracefullyRequest{TeamId: team.GetId(), UserIds: []string{u.GetId(), newID()}})
		if err != nil {
			t.Fatal(err)
		}
		got := resp.GetTeamMembers()
		if len(got) != 2 || got[0].GetMember() == nil || got[0].GetError() != nil || got[1].GetError().GetStatusCode() != http.StatusNotFound {
			t.Errorf("CreateTeamMembersGracefully = %v; want a member then a 404", got)
		}
	})
}

func TestUpdateTeamMemberRoles(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	u := create(t, b, newUser("alice"))
	join(t, b, team.GetId(), u.GetId())
	tests := []struct {
		roles  string
		want   string
		status int
	}{
		{"team_user team_admin", "team_user team_admin", 0},
		{"team_user team_post_all", "team_user team_post_all", 0},
		{"team_user no_such_role", "", http.StatusBadRequest},
		{"team_guest", "", http.StatusBadRequest},
	}
	for _, tt := range tests {
		resp, err := b.UpdateTeamMemberRoles(ctx, &pluginpb.UpdateTeamMemberRolesRequest{TeamId: team.GetId(), UserId: u.GetId(), NewRoles: tt.roles})
		if tt.status != 0 {
			wantAppError(t, "UpdateTeamMemberRoles("+tt.roles+")", err, tt.status)
			continue
		}
		if err != nil || resp.GetTeamMember().GetRoles() != tt.want {
			t.Errorf("UpdateTeamMemberRoles(%q) = %v, %v; want roles %q", tt.roles, resp, err, tt.want)
		}
	}
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, h/2, color.NRGBA{R: 255, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTeamIcon(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	_, err := b.GetTeamIcon(ctx, &pluginpb.GetTeamIconRequest{TeamId: team.GetId()})
	wantAppError(t, "GetTeamIcon(none)", err, http.StatusNotFound)
	_, err = b.SetTeamIcon(ctx, &pluginpb.SetTeamIconRequest{TeamId: team.GetId(), Data: []byte("not an image")})
	wantAppError(t, "SetTeamIcon(garbage)", err, http.StatusBadRequest)
	if _, err := b.SetTeamIcon(ctx, &pluginpb.SetTeamIconRequest{TeamId: team.GetId(), Data: pngImage(t, 300, 200)}); err != nil {
		t.Fatal(err)
	}
	icon, err := b.GetTeamIcon(ctx, &pluginpb.GetTeamIconRequest{TeamId: team.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(icon.GetData()))
	if err != nil || format != "png" || cfg.Width != teamIconSize || cfg.Height != teamIconSize {
		t.Errorf("icon = %s %dx%d, %v; want a 128x128 png", format, cfg.Width, cfg.Height, err)
	}
	if _, err := b.RemoveTeamIcon(ctx, &pluginpb.RemoveTeamIconRequest{TeamId: team.GetId()}); err != nil {
		t.Fatal(err)
	}
	// App.RemoveTeamIcon only zeroes last_team_icon_update: the icon stays
	// (server/channels/app/team.go@00e25d39:App.RemoveTeamIcon).
	if _, err := b.GetTeamIcon(ctx, &pluginpb.GetTeamIconRequest{TeamId: team.GetId()}); err != nil {
		t.Errorf("GetTeamIcon(removed) = %v; want the kept icon", err)
	}
}

// recordingHooks records the team hooks it receives and rejects joins of
// the user named reject.
type recordingHooks struct {
	NoHooks
	reject string
	events []string
}

func (h *recordingHooks) TeamMemberWillBeAdded(_ context.Context, m *pluginpb.TeamMember) (*pluginpb.TeamMember, string) {
	h.events = append(h.events, "will:"+m.GetUserId())
	if m.GetUserId() == h.reject {
		return nil, "not welcome"
	}
	return m, ""
}

func (h *recordingHooks) UserHasJoinedTeam(_ context.Context, m *pluginpb.TeamMember, _ *pluginpb.User) {
	h.events = append(h.events, "joined:"+m.GetUserId())
}

func (h *recordingHooks) UserHasLeftTeam(_ context.Context, m *pluginpb.TeamMember, _ *pluginpb.User) {
	h.events = append(h.events, "left:"+m.GetUserId())
}

func TestTeamHooks(t *testing.T) {
	hooks := &recordingHooks{}
	b := New(WithHooks(hooks))
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	alice := create(t, b, newUser("alice"))
	bob := create(t, b, newUser("bob"))
	hooks.reject = bob.GetId()
	join(t, b, team.GetId(), alice.GetId())
	_, err := b.CreateTeamMember(ctx, &pluginpb.CreateTeamMemberRequest{TeamId: team.GetId(), UserId: bob.GetId()})
	wantAppError(t, "CreateTeamMember(rejected)", err, http.StatusBadRequest)
	if _, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: team.GetId(), UserId: alice.GetId()}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]string{"will:" + alice.GetId(), "joined:" + alice.GetId(), "will:" + bob.GetId(), "left:" + alice.GetId()})
	if got := fmt.Sprint(hooks.events); got != want {
		t.Errorf("hook events = %v; want %v", got, want)
	}
}

// TestDeleteTeamMemberFollowsTheAppLayer checks DeleteTeamMember's
// refusals against the app layer that upstream's plugin API calls:
// server/channels/app/plugin_api.go@004cacd4 (PluginAPI.DeleteTeamMember)
// → server/channels/app/team.go@00e25d39 (App.RemoveUserFromTeam: a
// missing team is app.team.get_by_invite_id.finding.app_error 404, a
// missing user MissingAccountError 404; App.LeaveTeam: no membership is
// api.team.remove_user_from_team.missing.app_error 400).
func TestDeleteTeamMemberFollowsTheAppLayer(t *testing.T) {
	b, _ := newTestBackend(t)
	ctx := context.Background()
	team := createTeam(t, b, newTeam("core"))
	alice := create(t, b, newUser("alice"))
	tests := []struct {
		name           string
		teamID, userID string
		id             string
		status         int
	}{
		{"missing team", newID(), alice.GetId(), "app.team.get_by_invite_id.finding.app_error", http.StatusNotFound},
		{"malformed team id", "nope", alice.GetId(), "app.team.get_by_invite_id.finding.app_error", http.StatusNotFound},
		{"missing user", team.GetId(), newID(), "app.user.missing_account.const", http.StatusNotFound},
		{"never a member", team.GetId(), alice.GetId(), "api.team.remove_user_from_team.missing.app_error", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.DeleteTeamMember(ctx, &pluginpb.DeleteTeamMemberRequest{TeamId: tt.teamID, UserId: tt.userID})
			wantAppErrorID(t, "DeleteTeamMember", err, tt.id, tt.status)
		})
	}
}
