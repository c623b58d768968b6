"""Hello, Python: a complete Mattermost plugin in Python.

It shows the pieces a plugin is made of:

* OnActivate registers the /hello command; OnDeactivate says goodbye;
* OnConfigurationChange reads the plugin's settings (the banned word);
* MessageWillBePosted rejects posts with the banned word and rewrites
  "darn" as "d**n";
* MessageHasBeenPosted counts the posts in the KV store;
* ExecuteCommand answers /hello with that count;
* ServeHTTP serves /plugins/com.example.hello-python/count, streaming its
  answer line by line, and /upper, which streams the request body back in
  capitals as it arrives.

Run it with `make demo`, or under the dev server:
``pluginapi-server -plugin python-sdk/examples/hello_python``.
"""

from __future__ import annotations

from collections.abc import Iterator

import mattermost_plugin as mp
from mattermost_plugin.models import Command, CommandArgs, CommandResponse, Context, Post

#: The KV key of the post counter.
COUNT_KEY = "posts_seen"


class HelloPlugin(mp.Plugin):
    """Filters messages, counts posts and answers /hello."""

    banned_word = "spam"

    def on_configuration_change(self) -> None:
        """Read the banned word from the plugin's settings.

        The runtime has just reloaded them into ``self.configuration``.
        """
        self.banned_word = str(self.configuration.get("BannedWord") or "spam").lower()

    def on_activate(self) -> None:
        """Register /hello."""
        self.api.register_command(
            Command(
                trigger="hello",
                display_name="Hello",
                auto_complete=True,
                auto_complete_desc="Say hello to the Python plugin",
            )
        )
        self.logger.info("hello_python is active; banned word: %r", self.banned_word)

    def on_deactivate(self) -> None:
        """Say goodbye in the server log."""
        self.logger.info("hello_python says goodbye")

    def message_will_be_posted(
        self, context: Context, post: Post
    ) -> Post | tuple[None, str] | None:
        """Reject the banned word, rewrite "darn", keep the rest."""
        text = post.message
        if self.banned_word and self.banned_word in text.lower():
            return None, f"messages about {self.banned_word!r} are not allowed here"
        if "darn" in text:
            post.message = text.replace("darn", "d**n")
            return post
        return None  # keep the post as it is

    def message_has_been_posted(self, context: Context, post: Post) -> None:
        """Count the post."""
        # Compare-and-set, so that concurrent posts are all counted.
        while True:
            old = self.api.kv_get(COUNT_KEY)
            new = str(int(old or b"0") + 1).encode()
            if self.api.kv_compare_and_set(COUNT_KEY, old, new):
                return

    def serve_http(self, context: Context, request: mp.HTTPRequest) -> mp.HTTPResponse:
        """Serve /count (streamed line by line) and /upper (a streamed echo)."""
        if request.path == "/count":
            count = int(self.api.kv_get(COUNT_KEY) or b"0")

            def lines() -> Iterator[bytes]:
                yield b"Hello from Python over HTTP!\n"
                for number in range(1, count + 1):
                    yield f"post number {number}\n".encode()

            return mp.HTTPResponse(200, {"Content-Type": "text/plain"}, lines())
        if request.path == "/upper" and request.method == "POST":
            upper = (chunk.upper() for chunk in request.iter_body())
            return mp.HTTPResponse(200, {"Content-Type": "text/plain"}, upper)
        return mp.HTTPResponse(404, {"Content-Type": "text/plain"}, "not found\n")

    def execute_command(self, context: Context, args: CommandArgs) -> CommandResponse:
        """Answer /hello with the count."""
        count = int(self.api.kv_get(COUNT_KEY) or b"0")
        return CommandResponse(
            response_type="ephemeral",
            text=f"Hello from Python! I have seen {count} post(s) so far.",
        )


if __name__ == "__main__":
    mp.run(HelloPlugin)
