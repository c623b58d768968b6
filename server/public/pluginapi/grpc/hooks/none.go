package hooks

// None is the [Hooks] of a plugin that implements no hook, or that cannot
// be reached: every change goes through unchanged, as Mattermost's hooks
// client answers for a hook the plugin lacks.
type None struct{}

var _ Hooks = None{}
