// Package wire holds the values that a Plugin API server and its clients,
// in any language, must agree on: the discovery environment variables, the
// metadata entry of the token, the ready line of the reference server and
// the rejection reason that dismisses a post.
//
// This package is their one home on the Go side. The Python SDK keeps its
// copies in mattermost_plugin/config.py (the dismiss reason in
// mattermost_plugin/_plugin/dispatch.py), and a test on each side checks
// them against the other (python-sdk/tests/api/test_wire.py for the dismiss
// reason).
package wire

// EnvTarget names the environment variable with the gRPC target of the
// Plugin API server, such as "unix:///run/mm/pluginapi.sock".
const EnvTarget = "MATTERMOST_PLUGIN_API_TARGET"

// EnvToken names the environment variable with the plugin's token.
const EnvToken = "MATTERMOST_PLUGIN_API_TOKEN"

// MetadataKey is the metadata entry that carries the token.
const MetadataKey = "authorization"

// AuthScheme is the authorization scheme of the token: the entry's value
// is AuthScheme, a space and the token. Servers match it without regard to
// case (RFC 7235).
const AuthScheme = "Bearer"

// Ready is the one JSON line that the reference server (pluginapi-server)
// prints on stdout once it listens.
type Ready struct {
	// Target is the gRPC target that reaches the server.
	Target string `json:"target"`
	// Token is the plugin token that every call must carry.
	Token string `json:"token"`
	// PID is the server's process id.
	PID int `json:"pid"`
	// MaxMessageSize is the largest message, in bytes, that the server
	// receives and sends.
	MaxMessageSize int `json:"max_message_size"`
	// KeepaliveMinTimeMS is the shortest client keepalive interval, in
	// milliseconds, that the server accepts.
	KeepaliveMinTimeMS int64 `json:"keepalive_min_time_ms"`
	// HTTPURL is the base URL of the dev server's HTTP port, where
	// /plugins/{plugin_id}/... reaches the plugin's ServeHTTP; empty
	// without a plugin.
	HTTPURL string `json:"http_url,omitempty"`
}

// DismissPostError is the rejection reason with which a MessageWillBePosted
// hook drops a post without showing an error (Mattermost's
// plugin.DismissPostError): a host then answers the post's creation with
// this string as the error id, alone.
const DismissPostError = "plugin.message_will_be_posted.dismiss_post"
