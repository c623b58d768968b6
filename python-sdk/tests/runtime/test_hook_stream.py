"""The hook stream between the dev server and a Python plugin, and its faults.

Run as every runtime test is, once with the stream (the default) and once
with MATTERMOST_PLUGIN_HOOK_STREAM=0, where every hook takes PluginHooks:
each test checks what its transport promises. The host's side of the
stream's faults (a dropped stream, a reopened one, cancellation frames,
split answers) is tested in Go, in hooks/streamconn_test.go; the plugin's
side of a dropped stream, against a host of its own, at the end here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

import mattermost_plugin as mp
from mattermost_plugin._plugin import hookstream
from mattermost_plugin._plugin.dispatch import HookDispatcher
from mattermost_plugin._plugin.threads import HandlerThreads
from mattermost_plugin.grpc import hooks_pb2, posts_pb2, streams_pb2
from mattermost_plugin.models import (
    Channel,
    Command,
    CommandArgs,
    CommandResponse,
    Post,
    Team,
    User,
)
from mattermost_plugin.testing import ReferenceServer

pytest_plugins = ["mattermost_plugin.pytest_plugin"]

#: Whether this run has the stream, as the server and its plugins read it.
STREAM = hookstream.enabled(
    {**os.environ, "MATTERMOST_PLUGIN_API_TARGET": "x", "MATTERMOST_PLUGIN_API_TOKEN": "y"}
)


class Streamed(mp.AsyncPlugin):
    """Answers posts, crashes or hangs on request, and answers a giant command."""

    async def on_activate(self) -> None:
        await self.api.register_command(Command(trigger="streamed", auto_complete=False))

    async def message_will_be_posted(self, context: Any, post: Post) -> Post:
        if post.message == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        if post.message == "hang":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.logger.info("hang cancelled")
                raise
        post.message += " [seen]"
        return post

    async def execute_command(self, context: Any, args: CommandArgs) -> CommandResponse:
        return CommandResponse(text="x" * (3 << 20))


def _opened(server: ReferenceServer) -> int:
    return sum(1 for r in server.log_records() if r.get("msg") == "hook stream open")


def _wait(cond: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _channel(api: mp.Client) -> tuple[User, Channel]:
    team = api.create_team(Team(name="streams", display_name="Streams", type="O"))
    user = api.create_user(User(username="sam", email="sam@example.com", password="pw-s3cret"))
    api.create_team_member(team.id, user.id)
    channel = api.create_channel(Channel(team_id=team.id, name="s", display_name="S", type="O"))
    return user, channel


@pytest.fixture
def server(plugin_server: Callable[..., ReferenceServer]) -> ReferenceServer:
    return plugin_server(Streamed, "-hook-timeout", "1s", "-log-level", "debug")


def test_hooks_take_the_transport_of_the_run(server: ReferenceServer) -> None:
    with server.client() as api:
        user, channel = _channel(api)
        if STREAM:
            assert _wait(lambda: _opened(server) == 1), "the plugin opened no hook stream"
        for i in range(20):
            post = api.create_post(Post(user_id=user.id, channel_id=channel.id, message=f"m{i}"))
            assert post.message == f"m{i} [seen]"
    assert _opened(server) == (1 if STREAM else 0)


def test_a_crash_mid_stream_fails_open_and_the_restarted_plugin_serves(
    server: ReferenceServer,
) -> None:
    with server.client() as api:
        user, channel = _channel(api)
        if STREAM:
            assert _wait(lambda: _opened(server) == 1)
        post = api.create_post(Post(user_id=user.id, channel_id=channel.id, message="crash"))
        assert post.message == "crash"  # the call in flight failed open

        def served() -> bool:
            p = api.create_post(Post(user_id=user.id, channel_id=channel.id, message="back"))
            return p.message == "back [seen]"

        assert _wait(served, 30), "the restarted plugin never answered"
        if STREAM:
            assert _wait(lambda: _opened(server) == 2), "the restarted plugin opened no stream"


def test_a_deadline_cancels_the_handler(server: ReferenceServer) -> None:
    with server.client() as api:
        user, channel = _channel(api)
        start = time.monotonic()
        post = api.create_post(Post(user_id=user.id, channel_id=channel.id, message="hang"))
        assert post.message == "hang"
        assert time.monotonic() - start < 10
    assert _wait(
        lambda: any("hang cancelled" in str(r.get("msg")) for r in server.log_records())
    ), "the handler was not cancelled at the deadline"


def test_a_giant_answer(server: ReferenceServer) -> None:
    with server.client() as api:
        user, channel = _channel(api)
        if STREAM:
            assert _wait(lambda: _opened(server) == 1)
        response = api.execute_slash_command(
            CommandArgs(user_id=user.id, command="/streamed", channel_id=channel.id)
        )
        assert len(response.text) == 3 << 20


class _Host:
    """A host's side of PluginStreams.HookStream, for a plugin's HookStream to open."""

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            "mattermost.plugin.PluginStreams",
            {
                "HookStream": grpc.stream_stream_rpc_method_handler(
                    self.hook_stream,
                    request_deserializer=streams_pb2.HookStreamRequest.FromString,
                    response_serializer=streams_pb2.HookStreamResponse.SerializeToString,
                )
            },
        )

    async def hook_stream(self, request_iterator: Any, context: Any) -> None:
        raise NotImplementedError


async def _serve_plugin(
    tmp_path: Path,
    host: _Host,
    plugin: mp.AsyncPlugin,
    check: Callable[[hookstream.HookStream], Awaitable[None]],
) -> None:
    """Run ``check`` while the plugin's HookStream is served by ``host``."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([host.handler()])
    target = f"unix:{tmp_path}/api.sock"
    server.add_insecure_port(target)
    await server.start()
    threads = HandlerThreads(2)
    environ = {"MATTERMOST_PLUGIN_API_TARGET": target, "MATTERMOST_PLUGIN_API_TOKEN": "t"}
    logger = logging.getLogger("test_hook_stream")
    stream = hookstream.HookStream(HookDispatcher(plugin, threads, logger), environ, logger)
    stream.start()
    try:
        await check(stream)
    finally:
        await stream.close()
        await server.stop(0)
        threads.shutdown()


class _DroppingHost(_Host):
    """A host's HookStream: each stream gets one call; the first then ends, as in a restart."""

    def __init__(self) -> None:
        self.answers: asyncio.Queue[tuple[int, float, Any]] = asyncio.Queue()
        self.opened_at: list[float] = []
        self.dropped_at = 0.0

    async def hook_stream(self, request_iterator: Any, context: Any) -> None:
        hello = await context.read()
        assert hello.hello.stream_id
        self.opened_at.append(time.monotonic())
        n = len(self.opened_at)
        request = hooks_pb2.MessageWillBePostedRequest(post=posts_pb2.Post(message=f"s{n}"))
        call = streams_pb2.HookStreamResponse.Call(
            id=1,
            method="/mattermost.plugin.PluginHooks/MessageWillBePosted",
            timeout_micros=5_000_000,
            payload=request.SerializeToString(),
        )
        await context.write(streams_pb2.HookStreamResponse(calls=[call]))
        frame = await context.read()
        await self.answers.put((n, time.monotonic(), frame))
        if n == 1:
            self.dropped_at = time.monotonic()
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the host restarts")
        await asyncio.sleep(30)  # the second stream stays open until the test ends


async def test_a_dropped_stream_is_reopened_after_a_backoff(tmp_path: Path) -> None:
    """The runtime's side of a host restart: the stream ends, and a new one serves the calls."""
    host = _DroppingHost()
    answers: list[tuple[int, float, Any]] = []
    opened: list[int] = []

    async def check(stream: hookstream.HookStream) -> None:
        answers.extend([await asyncio.wait_for(host.answers.get(), 15) for _ in range(2)])
        opened.append(stream.opened)

    await _serve_plugin(tmp_path, host, Streamed(), check)
    for n, _, frame in answers:
        (answer,) = frame.answers
        assert answer.id == 1 and not answer.HasField("status")
        response = hooks_pb2.MessageWillBePostedResponse.FromString(answer.payload)
        assert response.post.message == f"s{n} [seen]"
    assert opened == [2]
    # Reopened no sooner than the first backoff.
    assert host.opened_at[1] - host.dropped_at >= hookstream._MIN_BACKOFF


def _post_call(call_id: int, message: str, timeout_micros: int) -> Any:
    request = hooks_pb2.MessageWillBePostedRequest(post=posts_pb2.Post(message=message))
    return streams_pb2.HookStreamResponse.Call(
        id=call_id,
        method="/mattermost.plugin.PluginHooks/MessageWillBePosted",
        timeout_micros=timeout_micros,
        payload=request.SerializeToString(),
    )


class _ScriptedHost(_Host):
    """A host's HookStream that sends the given frames of calls and collects the answers."""

    def __init__(self, frames: list[list[Any]]) -> None:
        self.frames = frames
        self.answers: asyncio.Queue[Any] = asyncio.Queue()

    async def hook_stream(self, request_iterator: Any, context: Any) -> None:
        await context.read()  # hello
        for calls in self.frames:
            await context.write(streams_pb2.HookStreamResponse(calls=calls))
        while True:
            frame = await context.read()
            if frame is grpc.aio.EOF:
                return
            for answer in frame.answers:
                await self.answers.put(answer)


class _Hanging(mp.AsyncPlugin):
    """Marks posts; hangs on "hang" until cancelled, and notes the cancellation."""

    def __init__(self) -> None:
        super().__init__()
        self.cancelled: list[str] = []

    async def message_will_be_posted(self, context: Any, post: Post) -> Post:
        if post.message == "hang":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.append(post.message)
                raise
        post.message += " [seen]"
        return post


async def test_deadlines_on_the_stream_cancel_only_their_call(tmp_path: Path) -> None:
    """A call past its deadline is cancelled and not answered; the others are, the
    one without a deadline included."""
    host = _ScriptedHost(
        [[_post_call(1, "hang", 200_000), _post_call(2, "a", 0), _post_call(3, "b", 30_000_000)]]
    )

    async def check(stream: hookstream.HookStream) -> None:
        answers = [await asyncio.wait_for(host.answers.get(), 15) for _ in range(2)]
        assert sorted(a.id for a in answers) == [2, 3]
        await asyncio.sleep(0.5)  # the hanging call's deadline has passed by now
        assert host.answers.empty(), "a call past its deadline was answered"
        assert stream._calls == {}

    plugin = _Hanging()
    await _serve_plugin(tmp_path, host, plugin, check)
    assert plugin.cancelled == ["hang"]


async def test_the_deadlines_of_answered_hooks_do_not_pile_up(tmp_path: Path) -> None:
    """A thousand calls with a long deadline, answered, leave the plugin's deadline
    heap about as large as the calls in flight, and its timer set."""
    frames = [[_post_call(i * 50 + j + 1, "x", 60_000_000) for j in range(50)] for i in range(20)]
    host = _ScriptedHost(frames)

    async def check(stream: hookstream.HookStream) -> None:
        answers = [await asyncio.wait_for(host.answers.get(), 15) for _ in range(1000)]
        assert len({a.id for a in answers}) == 1000
        assert len(stream._deadlines) <= 2 * 50 + 64
        assert stream._deadlines.armed

    await _serve_plugin(tmp_path, host, _Hanging(), check)


class _Stubborn(mp.AsyncPlugin):
    """Hangs on "stubborn" and, cancelled, finishes once released; hangs on "hang"
    until cancelled, and notes the cancellation."""

    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, asyncio.Event] = {
            "stubborn": asyncio.Event(),
            "hang": asyncio.Event(),
        }
        self.release = asyncio.Event()
        self.stubborn_done = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def message_will_be_posted(self, context: Any, post: Post) -> Post:
        self.started[post.message].set()
        if post.message == "stubborn":
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                await self.release.wait()  # it ignores the cancellation for a while
            finally:
                self.stubborn_done.set()
        else:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        return post


class _ReusingHost(_Host):
    """Stream 1 gets call 1, a handler that outlives the stream; stream 2 gets
    another call 1, which it cancels once the first handler has ended."""

    def __init__(self, plugin: _Stubborn) -> None:
        self.plugin = plugin
        self.streams = 0

    async def hook_stream(self, request_iterator: Any, context: Any) -> None:
        await context.read()  # hello
        self.streams += 1
        plugin = self.plugin
        if self.streams == 1:
            await context.write(
                streams_pb2.HookStreamResponse(calls=[_post_call(1, "stubborn", 0)])
            )
            await plugin.started["stubborn"].wait()
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the host restarts")
        await context.write(streams_pb2.HookStreamResponse(calls=[_post_call(1, "hang", 0)]))
        await plugin.started["hang"].wait()
        plugin.release.set()
        await plugin.stubborn_done.wait()
        await asyncio.sleep(0.05)  # the first call's task ends after its handler
        await context.write(streams_pb2.HookStreamResponse(cancels=[1]))
        await asyncio.sleep(30)


async def test_a_handler_that_outlives_its_stream_leaves_the_next_streams_calls(
    tmp_path: Path,
) -> None:
    """Call ids start again on a reopened stream: the end of a call that outlived
    its stream leaves the new call of the same id cancellable by the host."""
    plugin = _Stubborn()
    host = _ReusingHost(plugin)

    async def check(stream: hookstream.HookStream) -> None:
        await asyncio.wait_for(plugin.cancelled.wait(), 15)
        assert host.streams == 2

    await _serve_plugin(tmp_path, host, plugin, check)
