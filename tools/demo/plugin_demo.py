"""Run the example Python plugin under the dev server and use it as a Mattermost user would.

Usage: plugin_demo.py SERVER_BINARY PLUGIN_DIR

Starts the reference server with ``-plugin PLUGIN_DIR``: the server starts
the plugin's Python process under its supervisor and activates it. The demo
then acts as a user: it posts three messages, which go through the plugin's
MessageWillBePosted hook, runs the plugin's /hello command, and makes HTTP
requests to the plugin's ServeHTTP on the dev server's HTTP port. Each step
prints what happened, and the end shows what the plugin logged.
"""

from __future__ import annotations

import sys
import time
import urllib.request

from mattermost_plugin import PluginAPIError
from mattermost_plugin.models import Channel, CommandArgs, Post, Team, User
from mattermost_plugin.testing import ServerStartError, start_reference_server


def step(text: str) -> None:
    """Print one step of the demo."""
    print(f"\n-> {text}")


def main() -> int:
    """Run the demo and return its exit code."""
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    server_binary, plugin_dir = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    try:
        server = start_reference_server(
            "-log-level",
            "info",
            "-plugin",
            plugin_dir,
            "-python",
            sys.executable,
            binary=server_binary,
            timeout=30,
        )
    except ServerStartError as error:
        print(error, file=sys.stderr)
        return 1
    print(
        f"== dev server up with the plugin in {plugin_dir} started and activated "
        f"({time.perf_counter() - started:.2f} s)"
    )
    failed = False
    try:
        with server.client() as api:
            step("Set the scene: a user, a team and a channel, as a Mattermost admin would.")
            alice = api.create_user(
                User(username="alice", email="alice@example.com", password="s3cret-pw")
            )
            team = api.create_team(Team(name="demo", display_name="Demo", type="O"))
            api.create_team_member(team.id, alice.id)
            channel = api.create_channel(
                Channel(team_id=team.id, name="town", display_name="Town", type="O")
            )
            api.add_channel_member(channel.id, alice.id)
            print(f"   alice ({alice.id}) joined ~{channel.name} in team {team.name}")

            for message in ("Hello, everyone!", "This is darn good news.", "Buy cheap spam now"):
                step(f"alice posts {message!r}; the plugin's MessageWillBePosted sees it first.")
                try:
                    stored = api.create_post(
                        Post(user_id=alice.id, channel_id=channel.id, message=message)
                    )
                except PluginAPIError as error:
                    print(f"   REJECTED by the plugin: {error.error_id or error.message}")
                    continue
                verdict = (
                    "stored as sent" if stored.message == message else "REWRITTEN by the plugin"
                )
                print(f"   {verdict}: {stored.message!r}")

            # MessageHasBeenPosted runs after each post returns: wait for both counts.
            deadline = time.monotonic() + 10
            while api.kv_get("posts_seen") != b"2" and time.monotonic() < deadline:
                time.sleep(0.02)
            step("alice runs /hello; the server hands the command to the plugin's ExecuteCommand.")
            answer = api.execute_slash_command(
                CommandArgs(
                    command="/hello", user_id=alice.id, channel_id=channel.id, team_id=team.id
                )
            )
            print(f"   the plugin answered: {answer.text!r}")
            print(f"   (its post counter in the KV store: {api.kv_get('posts_seen')!r})")

            base = f"{server.http_url}/plugins/com.example.hello-python"
            step(f"A browser asks GET {base}/count; the plugin's ServeHTTP streams the answer.")
            with urllib.request.urlopen(f"{base}/count", timeout=10) as response:
                print(f"   HTTP {response.status} {response.headers['Content-Type']}")
                for line in response:
                    print(f"   | {line.decode().rstrip()}")
            step("POST /upper with a body: the plugin streams it back in capitals as it reads.")
            request = urllib.request.Request(f"{base}/upper", data=b"quiet words, loud answer")
            with urllib.request.urlopen(request, timeout=10) as response:
                print(f"   HTTP {response.status}: {response.read().decode()!r}")
    except PluginAPIError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        failed = True
    finally:
        code = server.stop()
    print(f"\n== server stopped (exit code {code}); what the plugin logged:")
    for record in server.log_records():
        if record.get("source") == "plugin":
            print(f"   {record['level']:5} {record['msg']}")
    return 1 if failed else code


if __name__ == "__main__":
    sys.exit(main())
