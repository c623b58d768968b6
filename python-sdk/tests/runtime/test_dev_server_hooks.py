"""The dev server fires the backend's hooks in several plugins, as Mattermost does.

Two plugins run under one dev server, each with its own token: every
hook runs in both, in plugin id order, each "will be" answer chained into
the next plugin; each plugin has its own KV store; a command runs in the
plugin that registered it. The hooks of channels, users, preferences,
configuration and uploads fire where the reference backend models them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

import mattermost_plugin as mp
from mattermost_plugin.models import (
    Channel,
    ChannelMember,
    Command,
    CommandArgs,
    CommandResponse,
    FileInfo,
    Post,
    Preference,
    Team,
    User,
)
from mattermost_plugin.server_config import ServerConfig
from mattermost_plugin.testing import ReferenceServer

pytest_plugins = ["mattermost_plugin.pytest_plugin"]


async def _record(api: mp.AsyncClient, key: str, value: str) -> None:
    """Append value to the JSON list at key of the plugin's KV store."""
    while True:
        old = await api.kv_get(key)
        items = json.loads(old) if old else []
        new = json.dumps([*items, value]).encode()
        if await api.kv_compare_and_set(key, old, new):
            return


class Alpha(mp.Plugin):
    """Test plugin "test.alpha": vets channels, users and uploads."""

    def on_activate(self) -> None:
        self.api.kv_set("who", b"alpha")
        self.api.register_command(Command(trigger="alpha", auto_complete=False))

    def message_will_be_posted(self, context: Any, post: Post) -> Post:
        post.message += " [alpha]"
        post.props["request_id"] = context.request_id
        return post

    def execute_command(self, context: Any, args: CommandArgs) -> CommandResponse:
        if args.command == "/alpha greeting":
            # Alpha has no on_configuration_change: the runtime keeps its
            # configuration current all the same.
            return CommandResponse(text=str(self.configuration.get("greeting")))
        return CommandResponse(text="alpha ran " + args.command)

    def channel_will_be_archived(self, context: Any, channel: Channel) -> str | None:
        return "this channel stays" if channel.name == "keep" else None

    def notifications_will_be_sent(self, post: Post) -> str | None:
        return "quiet, please" if post.message.startswith("quiet") else None

    def channel_will_be_updated(
        self, context: Any, new_channel: Channel, old_channel: Channel
    ) -> Channel:
        new_channel.purpose = "vetted by alpha"
        return new_channel

    def channel_will_be_restored(self, context: Any, channel: Channel) -> str | None:
        return "archived for good" if channel.name == "gone" else None

    def channel_member_will_be_added(
        self, context: Any, channel_member: ChannelMember
    ) -> tuple[ChannelMember | None, str] | None:
        user = self.api.get_user(channel_member.user_id)
        if user.username == "mallory":
            return None, "mallory may not join"
        return None

    def user_will_be_updated(self, context: Any, new_user: User, old_user: User) -> User:
        new_user.position = "vetted"
        return new_user

    def file_will_be_uploaded(
        self, context: Any, info: FileInfo, file: mp.FileReader, output: mp.FileWriter
    ) -> tuple[FileInfo | None, str] | FileInfo:
        if info.name.endswith(".exe"):
            return None, "no executables"
        for chunk in file.iter_body():
            output.write(chunk.upper())
        info.name = "checked-" + info.name
        return info


class Beta(mp.AsyncPlugin):
    """Test plugin "test.beta": runs after alpha, has its own KV store, and
    records the notification hooks there, where the tests' client reads."""

    async def on_activate(self) -> None:
        await self.api.kv_set("who", b"beta")
        await self.api.register_command(Command(trigger="beta", auto_complete=False))

    async def message_will_be_posted(self, context: Any, post: Post) -> Post:
        same = post.props["request_id"] == context.request_id
        post.message += " [beta, same request]" if same else " [beta, another request]"
        return post

    async def execute_command(self, context: Any, args: CommandArgs) -> CommandResponse:
        return CommandResponse(text=f"beta ran {args.command} as {await self.api.get_plugin_id()}")

    async def channel_will_be_updated(
        self, context: Any, new_channel: Channel, old_channel: Channel
    ) -> Channel:
        new_channel.header = f"{new_channel.purpose} and beta"
        return new_channel

    async def notifications_will_be_sent(self, post: Post) -> str | None:
        await _record(self.api, "notified", post.message)
        return None

    async def user_has_been_deactivated(self, context: Any, user: User) -> None:
        await _record(self.api, "deactivated", user.username)

    async def preferences_have_changed(self, context: Any, preferences: list[Preference]) -> None:
        for p in preferences:
            await _record(self.api, "preferences", f"{p.name}={p.value}")

    async def on_configuration_change(self) -> None:
        await _record(self.api, "config-changes", "changed")
        await _record(self.api, "greetings", str(self.configuration.get("greeting")))

    async def configuration_will_be_saved(self, new_config: Any) -> Any:
        config = ServerConfig(new_config)
        if config.site_name == "forbidden":
            raise mp.ValidationError(
                "no",
                app_error=mp.models.AppError(
                    id="beta.config.refused", message="beta refuses", status_code=400
                ),
            )
        config.data.setdefault("TeamSettings", {})["SiteName"] = config.site_name + " (beta)"
        return config.to_model()


@pytest.fixture
def server(plugin_server: Callable[..., ReferenceServer]) -> ReferenceServer:
    # Given beta first, the hooks still run in alpha first: plugin id order.
    return plugin_server([Beta, Alpha])


def wait_for(read: Callable[[], Any], want: Any, timeout: float = 10.0) -> Any:
    """Poll read() until it returns want: the "has been" hooks run after the call."""
    deadline = time.monotonic() + timeout
    while (got := read()) != want and time.monotonic() < deadline:
        time.sleep(0.05)
    return got


def scene(api: mp.Client, *names: str) -> tuple[Team, Channel, list[User]]:
    team = api.create_team(Team(name="hooks", display_name="Hooks", type="O"))
    users = []
    for name in names:
        user = api.create_user(
            User(username=name, email=f"{name}@example.com", password="pw-s3cret")
        )
        api.create_team_member(team.id, user.id)
        users.append(user)
    channel = api.create_channel(
        Channel(team_id=team.id, name="town", display_name="Town", type="O")
    )
    return team, channel, users


def test_every_plugin_filters_posts_in_plugin_id_order(server: ReferenceServer) -> None:
    with server.client() as api:
        # The ready line's token acts as the first plugin given, beta.
        assert api.get_plugin_id() == "test.beta"
        _, channel, (alice,) = scene(api, "alice")
        post = api.create_post(Post(user_id=alice.id, channel_id=channel.id, message="hi"))
        assert post.message == "hi [alpha] [beta, same request]"
        # The hook Context carries the call's request id, new for each call.
        again = api.create_post(Post(user_id=alice.id, channel_id=channel.id, message="hi"))
        first, second = str(post.props["request_id"]), str(again.props["request_id"])
        assert len(first) == 26 and first != second


def test_notifications_will_be_sent_stops_at_the_first_reason(server: ReferenceServer) -> None:
    # App.SendNotifications (notification.go@003e57ac) runs the hook after the
    # post is stored, in every plugin in turn until one gives a reason; the
    # post stays either way.
    with server.client() as api:
        _, channel, (alice,) = scene(api, "alice")
        loud = api.create_post(Post(user_id=alice.id, channel_id=channel.id, message="loud"))
        quiet = api.create_post(Post(user_id=alice.id, channel_id=channel.id, message="quiet"))
        # Synchronous, unlike MessageHasBeenPosted: done when create_post returns.
        assert api.kv_get("notified") == json.dumps([loud.message]).encode()
        assert api.get_post(quiet.id).message == "quiet [alpha] [beta, same request]"


def test_each_plugin_has_its_own_kv_store_and_commands(server: ReferenceServer) -> None:
    with server.client() as api:
        assert api.kv_get("who") == b"beta"
        _, channel, (alice,) = scene(api, "alice")
        api.add_channel_member(channel.id, alice.id)

        def run(text: str) -> str:
            args = CommandArgs(user_id=alice.id, channel_id=channel.id, command=text)
            return api.execute_slash_command(args).text

        assert run("/alpha go") == "alpha ran /alpha go"
        assert run("/beta go") == "beta ran /beta go as test.beta"


def test_channel_hooks(server: ReferenceServer) -> None:
    with server.client() as api:
        team, _, (alice, mallory) = scene(api, "alice", "mallory")
        keep = api.create_channel(
            Channel(team_id=team.id, name="keep", display_name="Keep", type="O")
        )
        with pytest.raises(mp.ValidationError) as info:
            api.delete_channel(keep.id)
        assert info.value.error_id == "app.channel.delete_channel.rejected_by_plugin"
        assert info.value.params == {"Reason": "this channel stays"}
        assert api.get_channel(keep.id).delete_at == 0

        keep.header = "new header"
        updated = api.update_channel(keep)
        assert (updated.purpose, updated.header) == ("vetted by alpha", "vetted by alpha and beta")

        gone = api.create_channel(
            Channel(team_id=team.id, name="gone", display_name="Gone", type="O")
        )
        api.delete_channel(gone.id)
        with pytest.raises(mp.ValidationError) as info:
            api.restore_channel(gone.id)
        assert info.value.params == {"Reason": "archived for good"}

        with pytest.raises(mp.ValidationError) as info:
            api.add_channel_member(keep.id, mallory.id)
        assert info.value.error_id == "app.channel.add_user.to.channel.rejected_by_plugin"
        assert api.add_channel_member(keep.id, alice.id).user_id == alice.id


def test_user_and_preference_hooks(server: ReferenceServer) -> None:
    with server.client() as api:
        _, _, (alice, bob) = scene(api, "alice", "bob")
        alice.nickname = "al"
        updated = api.update_user(alice)
        assert (updated.nickname, updated.position) == ("al", "vetted")

        api.update_user_active(bob.id, False)
        # App.UpdateActive runs the hook on every deactivation, of a user
        # deactivated already too (user.go@83b7daaf).
        api.update_user_active(bob.id, False)
        want = b'["bob", "bob"]'
        assert wait_for(lambda: api.kv_get("deactivated"), want) == want

        pref = Preference(
            user_id=alice.id, category="display_settings", name="use_military_time", value="true"
        )
        api.update_preferences_for_user(alice.id, [pref])
        want = b'["use_military_time=true"]'
        assert wait_for(lambda: api.kv_get("preferences"), want) == want


def test_configuration_hooks(server: ReferenceServer) -> None:
    with server.client() as api:
        # The plugin's OnActivate ran its OnConfigurationChange first, as Go's.
        assert wait_for(lambda: api.kv_get("config-changes"), b'["changed"]') == b'["changed"]'
        config = ServerConfig(api.get_config())
        config.data["TeamSettings"]["SiteName"] = "Hooked"
        api.save_config(config.to_model())
        assert ServerConfig(api.get_config()).site_name == "Hooked (beta)"

        config.data["TeamSettings"]["SiteName"] = "forbidden"
        with pytest.raises(mp.ValidationError) as info:
            api.save_config(config.to_model())
        assert info.value.error_id == "beta.config.refused"
        assert ServerConfig(api.get_config()).site_name == "Hooked (beta)"

        api.save_plugin_config({"greeting": "hi"})
        # One more for the save of the config, one for the plugin's settings,
        # none for the refused save.
        want = b'["changed", "changed", "changed"]'
        assert wait_for(lambda: api.kv_get("config-changes"), want) == want
        time.sleep(0.5)
        assert api.kv_get("config-changes") == want
        # Each change reloaded beta's configuration before its handler ran.
        greetings = json.loads(api.kv_get("greetings") or b"[]")
        assert greetings[0] == "None" and "hi" in greetings

        # Alpha's settings, saved with the whole configuration.
        config = ServerConfig(api.get_config())
        config.data["PluginSettings"]["Plugins"]["test.alpha"] = {"greeting": "hello alpha"}
        api.save_config(config.to_model())
        _, channel, (alice,) = scene(api, "alice")
        api.add_channel_member(channel.id, alice.id)
        args = CommandArgs(user_id=alice.id, channel_id=channel.id, command="/alpha greeting")
        got = wait_for(lambda: api.execute_slash_command(args).text, "hello alpha")
        assert got == "hello alpha"


def test_upload_hooks_stream_and_reject(server: ReferenceServer) -> None:
    with server.client() as api:
        _, channel, _ = scene(api)
        data = b"abc" * (1 << 20)  # 3 MiB: several chunks each way
        info = api.upload_file(data, channel.id, "notes.txt")
        assert (info.name, info.size) == ("checked-notes.txt", len(data))
        assert api.get_file(info.id) == data.upper()

        with pytest.raises(mp.ValidationError) as err:
            api.upload_file(b"MZ", channel.id, "tool.exe")
        assert err.value.error_id == "File rejected by plugin. no executables"
