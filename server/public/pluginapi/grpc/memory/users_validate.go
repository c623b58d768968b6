package memory

import (
	"encoding/json"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.User.IsValid.
const (
	usernameMaxLen   = 64
	emailMaxLen      = 128
	nameMaxRunes     = 64
	positionMaxRunes = 128
	rolesMaxLen      = 256
	authDataMaxLen   = 128
	passwordMinLen   = 8   // the default PasswordSettings.MinimumLength
	passwordMaxBytes = 72  // the bcrypt limit
	localeMaxLen     = 5   // model.UserLocaleMaxLength
	timezoneMaxRunes = 256 // model.UserTimezoneMaxRunes, of the JSON encoding
	// Bounds of this backend where model.User.IsValid sets none: a user
	// is read by almost every call, so a huge map would slow them all.
	propsMaxBytes       = 64 << 10 // props, as JSON
	notifyPropsMaxBytes = 16 << 10 // notify_props, as JSON
	defaultLocale       = "en"
	defaultUserRoles    = "system_user"
	userAuthEmailOnly   = ""
	// mentionKeysProp is the notify prop of a user's mention keys, comma
	// separated (model.MentionKeysNotifyProp).
	mentionKeysProp = "mention_keys"
)

// Auth services of model.User: IsLDAPUser, IsSAMLUser and IsOAuthUser
// (server/public/model/user.go@14e5a8a3) read these.
const (
	authServiceLDAP      = "ldap"
	authServiceSAML      = "saml"
	authServiceGitLab    = "gitlab"
	authServiceGoogle    = "google"
	authServiceOffice365 = "office365"
	authServiceOpenID    = "openid"
)

// isOAuthUser is model.User.IsOAuthUser.
func isOAuthUser(u *pluginpb.User) bool {
	switch u.GetAuthService() {
	case authServiceGitLab, authServiceGoogle, authServiceOffice365, authServiceOpenID:
		return true
	}
	return false
}

// supportedLocales are the locales that have a translation, as
// i18n.GetSupportedLocales lists the server/i18n/*.json files a server
// loads (server/public/shared/i18n/i18n.go@52dc7b3a): here the names of
// every such file in upstream's history, as the stored listing of
// server/i18n holds them (a release ships a subset).
var supportedLocales = map[string]bool{
	"am": true, "ar": true, "ar_SA": true, "be": true, "bg": true, "br": true, "ca": true, "cs": true,
	"da": true, "de": true, "el": true, "en": true, "en-AU": true, "en_AU": true, "en_stmn": true,
	"es": true, "et": true, "eu": true, "fa": true, "fi": true, "fr": true, "gl": true, "gu": true,
	"he": true, "hi": true, "hr": true, "hu": true, "id": true, "it": true, "ja": true, "ka": true,
	"km": true, "ko": true, "lo": true, "lt": true, "mk": true, "ml": true, "mn": true, "nb-NO": true,
	"ne": true, "nl": true, "pl": true, "pt": true, "pt-BR": true, "ro": true, "ru": true, "si": true,
	"sl": true, "sq": true, "sr": true, "sv": true, "th": true, "tr": true, "uk": true, "vi": true,
	"zh-CN": true, "zh-TW": true,
}

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

// isValidError returns an error of model.User.IsValid, which Mattermost
// raises with where set to "User.IsValid".
func isValidError(id, message, details string, statusCode int) *apperror.Error {
	e := apperror.New(id, message, details, statusCode)
	e.Where = "User.IsValid"
	return e
}

func invalidUser(field, message, details string) *apperror.Error {
	return isValidError("model.user.is_valid."+field+".app_error", message, details, http.StatusBadRequest)
}

// normalizeUser applies the normalization of model.User.PreSave and
// PreUpdate: user names and emails are stored in lower case.
func normalizeUser(u *pluginpb.User) {
	u.Username = strings.ToLower(u.Username)
	u.Email = strings.ToLower(u.Email)
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
	if !isValidLocale(u.GetLocale()) {
		return invalidUser("locale", "Invalid locale: a language tag of at most 5 characters, such as \"en\".", "")
	}
	if len(u.GetTimezone()) > 0 && utf8.RuneCount(jsonOf(u.GetTimezone())) > timezoneMaxRunes {
		return invalidUser("timezone_limit", "Invalid timezone: at most 256 characters as JSON.", "")
	}
	if n := len(jsonOf(u.GetProps())); n > propsMaxBytes {
		return invalidUser("props", "Invalid props: at most 64 KiB as JSON.", "size="+itoa(n))
	}
	if n := len(jsonOf(u.GetNotifyProps())); n > notifyPropsMaxBytes {
		return invalidUser("notify_props", "Invalid notify props: at most 16 KiB as JSON.", "size="+itoa(n))
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
		return isValidError("model.user.is_valid.pwd_min_length.app_error",
			"Invalid password: at least 8 characters.", "", http.StatusBadRequest)
	}
	return nil
}

func isValidEmail(email string) bool {
	addr, err := mail.ParseAddress(email)
	return err == nil && addr.Address == email && addr.Name == ""
}

// isValidLocale is model.IsValidLocale: empty, or a parseable language tag
// of at most 5 bytes.
func isValidLocale(locale string) bool {
	if locale == "" {
		return true
	}
	if len(locale) > localeMaxLen {
		return false
	}
	_, err := language.Parse(locale)
	return err == nil
}

// jsonOf returns the JSON encoding of a string map, as Mattermost stores it.
func jsonOf(m map[string]string) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		// A map of strings always encodes.
		panic(err)
	}
	return b
}
