"""What the sync and async clients share.

:class:`CallPolicy` holds everything that does no I/O: the resolved target
and token, the metadata every call carries and the timeout rules.
:class:`SyncCore` and :class:`AsyncCore` differ only in the call itself.
The generated per-domain method classes of ``mattermost_plugin._api``
(one module per domain) build on them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import math
import os
import sys
import warnings
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import grpc
import grpc.aio

from ..config import (
    AUTH_SCHEME,
    DEFAULT,
    DEFAULT_TIMEOUT,
    ENV_TARGET,
    ENV_TOKEN,
    MAX_TIMEOUT,
    METADATA_KEY,
    ChannelOptions,
    Timeout,
)
from ..exceptions import ClientClosedError, PluginAPIError
from .channel import check_target, create_aio_channel, create_channel
from .errors import from_rpc_error
from .streams import (
    AsyncByteStream,
    AsyncHTTPResponse,
    ByteStream,
    HTTPResponse,
    Upload,
    response_head,
)
from .stub import PluginAPIStub

if TYPE_CHECKING:
    # The generated stubs type the calls; at run time PluginAPIStub makes them.
    from ..grpc import api_pb2_grpc
    from .callstream import CallStream

__all__ = ["AsyncCore", "CallPolicy", "SyncCore"]

_Req = TypeVar("_Req")
_Resp = TypeVar("_Resp")
_Self = TypeVar("_Self")


@dataclasses.dataclass(frozen=True)
class CallPolicy:
    """The resolved settings of a client.

    Explicit arguments win over the environment; a missing target or token
    is an error at construction, not at the first call.
    """

    target: str
    metadata: tuple[tuple[str, str], ...]
    timeout: float | None
    channel_options: ChannelOptions

    @classmethod
    def resolve(
        cls,
        target: str | None,
        token: str | None,
        timeout: float | None,
        channel_options: ChannelOptions | None,
        environ: Mapping[str, str] | None = None,
    ) -> CallPolicy:
        """Resolve constructor arguments against the environment."""
        env = os.environ if environ is None else environ
        resolved_target = target if target is not None else env.get(ENV_TARGET, "")
        if not resolved_target:
            raise ValueError(f"no Plugin API target: pass target= or set {ENV_TARGET}")
        resolved_token = token if token is not None else env.get(ENV_TOKEN, "")
        if not resolved_token:
            raise ValueError(f"no plugin token: pass token= or set {ENV_TOKEN}")
        if (
            not resolved_token.isascii()
            or not resolved_token.isprintable()
            or " " in resolved_token
        ):
            raise ValueError("the plugin token must be printable ASCII without spaces")
        return cls(
            target=resolved_target,
            metadata=((METADATA_KEY, f"{AUTH_SCHEME} {resolved_token}"),),
            timeout=_check_timeout(timeout),
            channel_options=channel_options if channel_options is not None else ChannelOptions(),
        )

    def deadline(self, timeout: Timeout) -> float | None:
        """Return the seconds one call may take, given its ``timeout`` argument."""
        if timeout is DEFAULT:
            return self.timeout
        return _check_timeout(timeout)


def _check_timeout(timeout: float | object | None) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be seconds, None or DEFAULT, not {type(timeout).__name__}")
    if not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT:
        raise ValueError(
            f"timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds "
            f"(use None for no deadline), not {timeout!r}"
        )
    return float(timeout)


class _State(enum.Enum):
    UNOPENED = "unopened"
    OPENED = "opened"
    CLOSED = "closed"


#: _State.CLOSED, for the check on every call (an enum member's lookup
#: through its class costs about a tenth of a microsecond).
_CLOSED = _State.CLOSED


class _Core:
    """What both clients hold: the resolved policy and the lifecycle state.

    The lifecycle follows httpx: a client may be used with or without a
    ``with`` block, entered at most once, and not reopened once closed.
    """

    def __init__(
        self,
        target: str | None = None,
        # Only to refuse a positional token with a message that says token=;
        # typed NoReturn so that type checkers refuse it too, and hidden from
        # the signature below.
        *_positional: NoReturn,
        token: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        channel_options: ChannelOptions | None = None,
    ) -> None:
        """Resolve the settings; the channel connects lazily.

        Args:
            target: gRPC target of the server; defaults to the
                ``MATTERMOST_PLUGIN_API_TARGET`` environment variable.
            token: The plugin's token; defaults to the
                ``MATTERMOST_PLUGIN_API_TOKEN`` environment variable.
            timeout: Default seconds per call; ``None`` for no deadline.
            channel_options: Message size and keepalive settings.
        """
        if _positional:
            name = type(self).__name__
            raise TypeError(
                f"{name}() takes the target as its only positional argument; pass the token "
                f"as token=: {name}(target, token=...)"
            )
        if channel_options is not None and not isinstance(channel_options, ChannelOptions):
            raise TypeError(
                f"channel_options must be a ChannelOptions, not {type(channel_options).__name__}"
            )
        self._policy = CallPolicy.resolve(target, token, timeout, channel_options)
        check_target(self._policy.target)
        self._state = _State.UNOPENED
        self._init_channel()

    def _init_channel(self) -> None:
        raise NotImplementedError

    #: Set by the plugin runtime on the plugin's own blocking client: its
    #: first call from a running event loop (an ``async`` handler of a
    #: sync plugin) warns; see :func:`_warn_blocking_in_loop`.
    _warn_in_event_loop: bool = False

    @property
    def target(self) -> str:
        """The gRPC target this client calls."""
        return self._policy.target

    @property
    def is_closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._state is _State.CLOSED

    def __repr__(self) -> str:
        return f"<{type(self).__name__} target={self._policy.target!r} {self._state.value}>"

    def __reduce__(self) -> str:
        raise TypeError(
            f"{type(self).__name__} cannot be pickled: it holds a live channel; "
            "create a client in each process"
        )

    def _check_open(self, method: str) -> None:
        if self._state is _CLOSED:
            raise ClientClosedError(f"{method}: the client is closed")

    def _enter(self) -> None:
        if self._state is _State.OPENED:
            raise RuntimeError(
                f"{type(self).__name__} is already open: a client can be entered only once"
            )
        if self._state is _State.CLOSED:
            raise ClientClosedError(
                f"{type(self).__name__} is closed and cannot be reopened; create a new one"
            )
        self._state = _State.OPENED

    def _closed_error(self, method: str) -> ClientClosedError:
        return ClientClosedError(f"{method}: the client was closed during the call")


def _public_signature(function: Any) -> inspect.Signature:  # noqa: ANN401 - a function
    """``function``'s signature without its parameters whose names start with ``_``."""
    signature = inspect.signature(function)
    kept = [p for p in signature.parameters.values() if not p.name.startswith("_")]
    return signature.replace(parameters=kept)


# help(Client) and inspect.signature(Client) show (target=None, *, token=None, ...).
_Core.__init__.__signature__ = _public_signature(_Core.__init__)  # type: ignore[attr-defined]

#: The warning of a blocking call from an event loop, given once per process.
BLOCKING_CALL_WARNING = (
    "a blocking Client call from an async handler stalls every hook; "
    "subclass mattermost_plugin.AsyncPlugin and await self.api"
)
#: The SDK's package directory: the frames that a warning skips.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _warn_blocking_in_loop(core: _Core) -> None:
    """Warn, once, when ``core`` is called on a thread that runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    core._warn_in_event_loop = False
    # Point at the plugin's line: skip this module's and the SDK's frames.
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(BLOCKING_CALL_WARNING, RuntimeWarning, stacklevel=level + 1)


class SyncCore(_Core):
    """The blocking half: a ``grpc.Channel`` and the call that uses it."""

    def _init_channel(self) -> None:
        self._channel = create_channel(self._policy.target, self._policy.channel_options)
        self._stub = cast("api_pb2_grpc.PluginAPIStub", PluginAPIStub(self._channel))

    def _invoke(
        self,
        name: str,
        method: grpc.UnaryUnaryMultiCallable[_Req, _Resp],
        request: _Req,
        timeout: Timeout,
    ) -> _Resp:
        self._check_open(name)
        if self._warn_in_event_loop:
            _warn_blocking_in_loop(self)
        deadline = self._policy.deadline(timeout)
        try:
            return method(request, timeout=deadline, metadata=self._policy.metadata)
        except grpc.RpcError as error:
            if self._state is _State.CLOSED:
                raise self._closed_error(name) from error
            raise from_rpc_error(error, name, deadline) from error
        except ValueError as error:
            # grpc raises ValueError for a call on a channel closed under it.
            if self._state is _State.CLOSED:
                raise self._closed_error(name) from error
            raise

    def _translate(self, error: Exception, name: str, deadline: float | None) -> Exception:
        """The SDK's error for a failure of a call: closed, or from its status."""
        if self._state is _State.CLOSED:
            return self._closed_error(name)
        if isinstance(error, grpc.RpcError):
            return from_rpc_error(error, name, deadline)
        return error

    def _invoke_upload(
        self,
        name: str,
        method: grpc.StreamUnaryMultiCallable[_Req, _Resp],
        upload: Upload[_Req],
        timeout: Timeout,
    ) -> _Resp:
        """Run a client-streaming call; a failure reading the data is raised as it is."""
        try:
            return self._invoke(name, method, iter(upload), timeout)  # type: ignore[arg-type]
        except PluginAPIError as error:
            if upload.error is not None:
                raise upload.error from error
            raise

    def _download(
        self,
        name: str,
        method: grpc.UnaryStreamMultiCallable[_Req, Any],
        request: _Req,
        timeout: Timeout,
    ) -> ByteStream:
        """Start a server-streaming call; its chunks arrive through the stream."""
        self._check_open(name)
        if self._warn_in_event_loop:
            _warn_blocking_in_loop(self)
        deadline = self._policy.deadline(timeout)
        try:
            call = method(request, timeout=deadline, metadata=self._policy.metadata)
        except ValueError as error:
            if self._state is _State.CLOSED:
                raise self._closed_error(name) from error
            raise
        return ByteStream(call, lambda error: self._translate(error, name, deadline))

    def _exchange(
        self,
        name: str,
        method: grpc.StreamStreamMultiCallable[_Req, Any],
        upload: Upload[_Req],
        timeout: Timeout,
    ) -> HTTPResponse:
        """Run a bidirectional HTTP call: send the request, return the answer's head and body."""
        self._check_open(name)
        if self._warn_in_event_loop:
            _warn_blocking_in_loop(self)
        deadline = self._policy.deadline(timeout)
        try:
            call = method(iter(upload), timeout=deadline, metadata=self._policy.metadata)
            first = next(call)
        except StopIteration:
            raise RuntimeError(f"{name}: the answer has no head") from None
        except (grpc.RpcError, ValueError) as error:
            if upload.error is not None:
                raise upload.error from error
            raise self._translate(error, name, deadline) from error
        status, header = response_head(first)
        body = ByteStream(call, lambda error: self._translate(error, name, deadline))
        return HTTPResponse(status, header, body)

    def close(self) -> None:
        """Close the channel. Idempotent.

        Calls in flight in other threads fail with :class:`ClientClosedError`.
        """
        if self._state is not _State.CLOSED:
            self._state = _State.CLOSED
            self._channel.close()

    def __enter__(self: _Self) -> _Self:
        self._enter()  # type: ignore[attr-defined]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


#: The environment variable that picks an AsyncClient's transport when the
#: constructor does not: "stream" or "unary".
ENV_TRANSPORT = "MATTERMOST_PLUGIN_API_TRANSPORT"
_TRANSPORTS = ("stream", "unary")


def _resolve_transport(transport: str | None) -> str:
    source = "transport"
    if transport is None:
        transport, source = os.environ.get(ENV_TRANSPORT) or "stream", ENV_TRANSPORT
    if not isinstance(transport, str):
        raise TypeError(f"transport must be a str, not {type(transport).__name__}")
    if transport not in _TRANSPORTS:
        raise ValueError(f"{source} must be 'stream' or 'unary', not {transport!r}")
    return transport


def _cancel_requested() -> bool:
    """Whether the running task was asked to cancel (Python 3.11 and later)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling()) if cancelling is not None else False


class AsyncCore(_Core):
    """The asyncio half: a ``grpc.aio.Channel`` per event loop, and the awaited call.

    The channel is made in the event loop that first uses the client, not in
    the constructor, so that a client may be built outside a running loop
    (at module level, in a fixture). When that loop has been closed, as
    between two ``asyncio.run`` calls, the next call makes a new channel in
    the running loop. Using one client from two live loops at once is an
    error.
    """

    def __init__(
        self,
        target: str | None = None,
        *_positional: NoReturn,
        token: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        channel_options: ChannelOptions | None = None,
        transport: str | None = None,
    ) -> None:
        """Resolve the settings; the channel connects lazily.

        Args:
            target: gRPC target of the server; defaults to the
                ``MATTERMOST_PLUGIN_API_TARGET`` environment variable.
            token: The plugin's token; defaults to the
                ``MATTERMOST_PLUGIN_API_TOKEN`` environment variable.
            timeout: Default seconds per call; ``None`` for no deadline.
            channel_options: Message size and keepalive settings.
            transport: ``"stream"`` to send unary calls on one stream per
                client, ``"unary"`` for a gRPC call each; defaults to the
                ``MATTERMOST_PLUGIN_API_TRANSPORT`` environment variable,
                else ``"stream"``.
        """
        self._stream_calls = _resolve_transport(transport) == "stream"
        super().__init__(
            target, *_positional, token=token, timeout=timeout, channel_options=channel_options
        )

    def _init_channel(self) -> None:
        self._channel: grpc.aio.Channel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stub_: api_pb2_grpc.PluginAPIAsyncStub | None = None
        self._calls: CallStream | None = None
        # The unary methods' paths and deserializers, for calls on _calls.
        self._stream_methods: dict[str, tuple[str, Callable[[bytes], Any]]] = {}

    @property
    def _stub(self) -> api_pb2_grpc.PluginAPIAsyncStub:
        loop = asyncio.get_running_loop()
        if self._stub_ is None or self._loop is not loop:
            if self._loop is not None and self._loop is not loop and not self._loop.is_closed():
                raise RuntimeError(
                    f"{type(self).__name__} is in use by another running event loop; "
                    "create one client per event loop"
                )
            if self._calls is not None:
                self._calls.close()
                self._calls = None
            self._channel = create_aio_channel(self._policy.target, self._policy.channel_options)
            self._loop = loop
            self._stub_ = cast("api_pb2_grpc.PluginAPIAsyncStub", PluginAPIStub(self._channel))
            if self._stream_calls:
                from .callstream import CallStream, unary_methods

                self._stream_methods = unary_methods()
                self._calls = CallStream(
                    self._channel,
                    self._policy.metadata,
                    self._policy.channel_options.max_message_size,
                )
        assert self._stub_ is not None
        return self._stub_

    async def _invoke(
        self,
        name: str,
        method: grpc.aio.UnaryUnaryMultiCallable[_Req, _Resp],
        request: _Req,
        timeout: Timeout,
    ) -> _Resp:
        self._check_open(name)
        deadline = self._policy.deadline(timeout)
        try:
            calls = self._calls
            if calls is not None:
                on_stream = self._stream_methods.get(name)
                if on_stream is not None:
                    payload = request.SerializeToString()  # type: ignore[attr-defined]
                    if calls.usable(len(payload)):
                        response = await calls.call(on_stream[0], payload, on_stream[1], deadline)
                        if response is not None:
                            return cast("_Resp", response)
            return await method(request, timeout=deadline, metadata=self._policy.metadata)
        except grpc.RpcError as error:
            # grpc's frames in the traceback hold the call, and the call
            # holds the connection open past close() until a GC pass. The
            # chained cause keeps its code, details and metadata.
            error.__traceback__ = None
            if self._state is _State.CLOSED:
                raise self._closed_error(name) from error
            raise from_rpc_error(error, name, deadline) from error
        except asyncio.CancelledError as error:
            if self._state is _State.CLOSED and not _cancel_requested():
                raise self._closed_error(name) from error
            raise
        except grpc.aio.UsageError as error:
            # A call that raced with close() on a channel closed under it.
            if self._state is _State.CLOSED:
                raise self._closed_error(name) from error
            raise

    def _translate(self, error: BaseException, name: str, deadline: float | None) -> BaseException:
        """The SDK's error for a failure of a call: closed, cancelled or from its status."""
        if self._state is _State.CLOSED and not (
            isinstance(error, asyncio.CancelledError) and _cancel_requested()
        ):
            return self._closed_error(name)
        if isinstance(error, grpc.RpcError):
            return from_rpc_error(error, name, deadline)
        return error

    async def _invoke_upload(
        self,
        name: str,
        method: grpc.aio.StreamUnaryMultiCallable[_Req, _Resp],
        upload: Upload[_Req],
        timeout: Timeout,
    ) -> _Resp:
        """Run a client-streaming call; a failure reading the data is raised as it is."""
        requests = upload.__aiter__() if upload.is_async else iter(upload)
        try:
            return await self._invoke(name, method, requests, timeout)  # type: ignore[arg-type]
        except PluginAPIError as error:
            if upload.error is not None:
                raise upload.error from error
            raise
        except asyncio.CancelledError as error:
            # grpc.aio cancels the call when reading the data fails.
            if upload.error is not None and not _cancel_requested():
                raise upload.error from error
            raise

    def _download(
        self,
        name: str,
        method_name: str,
        request: object,
        timeout: Timeout,
    ) -> AsyncByteStream:
        """A server-streaming call that starts at the first read."""
        self._check_open(name)
        deadline = self._policy.deadline(timeout)

        def start() -> object:
            self._check_open(name)
            method = getattr(self._stub, method_name)
            call: object = method(request, timeout=deadline, metadata=self._policy.metadata)
            return call

        return AsyncByteStream(start, lambda error: self._translate(error, name, deadline))

    async def _exchange(
        self,
        name: str,
        method_name: str,
        upload: Upload[Any],
        timeout: Timeout,
    ) -> AsyncHTTPResponse:
        """Run a bidirectional HTTP call: send the request, return the answer's head and body."""
        self._check_open(name)
        deadline = self._policy.deadline(timeout)
        requests = upload.__aiter__() if upload.is_async else iter(upload)
        method = getattr(self._stub, method_name)
        call = method(requests, timeout=deadline, metadata=self._policy.metadata)
        try:
            first = await call.read()
        except (grpc.RpcError, asyncio.CancelledError) as error:
            if isinstance(error, grpc.RpcError):
                error.__traceback__ = None
            if upload.error is not None and not _cancel_requested():
                raise upload.error from error
            translated = self._translate(error, name, deadline)
            if translated is error:
                raise
            raise translated from error
        if first is grpc.aio.EOF:
            raise RuntimeError(f"{name}: the answer has no head")
        status, header = response_head(first)
        body = AsyncByteStream(lambda: call, lambda error: self._translate(error, name, deadline))
        return AsyncHTTPResponse(status, header, body)

    async def close(self) -> None:
        """Close the channel. Idempotent.

        Calls in flight fail with :class:`ClientClosedError`. Called from
        another event loop than the one the client runs in, it closes the
        channel in that loop, if the loop still runs, and waits for it.
        """
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        channel, loop = self._channel, self._loop
        calls, self._calls = self._calls, None
        self._channel = self._stub_ = None
        if channel is None or loop is None:
            return
        if loop is asyncio.get_running_loop():
            if calls is not None:
                calls.close()
            await channel.close()
        elif loop.is_running():
            if calls is not None:
                loop.call_soon_threadsafe(calls.close)
            done = asyncio.run_coroutine_threadsafe(channel.close(), loop)
            await asyncio.wrap_future(done)

    async def __aenter__(self: _Self) -> _Self:
        self._enter()  # type: ignore[attr-defined]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


# help(AsyncClient) shows (target=None, *, token=None, ..., transport=None).
AsyncCore.__init__.__signature__ = _public_signature(AsyncCore.__init__)  # type: ignore[attr-defined]
