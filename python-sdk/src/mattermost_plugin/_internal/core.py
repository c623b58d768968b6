"""What the sync and async clients share.

:class:`CallPolicy` holds everything that does no I/O: the resolved target
and token, the metadata every call carries and the timeout rules.
:class:`SyncCore` and :class:`AsyncCore` differ only in the call itself.
The generated method mixins in ``_generated_client`` build on them.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from types import TracebackType
from typing import TypeVar

import grpc
import grpc.aio

from .._errors import from_rpc_error
from ..config import DEFAULT, DEFAULT_TIMEOUT, ENV_TARGET, ENV_TOKEN, ChannelOptions, Timeout
from ..grpc import api_pb2_grpc
from .channel import create_aio_channel, create_channel

__all__ = ["AsyncCore", "CallPolicy", "SyncCore"]

_Req = TypeVar("_Req")
_Resp = TypeVar("_Resp")
_Self = TypeVar("_Self")

_METADATA_KEY = "authorization"


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
            metadata=((_METADATA_KEY, f"Bearer {resolved_token}"),),
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
        raise TypeError(f"timeout must be seconds, None or DEFAULT, not {timeout!r}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return float(timeout)


class _Core:
    """What both clients hold: the resolved policy and the closed flag."""

    def __init__(
        self,
        target: str | None = None,
        *,
        token: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        channel_options: ChannelOptions | None = None,
    ) -> None:
        """Connect lazily to the Plugin API server.

        Args:
            target: gRPC target of the server; defaults to the
                ``MATTERMOST_PLUGIN_API_TARGET`` environment variable.
            token: The plugin's token; defaults to the
                ``MATTERMOST_PLUGIN_API_TOKEN`` environment variable.
            timeout: Default seconds per call; ``None`` for no deadline.
            channel_options: Message size and keepalive settings.
        """
        self._policy = CallPolicy.resolve(target, token, timeout, channel_options)
        self._closed = False
        self._open_channel()

    def _open_channel(self) -> None:
        raise NotImplementedError

    @property
    def target(self) -> str:
        """The gRPC target this client calls."""
        return self._policy.target

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the client is closed")


class SyncCore(_Core):
    """The blocking half: a ``grpc.Channel`` and the call that uses it."""

    def _open_channel(self) -> None:
        self._channel = create_channel(self._policy.target, self._policy.channel_options)
        self._stub = api_pb2_grpc.PluginAPIStub(self._channel)

    def _invoke(
        self, method: grpc.UnaryUnaryMultiCallable[_Req, _Resp], request: _Req, timeout: Timeout
    ) -> _Resp:
        self._check_open()
        try:
            return method(
                request, timeout=self._policy.deadline(timeout), metadata=self._policy.metadata
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    def close(self) -> None:
        """Close the channel; calls in flight are cancelled. Idempotent."""
        if not self._closed:
            self._closed = True
            self._channel.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncCore(_Core):
    """The asyncio half: a ``grpc.aio.Channel`` and the awaited call."""

    def _open_channel(self) -> None:
        self._channel = create_aio_channel(self._policy.target, self._policy.channel_options)
        self._stub = api_pb2_grpc.PluginAPIStub(self._channel)

    async def _invoke(
        self, method: grpc.aio.UnaryUnaryMultiCallable[_Req, _Resp], request: _Req, timeout: Timeout
    ) -> _Resp:
        self._check_open()
        try:
            return await method(
                request, timeout=self._policy.deadline(timeout), metadata=self._policy.metadata
            )
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    async def close(self) -> None:
        """Close the channel; calls in flight are cancelled. Idempotent."""
        if not self._closed:
            self._closed = True
            await self._channel.close()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
