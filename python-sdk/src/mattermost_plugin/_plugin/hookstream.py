"""The hook stream: the host's hook calls on one stream that the plugin opens.

A call on PluginHooks costs a new HTTP/2 stream and several trips through
grpcio's poller; on one long-lived stream (PluginStreams.HookStream, to the
Plugin API server, with the plugin's token) a call is a frame. The runtime
announces the stream's id in its Implemented answer and opens the stream;
the host then sends the plugin's unary hooks on it while it is open, and on
PluginHooks otherwise (the streaming hooks, large requests, and whenever the
stream is down).

Each call goes through :meth:`HookDispatcher.handle`, the path of a
PluginHooks call, with the call's deadline; a cancellation frame, or the
deadline, cancels its task as grpc.aio cancels a unary call's. Answers are
written by one writer task, which puts every answer that is ready into one
frame, up to :data:`MAX_FRAME` bytes; an answer larger than :data:`PIECE`
goes in pieces, so that it never holds the small ones up. A dropped stream
is reopened with backoff; the calls that were in flight on it are cancelled
(the host has failed them open).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import grpc

from .._internal.channel import create_aio_channel
from .._internal.core import CallPolicy
from .._internal.deadlines import Deadlines
from .._internal.errors import app_error_trailers
from ..grpc import plugin_pb2, streams_pb2
from .dispatch import HookDispatcher, HookFailed

__all__ = ["ENV_HOOK_STREAM", "MAX_FRAME", "PIECE", "HookStream", "enabled"]

#: The environment variable that turns the hook stream off: ``0`` (or
#: ``false``, ``off``, ``no``) keeps every hook on PluginHooks.
ENV_HOOK_STREAM = "MATTERMOST_PLUGIN_HOOK_STREAM"
#: The most payload bytes that one frame carries (the host's
#: hooks.MaxStreamFrame).
MAX_FRAME = 1 << 20
#: The largest piece of a split answer (the host's
#: hooks.StreamRequestThreshold).
PIECE = 256 << 10
#: The method prefix of the hooks that the stream carries.
_PREFIX = "/mattermost.plugin.PluginHooks/"
#: Backoff bounds of the reopening, in seconds.
_MIN_BACKOFF, _MAX_BACKOFF = 0.05, 5.0
#: A stream that stayed open this long resets the backoff.
_HEALTHY_SECONDS = 10.0

_Answer = streams_pb2.HookStreamRequest.Answer


class _Outbox:
    """The answers waiting for the writer, and the event that wakes it."""

    def __init__(self) -> None:
        self.items: list[_Answer] = []
        self.ready = asyncio.Event()

    def put(self, answer: _Answer) -> None:
        """Queue an answer for the next frame."""
        self.items.append(answer)
        self.ready.set()


def enabled(environ: Mapping[str, str]) -> bool:
    """Whether the runtime opens a hook stream: it has a Plugin API and it is not turned off."""
    if environ.get(ENV_HOOK_STREAM, "").strip().lower() in ("0", "false", "off", "no"):
        return False
    try:
        CallPolicy.resolve(None, None, None, None, environ)
    except ValueError:
        return False
    return True


def _failure(error: HookFailed) -> plugin_pb2.ErrorStatus:
    """The status of a failed call, as PluginHooks's trailer carries it."""
    status = plugin_pb2.ErrorStatus(code=error.code.value[0], message=error.message)
    if error.app_error is not None:
        status.ParseFromString(app_error_trailers(error.code, error.message, error.app_error)[0][1])
    return status


class HookStream:
    """Opens, serves and reopens the plugin's hook stream.

    Args:
        dispatcher: Runs the calls; its ``hook_stream_id`` is set here, for
            Implemented to announce.
        environ: Where the Plugin API's target and the plugin's token are.
        logger: Where the stream's failures are logged.
    """

    def __init__(
        self, dispatcher: HookDispatcher, environ: Mapping[str, str], logger: logging.Logger
    ) -> None:
        self._dispatcher = dispatcher
        self._policy = CallPolicy.resolve(None, None, None, None, environ)
        self._logger = logger
        self.stream_id = uuid.uuid4().hex
        dispatcher.hook_stream_id = self.stream_id
        self._task: asyncio.Task[None] | None = None
        self._calls: dict[int, asyncio.Task[None]] = {}
        # The deadlines of the calls in flight on the open stream.
        self._deadlines = Deadlines(self._expire, lambda: self._calls)
        #: How many streams were opened, for tests.
        self.opened = 0

    def start(self) -> None:
        """Start opening the stream, on the running loop."""
        self._task = asyncio.ensure_future(self._run())

    async def close(self) -> None:
        """Stop: the stream closes and the calls in flight on it are cancelled."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._cancel_all()

    def _cancel_all(self) -> None:
        self._deadlines.clear()
        for task in self._calls.values():
            task.cancel()
        self._calls.clear()

    def _expire(self, call_id: int) -> None:
        """A call's deadline came: cancel it, as grpc.aio cancels a unary call's task."""
        task = self._calls.get(call_id)
        if task is not None:
            task.cancel()

    async def _run(self) -> None:
        backoff = _MIN_BACKOFF
        loop = asyncio.get_running_loop()
        channel = create_aio_channel(self._policy.target, self._policy.channel_options)
        try:
            while True:
                opened = loop.time()
                try:
                    await self._serve(channel)
                    reason = "the host closed it"
                except grpc.aio.AioRpcError as error:
                    if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                        self._logger.debug("the host takes no hook stream; hooks use PluginHooks")
                        return
                    reason = f"{error.code().name}: {error.details()}"
                finally:
                    self._cancel_all()
                if loop.time() - opened >= _HEALTHY_SECONDS:
                    backoff = _MIN_BACKOFF
                self._logger.debug("hook stream closed (%s); reopening in %.2f s", reason, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
        finally:
            await channel.close(None)

    async def _serve(self, channel: grpc.aio.Channel) -> None:
        """Serve one stream until it ends."""
        call: Any = channel.stream_stream(
            "/mattermost.plugin.PluginStreams/HookStream",
            request_serializer=streams_pb2.HookStreamRequest.SerializeToString,
            response_deserializer=streams_pb2.HookStreamResponse.FromString,
        )(metadata=self._policy.metadata)
        hello = streams_pb2.HookStreamRequest.Hello(stream_id=self.stream_id)
        await call.write(streams_pb2.HookStreamRequest(hello=hello))
        self.opened += 1
        answers = _Outbox()
        writer = asyncio.ensure_future(self._write(call, answers))
        loop = asyncio.get_running_loop()
        calls = self._calls
        try:
            while True:
                frame = await call.read()
                if frame is grpc.aio.EOF:
                    return
                for call_id in frame.cancels:
                    task = calls.pop(call_id, None)
                    if task is not None:
                        task.cancel()
                for hook_call in frame.calls:
                    call_id = hook_call.id
                    timeout = (
                        hook_call.timeout_micros / 1e6 if hook_call.timeout_micros > 0 else None
                    )
                    calls[call_id] = loop.create_task(self._handle(hook_call, timeout, answers))
                    if timeout is not None:
                        self._deadlines.add(loop, timeout, call_id)
                if writer.done():  # the stream broke under the writer
                    writer.result()
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                await writer
            call.cancel()

    async def _write(self, call: Any, answers: _Outbox) -> None:  # noqa: ANN401 - a grpc.aio stream call
        """Write the answers, as many as are ready in each frame."""
        while True:
            await answers.ready.wait()
            answers.ready.clear()
            ready, answers.items = answers.items, []
            start = 0
            while start < len(ready):
                size, end = 0, start
                while end < len(ready) and size < MAX_FRAME:
                    size += len(ready[end].payload)
                    end += 1
                await call.write(streams_pb2.HookStreamRequest(answers=ready[start:end]))
                start = end

    async def _handle(
        self,
        hook_call: streams_pb2.HookStreamResponse.Call,
        timeout: float | None,
        answers: _Outbox,
    ) -> None:
        """Run one call and queue its answer (none when cancelled: by the host, or its deadline)."""
        call_id = hook_call.id
        try:
            answer = await self._answer(hook_call, timeout)
        except asyncio.CancelledError:
            return  # the host gave up on it, or its deadline came: no answer
        finally:
            # Only this call's own entry: a handler that outlived its stream
            # must not drop a call of the next stream that took its id.
            if self._calls.get(call_id) is asyncio.current_task():
                del self._calls[call_id]
        if isinstance(answer, bytes):
            while len(answer) > PIECE:
                answers.put(_Answer(id=call_id, payload=answer[:PIECE], more=True))
                answer = answer[PIECE:]
            answers.put(_Answer(id=call_id, payload=answer))
        else:
            answers.put(_Answer(id=call_id, status=answer))

    async def _answer(
        self, hook_call: streams_pb2.HookStreamResponse.Call, timeout: float | None
    ) -> bytes | plugin_pb2.ErrorStatus:
        """The serialized response of a call, or its failure's status."""
        method = hook_call.method
        name = method[len(_PREFIX) :] if method.startswith(_PREFIX) else ""
        spec = self._dispatcher.unary_spec(name) if name else None
        if spec is None:
            return plugin_pb2.ErrorStatus(
                code=grpc.StatusCode.UNIMPLEMENTED.value[0],
                message=f"Method not found: {method[:200]}",
            )
        try:
            request = spec.request.FromString(hook_call.payload)
        except Exception as error:  # any decode failure of either protobuf backend
            return plugin_pb2.ErrorStatus(
                code=grpc.StatusCode.INTERNAL.value[0],
                message=f"{spec.name}: the request does not parse: {error}",
            )
        try:
            response = await self._dispatcher.handle(spec, request, timeout)
        except HookFailed as failure:
            return _failure(failure)
        return response.SerializeToString()
