package hooks

// Keep returns what a hook's answer leaves of input: answer, or input when
// the answer is nil (the zero value of T). It is the one statement of the
// rule that a hook which keeps, replaces or rejects a value keeps the value
// when it answers nothing, as upstream's callers do ("if replacementPost !=
// nil { post = replacementPost }", server/channels/app/post.go of
// mattermost/mattermost). The Client, [Multi] and a backend that calls a
// set of hooks all apply it through this function.
func Keep[T comparable](input, answer T) T {
	var unset T
	if answer == unset {
		return input
	}
	return answer
}
