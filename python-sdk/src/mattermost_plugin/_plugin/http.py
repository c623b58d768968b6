"""HTTPRequest and HTTPResponse: what a ServeHTTP handler takes and returns.

Both bodies stream: the request's body arrives in chunks as the handler
reads it, and a response whose body is an iterable is sent chunk by chunk,
each flushed to the client. At most a few chunks wait in memory on either
side, however large the body.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Union
from urllib.parse import urlsplit

from ..grpc import plugins_pb2
from .streams import _EOF, ChunkReader, pieces

if TYPE_CHECKING:
    from .threads import HandlerThreads

__all__ = ["HTTPRequest", "HTTPResponse"]


#: What a response body may be.
Body = Union[bytes, bytearray, memoryview, str, Iterable[bytes], AsyncIterable[bytes]]


class HTTPRequest(ChunkReader):
    """An HTTP request to the plugin, under ``/plugins/{plugin_id}``.

    Read the body once: in a plain handler with :meth:`read` or by iterating
    :meth:`iter_body`, in an ``async`` handler with :meth:`aread` or
    ``async for`` over :meth:`aiter_body`. It does not pickle: it is bound to
    its call.

    Attributes:
        method: The method, such as ``"GET"``.
        url: The path and query, without ``/plugins/{plugin_id}``: ``"/x?a=1"``.
        path: The path of ``url``.
        query: The query of ``url``, without ``?``.
        headers: The header fields by canonical name, each with its values.
        host: The Host header.
        remote_addr: The client's address, ``"IP:port"``.
        proto: The protocol, such as ``"HTTP/1.1"``.
        request_uri: The request target as the client sent it.
    """

    def __init__(self, head: plugins_pb2.HTTPRequestHead, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.method = head.method
        self.url = head.url
        parts = urlsplit(head.url)
        self.path = parts.path
        self.query = parts.query
        self.headers: Mapping[str, list[str]] = {
            name: list(values.values) for name, values in head.header.items()
        }
        self.host = head.host
        self.remote_addr = head.remote_addr
        self.proto = head.proto
        self.request_uri = head.request_uri

    def __repr__(self) -> str:
        url = self.url if len(self.url) <= 200 else self.url[:197] + "..."
        return f"HTTPRequest(method={self.method!r}, url={url!r})"

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header field, by name in any case."""
        wanted = name.lower()
        for key, values in self.headers.items():
            if key.lower() == wanted and values:
                return values[0]
        return default


@dataclasses.dataclass
class HTTPResponse:
    """The answer of a ServeHTTP handler.

    The body is bytes or text (UTF-8), sent at once; or an iterable or an
    async iterable of ``bytes``, whose chunks are sent, and flushed to the
    client, as they come: a generator streams.

    Attributes:
        status: The status code, 100 to 999.
        headers: Header fields: a name and a value, or a sequence of values.
        body: The body.
    """

    status: int = 200
    headers: Mapping[str, str | Sequence[str]] = dataclasses.field(default_factory=dict)
    body: Body = b""

    def _head(self) -> plugins_pb2.HTTPResponseHead:
        """The response's head; raises TypeError or ValueError for a bad one."""
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise TypeError(f"HTTPResponse.status must be an int, not {type(self.status).__name__}")
        if not 100 <= self.status <= 999:
            raise ValueError(f"HTTPResponse.status must be 100 to 999, not {self.status}")
        head = plugins_pb2.HTTPResponseHead(status_code=self.status)
        if not isinstance(self.headers, Mapping):
            raise TypeError("HTTPResponse.headers must be a mapping")
        for name, value in self.headers.items():
            values = [value] if isinstance(value, str) else list(value)
            for text in (name, *values):
                if not isinstance(text, str):
                    raise TypeError(
                        f"HTTP header names and values must be str, not {type(text).__name__}"
                    )
                if "\r" in text or "\n" in text or "\0" in text:
                    raise ValueError(f"HTTP header {name[:100]!r} holds a line break or NUL")
            if not name:
                raise ValueError("an HTTP header name is empty")
            head.header[name].values.extend(values)
        return head

    async def _chunks(self, threads: HandlerThreads) -> AsyncIterator[tuple[bytes, bool]]:
        """The body's chunks, each with whether to flush after it."""
        body = self.body
        if isinstance(body, (str, bytes, bytearray, memoryview)):
            for piece in _pieces(body):
                yield piece, False
            return
        if isinstance(body, AsyncIterable):
            async for chunk in body:
                for piece in _pieces(chunk):
                    yield piece, True
            return
        if isinstance(body, Iterable):
            # Each next() runs in a thread: a generator may block, reading
            # the request body, say.
            iterator = iter(body)
            while True:
                item: object = await threads.run(functools.partial(_next_or_end, iterator))
                if item is _EOF:
                    return
                for piece in _pieces(item):
                    yield piece, True
        raise TypeError(
            "HTTPResponse.body must be bytes, str, or an iterable or async iterable of "
            f"bytes, not {type(body).__name__}"
        )


def _next_or_end(iterator: Iterator[bytes]) -> object:
    return next(iterator, _EOF)


def _pieces(chunk: object) -> Iterator[bytes]:
    """A body chunk (text is UTF-8) in messages of at most MAX_CHUNK bytes."""
    return pieces(chunk.encode() if isinstance(chunk, str) else chunk, "an HTTPResponse body chunk")
