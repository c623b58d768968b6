package hooks

// DismissPostError is the rejection reason with which MessageWillBePosted
// drops a post without showing an error (plugin.DismissPostError).
const DismissPostError = "plugin.message_will_be_posted.dismiss_post"
