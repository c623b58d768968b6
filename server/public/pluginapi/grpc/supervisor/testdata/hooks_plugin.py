"""A plugin that implements every hook of the contract, for the supervisor's tests.

Each handler records its call in the KV store through the Plugin API
("hook:<Name>" = the class name), so that the Go test sees that the hook ran
in the plugin and that the plugin could call back. The post hooks act on
the message: see ``_filter``. SyncHooks has plain handlers and AsyncHooks
async ones; the test runs both.
"""

import asyncio
import os
import time

import mattermost_plugin as mp
from mattermost_plugin._plugin.hookspec import HOOKS
from mattermost_plugin.models import (
    CommandResponse,
    EmailNotificationContent,
    FileData,
    SyncResponse,
)

print("printed at import, before the handshake")


def _filter(context, post, sleep):
    """What MessageWillBePosted and MessageWillBeUpdated do, by message."""
    text = post.message
    if text == "reject":
        return None, "rejected by the test plugin"
    if text == "dismiss":
        return mp.DISMISS
    if text == "raise":
        raise RuntimeError("the handler raised")
    if text == "garbage":
        return 42
    if text == "crash":
        os._exit(3)
    if text == "hang":
        return sleep
    if text == "context":
        post.message = f"{context.request_id}|{context.session_id}|{context.user_agent}"
        return post, ""
    if text == "keep":
        return None if not post.id else post
    post.message = text.replace("darn", "d**n")
    return post


def _http_answer(context, request, body_chunks):
    """ServeHTTP by path; body_chunks is the request body's chunks (sync or async)."""
    if request.path == "/hello":
        text = f"hello {request.method} {request.path} {request.query} {request.header('x-test')}"
        return mp.HTTPResponse(200, {"X-Plugin": "yes", "Content-Type": "text/plain"}, text)
    if request.path == "/context":
        return mp.HTTPResponse(body=f"{len(context.request_id)}|{context.user_agent}")
    if request.path == "/echo":
        return mp.HTTPResponse(201, {"Content-Type": "application/octet-stream"}, body_chunks)
    if request.path == "/big":
        mib = int(request.query.split("=")[1])
        return mp.HTTPResponse(body=(bytes([i % 251]) * (1 << 20) for i in range(mib)))
    if request.path == "/raise":
        raise RuntimeError("the HTTP handler raised")
    if request.path == "/garbage":
        return 42
    if request.path == "/badstatus":
        return mp.HTTPResponse(status=42)
    return mp.HTTPResponse(404, body="no such page")


# The hooks beyond the first seventeen: one answer each, shared by both
# classes through the mixins below; every call is recorded as above.
MORE_ANSWERS = {
    "UserHasBeenCreated": lambda c, user: None,
    "UserWillLogIn": lambda c, user: (
        "blocked users may not log in" if user.username == "blocked" else None
    ),
    "UserHasLoggedIn": lambda c, user: None,
    "UserHasBeenDeactivated": lambda c, user: None,
    "UserWillBeUpdated": lambda c, new, old: _with(new, nickname=f"was {old.nickname}"),
    "MessagesWillBeConsumed": lambda posts: [_with(p, message=p.message.upper()) for p in posts],
    "MessagesWillBeConsumedWithContext": lambda c, posts: [
        _with(p, message=f"{c.request_id}:{p.message}") for p in posts
    ],
    "ChannelWillBeArchived": lambda c, channel: "keep it" if channel.name == "keep" else "",
    "ChannelMemberWillBeAdded": lambda c, member: (_with(member, roles="channel_user plugin"), ""),
    "ChannelWillBeUpdated": lambda c, new, old: _with(new, purpose=f"was {old.purpose}"),
    "ChannelWillBeRestored": lambda c, channel: None,
    "FileWillBeDownloaded": lambda c, info, user_id, kind: (
        f"no {kind} downloads for {user_id}" if kind == "public" else None
    ),
    "OnPluginClusterEvent": lambda c, event: None,
    "OnWebSocketConnect": lambda conn, user: None,
    "OnWebSocketDisconnect": lambda conn, user: None,
    "RunDataRetention": lambda now, batch: batch // 2,
    "OnInstall": lambda c, event: None,
    "OnSendDailyTelemetry": lambda: None,
    "OnCloudLimitsUpdated": lambda limits: None,
    "ConfigurationWillBeSaved": lambda config: config,
    "PreferencesHaveChanged": lambda c, preferences: None,
    "NotificationWillBePushed": lambda notification, user_id: _with(
        notification, message="redacted"
    ),
    "NotificationsWillBeSent": lambda post: "no notifications" if post.message == "quiet" else "",
    "OnSharedChannelsPing": lambda remote: True,
    "OnSharedChannelsAttachmentSyncMsg": lambda info, post, remote: None,
    "OnSharedChannelsProfileImageSyncMsg": lambda user, remote: _fail_profile(user),
    "DraftWillBeUpserted": lambda c, draft: (
        (None, "no drafts here")
        if draft.message == "secret"
        else _with(draft, message=draft.message.strip())
    ),
    "ScheduledPostWillBeCreated": lambda c, scheduled: _with(scheduled, error_code="checked"),
    "EmailNotificationWillBeSent": lambda email: (
        EmailNotificationContent(subject=f"[{email.team_name}] {email.content.subject}"),
        "",
    ),
    "GenerateSupportData": lambda c: [FileData(filename="plugin/diag.txt", body=b"all good")],
    "WebSocketMessageHasBeenPosted": lambda conn, user, request: None,
    "OnSharedChannelsSyncMsg": lambda msg, remote: SyncResponse(
        posts_last_update_at=max([p.update_at for p in msg.posts] or [0]),
        users_syncd=sorted(msg.users),
    ),
    "OnSAMLLogin": lambda c, user, assertion: _check_saml(assertion),
}


def _check_saml(assertion):
    if assertion.warning_info.not_in_audience:
        raise RuntimeError(f"assertion for {assertion.name_id} is not for this audience")


def _with(model, **fields):
    for name, value in fields.items():
        setattr(model, name, value)
    return model


def _fail_profile(user):
    if user.username == "broken":
        raise RuntimeError("cannot sync this image")


def _sync_hook(name, answer):
    def handler(self, *args):
        self._record(name)
        return answer(*args)

    return handler


def _async_hook(name, answer):
    async def handler(self, *args):
        await self._record(name)
        return answer(*args)

    return handler


_METHODS = {spec.name: spec.method for spec in HOOKS.values()}
SyncMore = type("SyncMore", (), {_METHODS[n]: _sync_hook(n, a) for n, a in MORE_ANSWERS.items()})
AsyncMore = type("AsyncMore", (), {_METHODS[n]: _async_hook(n, a) for n, a in MORE_ANSWERS.items()})


class SyncHooks(SyncMore, mp.Plugin):
    def _record(self, name, value=None):
        self.api.kv_set(f"hook:{name}", (value or type(self).__name__).encode())

    def on_activate(self):
        self._record("OnActivate")
        print("printed by OnActivate")
        self.logger.info("activated through the logger")

    def on_deactivate(self):
        self._record("OnDeactivate")

    def on_configuration_change(self):
        self._record("OnConfigurationChange")

    def _answer(self, context, post):
        result = _filter(context, post, "hang")
        if result == "hang":
            time.sleep(30)
            return post
        return result

    def message_will_be_posted(self, context, post):
        self._record("MessageWillBePosted")
        return self._answer(context, post)

    def message_will_be_updated(self, context, new_post, old_post):
        self._record("MessageWillBeUpdated", old_post.message)
        return self._answer(context, new_post)

    def message_has_been_posted(self, context, post):
        self._record("MessageHasBeenPosted", post.message)

    def message_has_been_updated(self, context, new_post, old_post):
        self._record("MessageHasBeenUpdated", f"{old_post.message}->{new_post.message}")

    def message_has_been_deleted(self, context, post):
        self._record("MessageHasBeenDeleted", post.id)

    def reaction_has_been_added(self, context, reaction):
        self._record("ReactionHasBeenAdded", reaction.emoji_name)

    def reaction_has_been_removed(self, context, reaction):
        self._record("ReactionHasBeenRemoved", reaction.emoji_name)

    def channel_has_been_created(self, context, channel):
        self._record("ChannelHasBeenCreated", channel.name)

    def user_has_joined_channel(self, context, channel_member, actor):
        self._record(
            "UserHasJoinedChannel", f"{channel_member.user_id}|{actor.id if actor else ''}"
        )

    def user_has_left_channel(self, context, channel_member, actor):
        self._record("UserHasLeftChannel", f"{channel_member.user_id}|{actor.id if actor else ''}")

    def team_member_will_be_added(self, context, team_member):
        self._record("TeamMemberWillBeAdded", team_member.user_id)
        if team_member.user_id == "rejectme":
            return None, "no such users here"
        team_member.roles = "team_user plugin_role"
        return team_member

    def user_has_joined_team(self, context, team_member, actor):
        self._record("UserHasJoinedTeam", f"{team_member.user_id}|{actor.id if actor else ''}")

    def user_has_left_team(self, context, team_member, actor):
        self._record("UserHasLeftTeam", f"{team_member.user_id}|{actor.id if actor else ''}")

    def file_will_be_uploaded(self, context, info, file, output):
        self._record("FileWillBeUploaded", info.name)
        if info.name == "virus.exe":
            return None, "no executables"
        if info.name.endswith(".txt"):
            for chunk in file.iter_body():
                output.write(chunk.upper())
            info.name += ".checked"
            info.size = output.written
            return info
        return None

    def serve_metrics(self, context, request):
        self._record("ServeMetrics", request.path)
        return mp.HTTPResponse(200, {"Content-Type": "text/plain"}, "plugin_posts_total 3\n")

    def serve_http(self, context, request):
        self._record("ServeHTTP", request.path)
        return _http_answer(context, request, request.iter_body())

    def execute_command(self, context, args):
        self._record("ExecuteCommand", args.command)
        if args.command.startswith("/fail"):
            raise mp.ValidationError(
                "bad command",
                app_error=mp.models.AppError(
                    id="test.command.bad", message="bad command", status_code=400
                ),
            )
        if args.command.startswith("/pass"):
            return None
        return CommandResponse(response_type="ephemeral", text=f"you said {args.command}")


class AsyncHooks(AsyncMore, mp.AsyncPlugin):
    async def _record(self, name, value=None):
        await self.api.kv_set(f"hook:{name}", (value or type(self).__name__).encode())

    async def on_activate(self):
        await self._record("OnActivate")
        print("printed by OnActivate")
        self.logger.info("activated through the logger")

    async def on_deactivate(self):
        await self._record("OnDeactivate")

    async def on_configuration_change(self):
        await self._record("OnConfigurationChange")

    async def _answer(self, context, post):
        result = _filter(context, post, "hang")
        if result == "hang":
            await asyncio.sleep(30)
            return post
        return result

    async def message_will_be_posted(self, context, post):
        await self._record("MessageWillBePosted")
        return await self._answer(context, post)

    async def message_will_be_updated(self, context, new_post, old_post):
        await self._record("MessageWillBeUpdated", old_post.message)
        return await self._answer(context, new_post)

    async def message_has_been_posted(self, context, post):
        await self._record("MessageHasBeenPosted", post.message)

    async def message_has_been_updated(self, context, new_post, old_post):
        await self._record("MessageHasBeenUpdated", f"{old_post.message}->{new_post.message}")

    async def message_has_been_deleted(self, context, post):
        await self._record("MessageHasBeenDeleted", post.id)

    async def reaction_has_been_added(self, context, reaction):
        await self._record("ReactionHasBeenAdded", reaction.emoji_name)

    async def reaction_has_been_removed(self, context, reaction):
        await self._record("ReactionHasBeenRemoved", reaction.emoji_name)

    async def channel_has_been_created(self, context, channel):
        await self._record("ChannelHasBeenCreated", channel.name)

    async def user_has_joined_channel(self, context, channel_member, actor):
        value = f"{channel_member.user_id}|{actor.id if actor else ''}"
        await self._record("UserHasJoinedChannel", value)

    async def user_has_left_channel(self, context, channel_member, actor):
        value = f"{channel_member.user_id}|{actor.id if actor else ''}"
        await self._record("UserHasLeftChannel", value)

    async def team_member_will_be_added(self, context, team_member):
        await self._record("TeamMemberWillBeAdded", team_member.user_id)
        if team_member.user_id == "rejectme":
            return None, "no such users here"
        team_member.roles = "team_user plugin_role"
        return team_member

    async def user_has_joined_team(self, context, team_member, actor):
        value = f"{team_member.user_id}|{actor.id if actor else ''}"
        await self._record("UserHasJoinedTeam", value)

    async def user_has_left_team(self, context, team_member, actor):
        value = f"{team_member.user_id}|{actor.id if actor else ''}"
        await self._record("UserHasLeftTeam", value)

    async def file_will_be_uploaded(self, context, info, file, output):
        await self._record("FileWillBeUploaded", info.name)
        if info.name == "virus.exe":
            return None, "no executables"
        if info.name.endswith(".txt"):
            async for chunk in file.aiter_body():
                await output.awrite(chunk.upper())
            info.name += ".checked"
            info.size = output.written
            return info
        return None

    async def serve_metrics(self, context, request):
        await self._record("ServeMetrics", request.path)

        async def lines():
            yield b"plugin_posts_total 3\n"

        return mp.HTTPResponse(200, {"Content-Type": "text/plain"}, lines())

    async def serve_http(self, context, request):
        await self._record("ServeHTTP", request.path)
        return _http_answer(context, request, request.aiter_body())

    async def execute_command(self, context, args):
        await self._record("ExecuteCommand", args.command)
        if args.command.startswith("/fail"):
            raise mp.ValidationError(
                "bad command",
                app_error=mp.models.AppError(
                    id="test.command.bad", message="bad command", status_code=400
                ),
            )
        if args.command.startswith("/pass"):
            return None
        return CommandResponse(response_type="ephemeral", text=f"you said {args.command}")
