package memory

import (
	"crypto/sha1" //nolint:gosec // Mattermost names group messages by a SHA-1 digest.
	"encoding/hex"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
	pluginpb "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/proto/mattermost/plugin"
)

// Limits of model.Channel.IsValid and of group messages.
const (
	channelNameMaxLen         = 64
	channelDisplayNameMaxRune = 64
	channelHeaderMaxRunes     = 1024
	channelPurposeMaxRunes    = 250
	groupMinUsers             = 3
	groupMaxUsers             = 8
	// patchNotifyPropsMax is the most memberships that
	// PatchChannelMembersNotifications takes at once.
	patchNotifyPropsMax = 200
)

// validChannelName is model.IsValidChannelIdentifier's pattern: lower-case
// letters, digits, '-' and '_', with a letter or digit first.
var validChannelName = regexp.MustCompile(`^[a-z0-9]+([a-z\-_0-9]+|(__)?)[a-z0-9]*$`)

func invalidChannel(field, message string) *apperror.Error {
	e := apperror.New("model.channel.is_valid."+field+".app_error", message, "", http.StatusBadRequest)
	e.Where = "Channel.IsValid"
	return e
}

// validateChannel checks c against the rules of model.Channel.IsValid.
func validateChannel(c *pluginpb.Channel) error {
	switch {
	case !isValidID(c.GetId()):
		return invalidChannel("id", "Invalid channel id.")
	case c.GetCreateAt() == 0:
		return invalidChannel("create_at", "Create at must be a valid time.")
	case c.GetUpdateAt() == 0:
		return invalidChannel("update_at", "Update at must be a valid time.")
	case utf8.RuneCountInString(c.GetDisplayName()) > channelDisplayNameMaxRune:
		return invalidChannel("display_name", "Invalid display name: at most 64 characters.")
	case (c.GetType() == channelOpen || c.GetType() == channelPrivate) && strings.TrimSpace(c.GetDisplayName()) == "":
		return invalidChannel("display_name", "Invalid display name: a public or private channel needs one.")
	case len(c.GetName()) > channelNameMaxLen || c.GetName() == "" ||
		!validChannelName.MatchString(c.GetName()) && c.GetType() != channelDirect:
		return invalidChannel("2_or_more", "Invalid name: 1 to 64 lower-case letters, digits, '-' and '_'.")
	case c.GetType() != channelOpen && c.GetType() != channelPrivate && c.GetType() != channelDirect && c.GetType() != channelGroup:
		return invalidChannel("type", `Invalid type: "O", "P", "D" or "G".`)
	case utf8.RuneCountInString(c.GetHeader()) > channelHeaderMaxRunes:
		return invalidChannel("header", "Invalid header: at most 1,024 characters.")
	case utf8.RuneCountInString(c.GetPurpose()) > channelPurposeMaxRunes:
		return invalidChannel("purpose", "Invalid purpose: at most 250 characters.")
	case c.GetCreatorId() != "" && !isValidID(c.GetCreatorId()):
		return invalidChannel("creator_id", "Invalid creator id.")
	}
	if proto.Size(c.GetProps()) > propsMaxBytes {
		return invalidChannel("props", "Invalid props: at most 64 KiB.")
	}
	return nil
}

// directChannelName is the name of the direct message channel of two
// users, as model.GetDMNameFromIds makes it.
func directChannelName(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + "__" + b
}

// groupChannelName is the name of the group message channel of users, as
// model.GetGroupNameFromUserIds makes it: the SHA-1 of the sorted ids.
func groupChannelName(userIDs []string) string {
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	h := sha1.New() //nolint:gosec // the name format, not a security use
	for _, id := range ids {
		h.Write([]byte(id))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// validChannelNotifyProps are the accepted values of each channel notify
// prop that model.ChannelMember.IsValid checks.
var validChannelNotifyProps = map[string][]string{
	"desktop":                     {"default", "all", "mention", "none"},
	"push":                        {"default", "all", "mention", "none"},
	"email":                       {"default", "all", "mention", "none"},
	"mark_unread":                 {"all", "mention"},
	"ignore_channel_mentions":     {"default", "off", "on"},
	"channel_auto_follow_threads": {"off", "on"},
}

// validateChannelNotifyProps checks the values of the known notify props;
// other keys are kept as they are, as Mattermost does.
func validateChannelNotifyProps(props map[string]string) error {
	size := 0
	for k, v := range props {
		size += len(k) + len(v)
		allowed, known := validChannelNotifyProps[k]
		if known && !slices.Contains(allowed, v) {
			return apperror.New("model.channel_member.is_valid.notify_level.app_error",
				"Invalid notify level for "+k+".", k+"="+v, http.StatusBadRequest)
		}
	}
	if size > notifyPropsMaxBytes {
		return apperror.New("model.channel_member.is_valid.notify_props.app_error",
			"Invalid notify props: at most 16 KiB.", "", http.StatusBadRequest)
	}
	return nil
}
