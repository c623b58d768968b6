package memory

import (
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.Team.IsValid.
const (
	teamNameMinLen           = 2
	teamNameMaxLen           = 64
	teamDisplayNameMaxRunes  = 64
	teamDescriptionMaxLen    = 255
	teamCompanyNameMaxLen    = 64
	teamAllowedDomainsMaxLen = 500
	teamEmailMaxLen          = 128
	teamTypeOpen             = "O"
	teamTypeInvite           = "I"
)

// validTeamName is model.IsValidAlphaNum's pattern, which team names
// follow: lower-case letters, digits and '-', with a letter or digit at
// each end.
var validTeamName = regexp.MustCompile(`^[a-z0-9]+([a-z\-0-9]+|(__)?)[a-z0-9]+$`)

// reservedTeamNames are the URL prefixes that the web app routes itself;
// model.IsReservedTeamName rejects every name that starts with one.
var reservedTeamNames = []string{
	"admin", "api", "channel", "claim", "error", "files", "help", "landing", "login",
	"mfa", "oauth", "plug", "plugins", "post", "signup", "boards", "playbooks",
}

func isReservedTeamName(name string) bool {
	name = strings.ToLower(name)
	for _, r := range reservedTeamNames {
		if strings.HasPrefix(name, r) {
			return true
		}
	}
	return false
}

func invalidTeam(field, message string) *apperror.Error {
	e := apperror.New("model.team.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Team.IsValid"
	return e
}

// validateTeam checks t against the rules of model.Team.IsValid, in its
// order and with its limits, which count bytes except for the display
// name's runes (model/team.go@2307ab17:Team.IsValid).
func validateTeam(t *pluginpb.Team) error {
	switch {
	case !isValidID(t.GetId()):
		return invalidTeam("id", "Invalid team id.")
	case t.GetCreateAt() == 0:
		return invalidTeam("create_at", "Create at must be a valid time.")
	case t.GetUpdateAt() == 0:
		return invalidTeam("update_at", "Update at must be a valid time.")
	case len(t.GetEmail()) > teamEmailMaxLen || t.GetEmail() != "" && !isValidEmail(t.GetEmail()):
		return invalidTeam("email", "Invalid email.")
	case utf8.RuneCountInString(t.GetDisplayName()) == 0 ||
		utf8.RuneCountInString(t.GetDisplayName()) > teamDisplayNameMaxRunes:
		return invalidTeam("name", "Invalid display name: 1 to 64 characters.")
	case len(t.GetName()) > teamNameMaxLen:
		return invalidTeam("url", "Invalid name: at most 64 characters.")
	case len(t.GetDescription()) > teamDescriptionMaxLen:
		return invalidTeam("description", "Invalid description: at most 255 bytes.")
	case t.GetInviteId() == "":
		return invalidTeam("invite_id", "Invalid invite id.")
	case isReservedTeamName(t.GetName()):
		return invalidTeam("reserved", "This name is reserved; choose another.")
	case len(t.GetName()) < teamNameMinLen || !validTeamName.MatchString(t.GetName()):
		return invalidTeam("characters",
			"Invalid name: 2 to 64 lower-case letters, digits and '-', starting and ending with a letter or digit.")
	case t.GetType() != teamTypeOpen && t.GetType() != teamTypeInvite:
		return invalidTeam("type", `Invalid type: "O" (open) or "I" (invite only).`)
	case len(t.GetCompanyName()) > teamCompanyNameMaxLen:
		return invalidTeam("company", "Invalid company name: at most 64 bytes.")
	case len(t.GetAllowedDomains()) > teamAllowedDomainsMaxLen:
		return invalidTeam("domains", "Invalid allowed domains: at most 500 bytes.")
	}
	return nil
}

// emailAllowedInTeam reports whether a user with this email may join a
// team with these allowed domains, as Mattermost's isTeamEmailAllowed
// decides: any domain when the list is empty, else one of the list.
func emailAllowedInTeam(email, allowedDomains string) bool {
	domains := strings.FieldsFunc(strings.ToLower(allowedDomains), func(r rune) bool {
		return r == ',' || r == ' '
	})
	if len(domains) == 0 {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	domain := strings.ToLower(email[at+1:])
	for _, d := range domains {
		if strings.TrimPrefix(d, "@") == domain {
			return true
		}
	}
	return false
}
