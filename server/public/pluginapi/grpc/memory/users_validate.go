package memory

import (
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.User.IsValid.
const (
	usernameMaxLen    = 64
	emailMaxLen       = 128
	nameMaxRunes      = 64
	positionMaxRunes  = 128
	rolesMaxLen       = 256
	authDataMaxLen    = 128
	passwordMinLen    = 8  // the default PasswordSettings.MinimumLength
	passwordMaxBytes  = 72 // the bcrypt limit
	defaultLocale     = "en"
	defaultUserRoles  = "system_user"
	userAuthEmailOnly = ""
)

var validUsername = regexp.MustCompile(`^[a-z][a-z0-9.\-_]*$`)

// isRestrictedUsername reports whether Mattermost keeps name for mentions
// or system accounts.
func isRestrictedUsername(name string) bool {
	switch name {
	case "all", "channel", "here", "matterbot", "system":
		return true
	}
	return false
}

func invalidUser(field, message, details string) *apperror.Error {
	return apperror.New("User.IsValid", "model.user.is_valid."+field+".app_error", message, details, http.StatusBadRequest)
}

// normalizeUser applies the normalization of model.User.PreSave and
// PreUpdate: user names and emails are stored in lower case.
func normalizeUser(u *pluginpb.User) {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
}

// validateUser checks a normalized user against the rules of
// model.User.IsValid.
func validateUser(u *pluginpb.User) error {
	if !isValidID(u.GetId()) {
		return invalidUser("id", "Invalid user id.", "")
	}
	if n := len(u.GetUsername()); n == 0 || n > usernameMaxLen || !validUsername.MatchString(u.GetUsername()) || isRestrictedUsername(u.GetUsername()) {
		return invalidUser("username",
			"Invalid username: it must begin with a letter, contain 1 to 64 lower case letters, digits and the symbols '.', '-' and '_', and not be a reserved name.",
			"username="+u.GetUsername(), // usernames are public; safe to echo
		)
	}
	if n := len(u.GetEmail()); n == 0 || n > emailMaxLen || !isValidEmail(u.GetEmail()) {
		return invalidUser("email", "Invalid email address.", "")
	}
	if utf8.RuneCountInString(u.GetNickname()) > nameMaxRunes {
		return invalidUser("nickname", "Invalid nickname: at most 64 characters.", "")
	}
	if utf8.RuneCountInString(u.GetFirstName()) > nameMaxRunes {
		return invalidUser("first_name", "Invalid first name: at most 64 characters.", "")
	}
	if utf8.RuneCountInString(u.GetLastName()) > nameMaxRunes {
		return invalidUser("last_name", "Invalid last name: at most 64 characters.", "")
	}
	if utf8.RuneCountInString(u.GetPosition()) > positionMaxRunes {
		return invalidUser("position", "Invalid position: at most 128 characters.", "")
	}
	if len(u.GetRoles()) > rolesMaxLen {
		return invalidUser("roles", "Invalid roles: at most 256 characters.", "")
	}
	if u.AuthData != nil {
		if len(u.GetAuthData()) > authDataMaxLen {
			return invalidUser("auth_data", "Invalid auth data: at most 128 characters.", "")
		}
		if u.GetAuthData() != "" && u.GetAuthService() == userAuthEmailOnly {
			return invalidUser("auth_data_type", "Auth data needs an auth service.", "")
		}
	}
	return nil
}

// validateNewPassword checks the password of a new email-and-password user.
func validateNewPassword(u *pluginpb.User) error {
	if len(u.GetPassword()) > passwordMaxBytes {
		return invalidUser("password_limit", "Invalid password: at most 72 bytes.", "")
	}
	if u.GetAuthService() == userAuthEmailOnly && len(u.GetPassword()) < passwordMinLen {
		return apperror.New("User.IsValid", "model.user.is_valid.pwd_min_length.app_error",
			"Invalid password: at least 8 characters.", "", http.StatusBadRequest)
	}
	return nil
}

func isValidEmail(email string) bool {
	addr, err := mail.ParseAddress(email)
	return err == nil && addr.Address == email && addr.Name == ""
}
