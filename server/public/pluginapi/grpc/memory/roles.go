package memory

// This file holds the roles of Mattermost's default permission scheme and
// the permissions each grants, for the permission checks of the API.
// system_admin grants every permission listed here.

import (
	"net/http"
	"strings"

	"github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/apperror"
)

// systemAdminRoleID is model.SystemAdminRoleId.
const systemAdminRoleID = "system_admin"

// Permissions of the default scheme, by role. A role also grants what the
// roles in roleIncludes grant.
var rolePermissions = map[string][]string{
	"system_user": {
		"create_team", "list_public_teams", "join_public_teams", "view_members", "create_direct_channel",
		"create_group_channel", "create_emojis", "delete_emojis", "create_custom_group",
		"edit_custom_group", "delete_custom_group", "manage_custom_group_members", "restore_custom_group",
	},
	"system_guest": {"create_direct_channel", "create_group_channel"},
	"system_user_access_token": {
		"create_user_access_token", "read_user_access_token", "revoke_user_access_token",
	},
	"system_post_all":        {"create_post"},
	"system_post_all_public": {"create_post_public"},
	"system_read_only_admin": {
		"sysconsole_read_reporting", "sysconsole_read_user_management_users",
		"sysconsole_read_user_management_teams", "sysconsole_read_user_management_channels",
		"read_public_channel", "read_channel", "view_team", "list_public_teams", "view_members",
	},
	"system_manager": {
		"sysconsole_read_reporting", "sysconsole_write_user_management_teams",
		"sysconsole_write_user_management_channels", "manage_team", "manage_public_channel_properties",
		"manage_private_channel_properties", "convert_public_channel_to_private",
		"convert_private_channel_to_public", "delete_public_channel", "delete_private_channel",
	},
	"system_user_manager": {
		"sysconsole_read_user_management_users", "sysconsole_write_user_management_teams",
		"sysconsole_write_user_management_channels", "manage_team", "manage_public_channel_members",
		"manage_private_channel_members",
	},
	"system_custom_group_admin": {
		"create_custom_group", "edit_custom_group", "delete_custom_group", "manage_custom_group_members",
		"restore_custom_group",
	},
	"team_user": {
		"list_team_channels", "join_public_channels", "read_public_channel", "view_team",
		"create_public_channel", "create_private_channel", "invite_user", "add_user_to_team",
		"read_public_channel_groups", "read_private_channel_groups",
	},
	"team_guest": {"view_team"},
	"team_admin": {
		"edit_others_posts", "remove_user_from_team", "manage_team", "import_team", "manage_team_roles",
		"manage_channel_roles", "manage_others_incoming_webhooks", "manage_others_outgoing_webhooks",
		"manage_slash_commands", "manage_others_slash_commands", "manage_incoming_webhooks",
		"manage_outgoing_webhooks", "delete_post", "delete_others_posts", "convert_public_channel_to_private",
		"convert_private_channel_to_public", "manage_public_channel_members", "manage_private_channel_members",
		"delete_public_channel", "delete_private_channel", "manage_public_channel_properties",
		"manage_private_channel_properties",
	},
	"team_post_all":        {"create_post"},
	"team_post_all_public": {"create_post_public"},
	"channel_user": {
		"read_channel", "read_channel_content", "add_reaction", "remove_reaction", "upload_file",
		"get_public_link", "create_post", "use_channel_mentions", "use_slash_commands", "edit_post",
		"delete_post", "manage_public_channel_members", "manage_private_channel_members",
		"manage_public_channel_properties", "manage_private_channel_properties", "delete_public_channel",
		"delete_private_channel",
	},
	"channel_guest": {
		"read_channel", "read_channel_content", "add_reaction", "remove_reaction", "upload_file",
		"edit_post", "create_post", "use_channel_mentions", "use_slash_commands",
	},
	"channel_admin": {"manage_channel_roles", "use_group_mentions"},
}

// roleIncludes lists the roles whose permissions a role also grants.
var roleIncludes = map[string][]string{
	"team_admin":    {"team_user"},
	"channel_admin": {"channel_user"},
}

// isKnownRole reports whether role exists on a server with the default
// scheme and no custom roles.
func isKnownRole(role string) bool {
	_, ok := rolePermissions[role]
	return ok || role == "system_admin"
}

// roleGrants reports whether one role grants a permission.
func roleGrants(role, permission string) bool {
	if role == "system_admin" {
		return isKnownPermission(permission)
	}
	for _, p := range rolePermissions[role] {
		if p == permission {
			return true
		}
	}
	for _, included := range roleIncludes[role] {
		if roleGrants(included, permission) {
			return true
		}
	}
	return false
}

// rolesGrant reports whether any of roles grants a permission.
func rolesGrant(roles []string, permission string) bool {
	for _, r := range roles {
		if roleGrants(strings.TrimSpace(r), permission) {
			return true
		}
	}
	return false
}

// isKnownPermission reports whether some role of the scheme grants the
// permission, or it is one that only system admins hold.
func isKnownPermission(permission string) bool {
	switch permission {
	case "manage_system", "manage_roles", "edit_other_users", "manage_oauth", "manage_bots",
		"manage_others_bots", "manage_jobs", "manage_shared_channels", "manage_secure_connections",
		"sysconsole_write_environment", "sysconsole_write_site", "create_bot", "read_bots",
		"read_others_bots", "manage_license_information", "manage_system_wide_oauth":
		return true
	}
	for _, perms := range rolePermissions {
		for _, p := range perms {
			if p == permission {
				return true
			}
		}
	}
	return false
}

// schemeRoles are the three scheme roles of one level of the default
// scheme, team or channel, and the ids of the errors that role changes at
// that level fail with.
type schemeRoles struct {
	guest, user, admin           string
	guestAndUserID, wrongGuestID string
	level                        string // "team" or "channel", for messages
}

var (
	teamSchemeRoles = schemeRoles{
		guest: roleTeamGuest, user: roleTeamUser, admin: roleTeamAdmin, level: "team",
		guestAndUserID: "api.team.update_team_member_roles.guest_and_user.app_error",
		wrongGuestID:   "api.team.update_team_member_roles.guest.app_error",
	}
	channelSchemeRoles = schemeRoles{
		guest: roleChannelGuest, user: roleChannelUser, admin: roleChannelAdmin, level: "channel",
		guestAndUserID: "api.channel.update_channel_member_roles.guest_and_user.app_error",
		wrongGuestID:   "api.channel.update_channel_member_roles.changing_guest_role.app_error",
	}
)

// memberRoles is a membership's roles: the scheme flags and the explicit
// roles.
type memberRoles struct {
	guest, user, admin bool
	explicit           string
}

// parse reads space-separated new roles of a member whose account is a
// guest or not, as Mattermost's UpdateTeamMemberRoles and
// UpdateChannelMemberRoles do: the scheme roles set the flags, any other
// role must exist and is explicit, and guests are guests only.
func (s schemeRoles) parse(newRoles string, guestAccount bool) (memberRoles, error) {
	var r memberRoles
	var explicit []string
	for _, role := range strings.Fields(newRoles) {
		switch role {
		case s.user:
			r.user = true
		case s.admin:
			r.admin = true
		case s.guest:
			r.guest = true
		default:
			if !isKnownRole(role) {
				return r, apperror.New("api.roles.get_role.app_error",
					"Unable to find the role.", "role="+apperror.Truncate(role, apperror.MaxShortBytes), http.StatusBadRequest)
			}
			explicit = append(explicit, role)
		}
	}
	if r.guest && (r.user || r.admin) {
		return r, apperror.New(s.guestAndUserID,
			"A "+s.level+" member cannot be both a guest and a user or admin.", "", http.StatusBadRequest)
	}
	if r.guest != guestAccount {
		return r, apperror.New(s.wrongGuestID,
			"The "+s.guest+" role is for guest accounts only, and guest accounts need it.", "", http.StatusBadRequest)
	}
	r.explicit = strings.Join(explicit, " ")
	return r, nil
}

// join lists a membership's roles as Mattermost returns them: the scheme
// roles, then the explicit ones.
func (s schemeRoles) join(r memberRoles) string {
	var roles []string
	for _, f := range []struct {
		on   bool
		name string
	}{{r.guest, s.guest}, {r.user, s.user}, {r.admin, s.admin}} {
		if f.on {
			roles = append(roles, f.name)
		}
	}
	if e := strings.TrimSpace(r.explicit); e != "" {
		roles = append(roles, e)
	}
	return strings.Join(roles, " ")
}
