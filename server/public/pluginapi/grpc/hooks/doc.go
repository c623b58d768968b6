// Package hooks calls the hooks of a plugin over gRPC, as a Mattermost
// server does.
//
// [Client] implements [Hooks], which mirrors the Go plugin.Hooks interface
// of Mattermost for the hooks that the contract (hooks.proto) defines. It
// asks the plugin which hooks it implements once, when it is made, and
// never calls one that the plugin lacks. Every call has a deadline, and a
// failure follows Mattermost's rules: it is logged, and a hook that can
// change or reject something fails open, so that a post is never lost
// because a plugin crashed, hung or answered garbage.
package hooks
