package memory

import "github.com/mattermost/mattermost-plugin-grpc/server/public/pluginapi/grpc/ids"

// newID returns a new Mattermost id; see [ids.New].
func newID() string { return ids.New() }

// isValidID reports whether s has the form of a Mattermost id.
func isValidID(s string) bool {
	if len(s) != ids.Len {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
