"""The benchmark's plain MessageWillBePosted: it marks the post and allows it."""

from __future__ import annotations

import mattermost_plugin as mp
from mattermost_plugin.models import Context, Post


class HookSync(mp.Plugin):
    """Runs its hook in the runtime's thread pool."""

    def message_will_be_posted(self, context: Context, post: Post) -> Post:
        """Mark the post and allow it."""
        post.message += "!"
        return post
