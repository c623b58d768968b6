"""AsyncClient's unary calls on one stream (PluginStreams.CallStream).

grpcio spends most of a unary call's time on the call itself: a new HTTP/2
stream and several hops through its poller thread. A long-lived stream
that carries many calls, each a frame with an id, skips most of that: at
64 calls in flight it measured about four times the throughput of unary
calls (see the README's Performance section).

One :class:`CallStream` serves one channel. A call becomes a frame
(its id, method, the time left to its deadline and the serialized request)
and waits on a future that the reader resolves with the answer. The
writer sends every frame that is ready in one stream message; while it
waits for a write to finish, new calls gather for the next one. A call's
deadline and cancellation are its own: the deadline fails it here with
DEADLINE_EXCEEDED and both send the server a cancellation. The deadlines
share one timer (see deadlines.py).

What stays on unary RPCs (``usable`` answers ``False``): the streaming
methods, requests larger than :data:`MAX_STREAMED_REQUEST`, so that one
large message never holds small ones back, calls beyond
:data:`MAX_IN_FLIGHT`, and every call while the stream is unusable:

- a server that does not offer the stream (UNIMPLEMENTED) keeps the
  client on unary calls for good;
- a stream that cannot open, or that ends, fails the calls in flight on it
  with UNAVAILABLE, as a dropped connection fails unary calls, and the
  stream is reopened at the first call after a backoff (doubled from
  :data:`MIN_BACKOFF` to :data:`MAX_BACKOFF` at each failure in a row);
  meanwhile calls are unary.

Failures are ``grpc.aio.AioRpcError`` with the status and trailers that
the unary call would have had, so that the client's one error translation
(errors.from_rpc_error) makes the same exception of them.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import itertools
import time
from typing import Any, Callable

import grpc
import grpc.aio

from ..grpc import streams_pb2
from .deadlines import Deadlines

__all__ = [
    "MAX_IN_FLIGHT",
    "MAX_STREAMED_REQUEST",
    "CallStream",
    "unary_methods",
]

#: The path of the stream RPC.
_PATH = "/mattermost.plugin.PluginStreams/CallStream"
#: Requests larger than this, in bytes, go as unary calls.
MAX_STREAMED_REQUEST = 64 * 1024
#: The most calls in flight on one stream; the server's default limit on
#: streams per connection (server.DefaultMaxConcurrentStreams), which it
#: applies to a stream's calls too. Calls beyond it are unary.
MAX_IN_FLIGHT = 1024
#: The most request bytes gathered into one frame before it is written.
_MAX_FRAME_BYTES = 256 * 1024
#: How long, at most, the writer holds new calls while the last frame of
#: calls is unanswered (see CallStream._hold), in seconds.
LINGER = 0.002
#: Reopening a failed stream waits this long at first, doubling to MAX_BACKOFF.
MIN_BACKOFF = 0.1
MAX_BACKOFF = 5.0
_DETAILS_KEY = "grpc-status-details-bin"
_CODES = {code.value[0]: code for code in grpc.StatusCode}


@functools.cache
def unary_methods() -> dict[str, tuple[str, Callable[[bytes], Any]]]:
    """Each unary PluginAPI method's path and response deserializer, by method name."""
    from .stub import _methods

    return {
        name: (path, deserialize)
        for name, path, factory, deserialize in _methods()
        if factory == "unary_unary"
    }


def rpc_error(
    code: grpc.StatusCode, details: str, trailers: tuple[tuple[str, bytes], ...] = ()
) -> grpc.aio.AioRpcError:
    """The error that a unary call with this status would have raised."""
    return grpc.aio.AioRpcError(
        code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailers), details=details
    )


def _answer_error(status: Any) -> grpc.aio.AioRpcError:  # noqa: ANN401 - an ErrorStatus
    code = _CODES.get(status.code, grpc.StatusCode.UNKNOWN)
    trailers = ((_DETAILS_KEY, status.SerializeToString()),) if status.details else ()
    return rpc_error(code, status.message, trailers)


def _release(waiter: asyncio.Future[None] | None) -> None:
    """Wake a holding writer, if any."""
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class _State(enum.Enum):
    CLOSED = "closed"  # no stream; the next call opens one
    OPENING = "opening"
    OPEN = "open"
    BACKOFF = "backoff"  # failed; calls are unary until the backoff ends
    UNOFFERED = "unoffered"  # the server has no CallStream


#: _State.OPEN, for the checks on every call (an enum member's lookup
#: through its class costs about a tenth of a microsecond).
_OPEN = _State.OPEN


class CallStream:
    """The call stream of one ``grpc.aio`` channel, opened at the first call."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        metadata: tuple[tuple[str, str], ...],
        max_receive: int,
    ) -> None:
        self._channel = channel
        self._metadata = metadata
        self._max_receive = max_receive
        self._state = _State.CLOSED
        self._retry_at = 0.0
        self._backoff = MIN_BACKOFF
        self._ids = itertools.count(1)
        self._call: Any = None
        self._opening: asyncio.Future[bool] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._calls: list[tuple[int, str, int, bytes]] = []
        self._cancels: list[int] = []
        self._pending_bytes = 0
        self._first_frame = True
        self._waiting: dict[int, tuple[asyncio.Future[Any], Callable[[bytes], Any]]] = {}
        self._deadlines = Deadlines(self._expire, lambda: self._waiting)
        # The first call id of the last frame of calls sent while none of
        # its calls is answered (see _hold), and when that frame went.
        self._unread_from: int | None = None
        self._sent_at = 0.0
        self._answered: asyncio.Future[None] | None = None

    def usable(self, request_size: int) -> bool:
        """Whether a unary call of this size goes on the stream now."""
        if request_size > MAX_STREAMED_REQUEST or len(self._waiting) >= MAX_IN_FLIGHT:
            return False
        state = self._state
        if state is _OPEN or state is _State.CLOSED or state is _State.OPENING:
            return True
        if state is _State.BACKOFF and time.monotonic() >= self._retry_at:
            self._state = _State.CLOSED
            return True
        return False

    async def call(
        self,
        path: str,
        payload: bytes,
        deserialize: Callable[[bytes], Any],
        deadline: float | None,
    ) -> Any:  # noqa: ANN401 - the response message
        """Make one call; ``None`` when the stream turned out unusable before it was sent.

        Raises:
            grpc.aio.AioRpcError: The call failed, with the unary call's status.
        """
        if self._state is not _OPEN and not await self._open():
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        call_id = next(self._ids)
        self._waiting[call_id] = (future, deserialize)
        micros = 0 if deadline is None else max(1, int(deadline * 1e6))
        self._calls.append((call_id, path, micros, payload))
        self._pending_bytes += len(payload)
        self._wake.set()
        if deadline is not None:
            self._deadlines.add(loop, deadline, call_id)
        try:
            return await future
        except asyncio.CancelledError:
            if self._waiting.pop(call_id, None) is not None:
                self._queue_cancel(call_id)
            raise

    def _expire(self, call_id: int) -> None:
        waiting = self._waiting.pop(call_id, None)
        if waiting is None:
            return
        self._queue_cancel(call_id)
        future = waiting[0]
        if not future.done():
            future.set_exception(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))

    def _queue_cancel(self, call_id: int) -> None:
        if self._state is _State.OPEN:
            self._cancels.append(call_id)
            self._wake.set()

    async def _open(self) -> bool:
        """Open the stream, or wait for the opening under way; whether it is open.

        The opening is a task of its own, so that the cancellation of the
        call that started it leaves it to the others waiting.
        """
        if self._opening is None:
            self._state = _State.OPENING
            self._opening = asyncio.ensure_future(self._start())
        return await asyncio.shield(self._opening)

    async def _start(self) -> bool:
        method = self._channel.stream_stream(
            _PATH,
            request_serializer=streams_pb2.CallStreamRequest.SerializeToString,
            response_deserializer=streams_pb2.CallStreamResponse.FromString,
        )
        call = method(metadata=self._metadata)
        try:
            # The server sends its headers as the stream opens; a server
            # without the RPC ends it at once.
            await call.initial_metadata()
            if call.done():
                code = await call.code()
                self._fail_open(code)
                return False
        except (grpc.RpcError, grpc.aio.UsageError):
            self._fail_open(None)
            return False
        except asyncio.CancelledError:  # the client was closed
            call.cancel()
            self._opening = None
            raise
        self._opening = None
        if self._state is not _State.OPENING:  # closed meanwhile
            call.cancel()
            return False
        self._call = call
        self._state = _State.OPEN
        self._backoff = MIN_BACKOFF
        self._first_frame = True
        self._reader = asyncio.ensure_future(self._read(call))
        self._writer = asyncio.ensure_future(self._write(call))
        return True

    def _fail_open(self, code: grpc.StatusCode | None) -> None:
        self._opening = None
        if self._state is _State.UNOFFERED:  # for good: no server stream, or closed
            return
        if code is grpc.StatusCode.UNIMPLEMENTED:
            self._state = _State.UNOFFERED
            return
        self._state = _State.BACKOFF
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)

    async def _write(self, call: Any) -> None:  # noqa: ANN401 - a grpc.aio stream call
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                if self._unread_from is not None:
                    await self._hold()
                while self._calls or self._cancels:
                    frame = self._take_frame()
                    if frame.calls:
                        self._unread_from = frame.calls[0].id
                        self._sent_at = time.monotonic()
                    await call.write(frame)
        except (grpc.RpcError, grpc.aio.UsageError, asyncio.InvalidStateError):
            self._drop(call, "the call stream broke while sending")

    async def _hold(self) -> None:
        """Wait while the last frame of calls is unanswered, at most LINGER after it went.

        The calls that arrive meanwhile then go in one frame. Each frame
        costs a write here and a read of its answers, through grpcio's
        poller, about as much as a call's own work: under load, frames of
        many calls keep that cost off each call. At one call in flight no
        frame is unanswered when the next call comes, and none waits.
        """
        wait = self._sent_at + LINGER - time.monotonic()
        if wait <= 0:
            return
        loop = asyncio.get_running_loop()
        answered = self._answered = loop.create_future()
        timer = loop.call_later(wait, _release, answered)
        try:
            await answered
        finally:
            timer.cancel()
            self._answered = None

    def _take_frame(self) -> streams_pb2.CallStreamRequest:
        frame = streams_pb2.CallStreamRequest(cancels=self._cancels)
        self._cancels = []
        if self._first_frame:
            frame.max_receive_bytes = min(self._max_receive, 2**32 - 1)
            self._first_frame = False
        calls = frame.calls
        if self._pending_bytes <= _MAX_FRAME_BYTES:
            for call_id, path, micros, payload in self._calls:
                calls.add(id=call_id, method=path, timeout_micros=micros, payload=payload)
            self._calls, self._pending_bytes = [], 0
            return frame
        size, taken = 0, 0
        for call_id, path, micros, payload in self._calls:
            if taken and size + len(payload) > _MAX_FRAME_BYTES:
                break
            calls.add(id=call_id, method=path, timeout_micros=micros, payload=payload)
            size += len(payload)
            taken += 1
        del self._calls[:taken]
        self._pending_bytes -= size
        return frame

    async def _read(self, call: Any) -> None:  # noqa: ANN401 - a grpc.aio stream call
        reason = "the server ended the call stream"
        try:
            while True:
                frame = await call.read()
                if frame is grpc.aio.EOF:
                    break
                waiting = self._waiting
                unread_from = self._unread_from
                for answer in frame.answers:
                    if unread_from is not None and answer.id >= unread_from:
                        unread_from = self._unread_from = None
                        _release(self._answered)
                    entry = waiting.pop(answer.id, None)
                    if entry is None:
                        continue  # cancelled, or past its deadline
                    future, deserialize = entry
                    if future.done():
                        continue
                    if answer.HasField("status"):
                        future.set_exception(_answer_error(answer.status))
                        continue
                    try:
                        future.set_result(deserialize(answer.payload))
                    except Exception as error:  # a bad answer fails its call only
                        future.set_exception(error)
        except grpc.RpcError as error:
            details = error.details() if isinstance(error, grpc.aio.AioRpcError) else ""
            reason = f"the call stream broke: {details or error}"
        except asyncio.CancelledError:
            reason = "the call stream was closed"
        self._drop(call, reason)

    def _drop(self, call: Any, reason: str) -> None:  # noqa: ANN401 - a grpc.aio stream call
        """Fail the calls in flight on ``call``'s stream, and back off before the next."""
        if call is not self._call:
            return
        self._call = None
        call.cancel()
        for task in (self._reader, self._writer):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        self._reader = self._writer = None
        waiting, self._waiting = self._waiting, {}
        self._calls, self._cancels, self._pending_bytes = [], [], 0
        self._deadlines.clear()
        for future, _ in waiting.values():
            if not future.done():
                future.set_exception(rpc_error(grpc.StatusCode.UNAVAILABLE, reason))
        self._fail_open(None)

    def close(self) -> None:
        """End the stream; calls in flight fail with CANCELLED."""
        call = self._call
        self._state = _State.UNOFFERED
        if self._opening is not None:
            self._opening.cancel()
            self._opening = None
        if call is None:
            return
        self._call = None
        call.cancel()
        for task in (self._reader, self._writer):
            if task is not None:
                task.cancel()
        self._deadlines.clear()
        waiting, self._waiting = self._waiting, {}
        for future, _ in waiting.values():
            if not future.done():
                future.set_exception(rpc_error(grpc.StatusCode.CANCELLED, "the client was closed"))
