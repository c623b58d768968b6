package memory

// This file holds the roles of Mattermost's default permission scheme.

// knownRoles are the roles that exist on a server with the default scheme
// and no custom roles.
var knownRoles = map[string]bool{
	"system_admin": true, "system_user": true, "system_guest": true,
	"system_user_access_token": true, "system_post_all": true, "system_post_all_public": true,
	"system_read_only_admin": true, "system_manager": true, "system_user_manager": true,
	"system_custom_group_admin": true,
	"team_admin":                true, "team_user": true, "team_guest": true,
	"team_post_all": true, "team_post_all_public": true,
	"channel_admin": true, "channel_user": true, "channel_guest": true,
}

// isKnownRole reports whether role exists.
func isKnownRole(role string) bool { return knownRoles[role] }
