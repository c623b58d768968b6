package memory

import (
	"context"
	"net/http"
	"strings"
	"testing"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// TestTeamModelFollowsUpstream checks CreateTeam and UpdateTeam against
// server/public/model/team.go@2307ab17: Team.IsValid's order and byte
// limits, and Team.syncTypeAndAllowOpenInvite, which PreSave and PreUpdate
// run (an invite-only team allows no open invites, then allow_open_invite
// decides the type).
func TestTeamModelFollowsUpstream(t *testing.T) {
	ctx := context.Background()
	invalid := []struct {
		name string
		team *pluginpb.Team
		id   string
	}{
		// Team.IsValid checks the description and the invite id before
		// the reserved names.
		{"description before reserved", &pluginpb.Team{Name: "signup-x", DisplayName: "S", Description: strings.Repeat("d", 256)},
			"model.team.is_valid.description.app_error"},
		// len(), not runes: 128 two-byte runes are 256 bytes.
		{"description in bytes", &pluginpb.Team{Name: "ab", DisplayName: "A", Description: strings.Repeat("é", 128)},
			"model.team.is_valid.description.app_error"},
		{"company in bytes", &pluginpb.Team{Name: "ab", DisplayName: "A", CompanyName: strings.Repeat("é", 33)},
			"model.team.is_valid.company.app_error"},
		{"domains over 500 bytes", &pluginpb.Team{Name: "ab", DisplayName: "A", AllowedDomains: strings.Repeat("d", 501)},
			"model.team.is_valid.domains.app_error"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			_, err := b.CreateTeam(ctx, &pluginpb.CreateTeamRequest{Team: tt.team})
			wantAppErrorID(t, "CreateTeam", err, tt.id, http.StatusBadRequest)
		})
	}

	synced := []struct {
		name     string
		typ      string
		open     bool
		wantType string
		wantOpen bool
	}{
		{"open without open invites is invite-only", teamTypeOpen, false, teamTypeInvite, false},
		{"open with open invites", teamTypeOpen, true, teamTypeOpen, true},
		{"invite-only allows no open invites", teamTypeInvite, true, teamTypeInvite, false},
		{"no type with open invites is open", "", true, teamTypeOpen, true},
		{"an unknown type is synced away", "X", false, teamTypeInvite, false},
	}
	for _, tt := range synced {
		t.Run("create: "+tt.name, func(t *testing.T) {
			b, _ := newTestBackend(t)
			got := createTeam(t, b, &pluginpb.Team{Name: "ab", DisplayName: "A", Type: tt.typ, AllowOpenInvite: tt.open})
			if got.GetType() != tt.wantType || got.GetAllowOpenInvite() != tt.wantOpen {
				t.Errorf("type, allow_open_invite = %q, %v; want %q, %v", got.GetType(), got.GetAllowOpenInvite(), tt.wantType, tt.wantOpen)
			}
		})
	}

	// TeamService.UpdateTeam copies allow_open_invite, not the type, onto
	// the stored team (teams/teams.go@0985ce2c), so an invite-only team
	// stays invite-only.
	t.Run("update: an invite-only team stays invite-only", func(t *testing.T) {
		b, _ := newTestBackend(t)
		team := createTeam(t, b, &pluginpb.Team{Name: "ab", DisplayName: "A", Type: teamTypeInvite})
		team.AllowOpenInvite = true
		resp, err := b.UpdateTeam(ctx, &pluginpb.UpdateTeamRequest{Team: team})
		if err != nil || resp.GetTeam().GetType() != teamTypeInvite || resp.GetTeam().GetAllowOpenInvite() {
			t.Errorf("UpdateTeam = %v, %v; want type I without open invites", resp, err)
		}
	})
	t.Run("update: closing open invites makes it invite-only", func(t *testing.T) {
		b, _ := newTestBackend(t)
		team := createTeam(t, b, newTeam("ab"))
		team.AllowOpenInvite = false
		resp, err := b.UpdateTeam(ctx, &pluginpb.UpdateTeamRequest{Team: team})
		if err != nil || resp.GetTeam().GetType() != teamTypeInvite {
			t.Errorf("UpdateTeam = %v, %v; want type I", resp, err)
		}
	})
}
