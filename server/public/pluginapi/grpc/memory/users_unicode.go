package memory

import (
	"strings"

	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// sanitizeUnicode is model.SanitizeUnicode
// (server/public/model/utils.go@033bd0c6): it drops the code points of
// upstream's blocklist (after the W3C "Unicode in XML" character list) and
// keeps every other rune as it is.
func sanitizeUnicode(s string) string {
	return strings.Map(func(r rune) rune {
		if isBlockedRune(r) {
			return -1
		}
		return r
	}, s)
}

// isBlockedRune reports whether r is on model.SanitizeUnicode's blocklist:
// deprecated clones of the grave and acute accents, obsolete Khmer
// characters, the line and paragraph separators, the bidirectional
// embedding controls, the deprecated shaping and digit-shape controls, the
// interlinear annotation characters, the byte order mark, the object
// replacement character, the musical notation scoping characters and the
// language tags.
func isBlockedRune(r rune) bool {
	switch {
	case r == '\u0340', r == '\u0341':
		return true
	case r == '\u17A3', r == '\u17D3':
		return true
	case r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202A' && r <= '\u202E':
		return true
	case r >= '\u206A' && r <= '\u206F':
		return true
	case r >= '\uFFF9' && r <= '\uFFFC':
		return true
	case r == '\uFEFF':
		return true
	case r >= 0x1D173 && r <= 0x1D17A:
		return true
	case r >= 0xE0000 && r <= 0xE007F:
		return true
	}
	return false
}

// sanitizeUserNames applies model.SanitizeUnicode to the fields that
// User.PreSave sanitizes (server/public/model/user.go@14e5a8a3): the
// username, first and last names and nickname; User.PreUpdate also
// sanitizes the bot description (withBotDescription). The position is
// left as given by both.
func sanitizeUserNames(u *pluginpb.User, withBotDescription bool) {
	u.Username = sanitizeUnicode(u.GetUsername())
	u.FirstName = sanitizeUnicode(u.GetFirstName())
	u.LastName = sanitizeUnicode(u.GetLastName())
	u.Nickname = sanitizeUnicode(u.GetNickname())
	if withBotDescription {
		u.BotDescription = sanitizeUnicode(u.GetBotDescription())
	}
}
