"""File data in motion: what uploads take and what downloads give.

An upload sends its head first, then the data in chunks of
:data:`CHUNK_SIZE`, read as they go: a 200 MiB file never sits in memory
whole. The data may be ``bytes``, a binary file (anything with
``read(n)``) or an iterable of ``bytes`` chunks; the async client also
takes an async iterable. A download arrives as a :class:`ByteStream` (or
:class:`AsyncByteStream`) of chunks, which ``read()`` joins for small
files.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import IO, Any, Generic, TypeVar, Union

import grpc

__all__ = [
    "CHUNK_SIZE",
    "AsyncByteStream",
    "AsyncHTTPResponse",
    "AsyncUploadData",
    "ByteStream",
    "HTTPResponse",
    "Upload",
    "UploadData",
]

#: Bytes per upload chunk; the server sends downloads in chunks of this size too.
CHUNK_SIZE = 1 << 20

#: What an upload takes: bytes, a binary file, or an iterable of bytes chunks.
UploadData = Union[bytes, bytearray, memoryview, IO[bytes], Iterable[bytes]]
#: What an upload of the async client takes: also an async iterable of chunks.
AsyncUploadData = Union[UploadData, AsyncIterable[bytes]]

_Req = TypeVar("_Req")
_BYTES = (bytes, bytearray, memoryview)


def _kind(value: object) -> str:
    return type(value).__name__


def _pieces(where: str, chunk: object) -> Iterator[bytes]:
    """One chunk of the caller's, checked and cut to CHUNK_SIZE pieces."""
    if not isinstance(chunk, _BYTES):
        raise TypeError(f"{where} must give bytes, not {_kind(chunk)}")
    view = memoryview(chunk).cast("B")
    for start in range(0, len(view), CHUNK_SIZE):
        yield bytes(view[start : start + CHUNK_SIZE])


class Upload(Generic[_Req]):
    """The request messages of one upload: the head, then the data in chunks.

    The data is checked for its kind at once, and each chunk as it is read.
    An exception raised while reading (a bad chunk, a failing file) cancels
    the call and is kept in ``error``, so that the client raises it rather
    than the cancellation it causes.
    """

    def __init__(
        self,
        where: str,
        data: object,
        head: object,
        request: Callable[..., _Req],
        *,
        allow_async: bool = False,
    ) -> None:
        if isinstance(data, str) or not (
            isinstance(data, _BYTES)
            or callable(getattr(data, "read", None))
            or isinstance(data, Iterable)
            or (allow_async and isinstance(data, AsyncIterable))
        ):
            kinds = "bytes, a binary file or an iterable of bytes"
            if allow_async:
                kinds += ", or an async iterable of bytes"
            raise TypeError(f"{where} must be {kinds}, not {_kind(data)}")
        self._where = where
        self._data = data
        self._head = head
        self._request = request
        self.error: BaseException | None = None

    @property
    def is_async(self) -> bool:
        """Whether the data is an async iterable."""
        return isinstance(self._data, AsyncIterable) and not isinstance(self._data, Iterable)

    def _chunks(self) -> Iterator[bytes]:
        data = self._data
        if isinstance(data, _BYTES):
            yield from _pieces(self._where, data)
            return
        read = getattr(data, "read", None)
        if callable(read):
            while True:
                chunk = read(CHUNK_SIZE)
                if not chunk:
                    return
                yield from _pieces(self._where + ".read()", chunk)
        assert isinstance(data, Iterable)
        for chunk in data:
            yield from _pieces(self._where + " element", chunk)

    def __iter__(self) -> Iterator[_Req]:
        yield self._request(head=self._head)
        try:
            for chunk in self._chunks():
                yield self._request(chunk=chunk)
        except BaseException as error:
            self.error = error
            raise

    async def __aiter__(self) -> AsyncIterator[_Req]:
        yield self._request(head=self._head)
        try:
            if self.is_async:
                assert isinstance(self._data, AsyncIterable)
                async for chunk in self._data:
                    for piece in _pieces(self._where + " element", chunk):
                        yield self._request(chunk=piece)
            else:
                for piece in self._chunks():
                    yield self._request(chunk=piece)
                    await asyncio.sleep(0)
        except BaseException as error:
            self.error = error
            raise


class ByteStream:
    """The data of a download, in chunks, as the server sends them.

    Iterate over it for the chunks, or ``read()`` the rest at once. Errors
    of the call arrive as :class:`~mattermost_plugin.PluginAPIError` while
    iterating. ``close()`` (or leaving a ``with`` block) cancels the
    download.
    """

    def __init__(self, call: object, translate: Callable[[Exception], Exception]) -> None:
        self._call: Any = call
        self._translate = translate
        self._done = False

    def __iter__(self) -> ByteStream:
        return self

    def __next__(self) -> bytes:
        if self._done:
            raise StopIteration
        try:
            response = next(self._call)
        except StopIteration:
            self._done = True
            raise
        except (grpc.RpcError, ValueError) as error:
            self._done = True
            raise self._translate(error) from error
        return bytes(response.chunk)

    def read(self) -> bytes:
        """The rest of the data, joined."""
        return b"".join(self)

    def close(self) -> None:
        """Cancel the download; further iteration ends."""
        if not self._done:
            self._done = True
            self._call.cancel()

    def __enter__(self) -> ByteStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ByteStream {'done' if self._done else 'open'}>"


class AsyncByteStream:
    """The data of a download of the async client, in chunks.

    Iterate over it with ``async for``, or ``await read()`` the rest at
    once. The call starts at the first read. ``await aclose()`` (or leaving
    an ``async with`` block) cancels it.
    """

    def __init__(
        self,
        start: Callable[[], object],
        translate: Callable[[BaseException], BaseException],
    ) -> None:
        self._start = start
        self._call: Any = None
        self._translate = translate
        self._done = False

    def __aiter__(self) -> AsyncByteStream:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            raise StopAsyncIteration
        try:
            if self._call is None:
                self._call = self._start()
            response = await self._call.read()
        except (grpc.RpcError, grpc.aio.UsageError, asyncio.CancelledError) as error:
            self._done = True
            if isinstance(error, grpc.RpcError):
                error.__traceback__ = None  # grpc's frames hold the call
            translated = self._translate(error)
            if translated is error:
                raise
            raise translated from error
        if response is grpc.aio.EOF:
            self._done = True
            # A call cut short (cancelled, closed) also ends in EOF: only a
            # call that ended OK ends the data; anything else is an error,
            # never a silently shorter file.
            code = await self._call.code()
            if code is not grpc.StatusCode.OK:
                ended = grpc.aio.AioRpcError(
                    code,
                    grpc.aio.Metadata(),
                    await self._call.trailing_metadata() or grpc.aio.Metadata(),
                    await self._call.details(),
                )
                raise self._translate(ended) from None
            raise StopAsyncIteration
        return bytes(response.chunk)

    async def read(self) -> bytes:
        """The rest of the data, joined."""
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        """Cancel the download; further iteration ends."""
        if not self._done:
            self._done = True
            if self._call is not None:
                self._call.cancel()

    async def __aenter__(self) -> AsyncByteStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncByteStream {'done' if self._done else 'open'}>"


def _header(head: object) -> dict[str, list[str]]:
    header: Any = getattr(head, "header", {})
    return {name: list(values.values) for name, values in header.items()}


class HTTPResponse:
    """An HTTP response whose body streams: the answer of ``plugin_http``.

    Attributes:
        status_code: The HTTP status code.
        header: The headers, by canonical name, each a list of values.
        body: The body, as a :class:`ByteStream` of chunks.
    """

    def __init__(self, status_code: int, header: dict[str, list[str]], body: ByteStream) -> None:
        self.status_code = status_code
        self.header = header
        self.body = body

    def read(self) -> bytes:
        """The whole body."""
        return self.body.read()

    def close(self) -> None:
        """Stop receiving the body."""
        self.body.close()

    def __enter__(self) -> HTTPResponse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<HTTPResponse {self.status_code}>"


class AsyncHTTPResponse:
    """The async twin of :class:`HTTPResponse`; its body is an :class:`AsyncByteStream`."""

    def __init__(
        self, status_code: int, header: dict[str, list[str]], body: AsyncByteStream
    ) -> None:
        self.status_code = status_code
        self.header = header
        self.body = body

    async def read(self) -> bytes:
        """The whole body."""
        return await self.body.read()

    async def aclose(self) -> None:
        """Stop receiving the body."""
        await self.body.aclose()

    async def __aenter__(self) -> AsyncHTTPResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncHTTPResponse {self.status_code}>"


def response_head(first: object) -> tuple[int, dict[str, list[str]]]:
    """The status and headers of the first message of an HTTP answer."""
    head: Any = getattr(first, "head", None)
    return int(head.status_code), _header(head)
