"""Chunked byte streams between the host and a handler, with bounded queues.

:class:`ChunkReader` hands a handler the chunks the host streams in (an
HTTP request's body, an uploaded file), and :class:`FileWriter` takes the
chunks a handler streams out (a replacement file). Both work from plain
handlers, which run in threads, and from ``async`` ones; at most a few
chunks wait in memory, whatever the size.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

__all__ = ["MAX_CHUNK", "ChunkReader", "FileReader", "FileWriter", "pieces"]

#: Chunks that may wait for the reader, or for the host.
QUEUE = 8
#: The largest chunk sent in one message; larger ones are split.
MAX_CHUNK = 1024 * 1024

_EOF = object()


def pieces(data: object, what: str) -> Iterator[bytes]:
    """``data``, bytes of some kind, in messages of at most MAX_CHUNK bytes.

    Raises:
        TypeError: ``data`` is not bytes; ``what`` names it in the message.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be bytes, not {type(data).__name__}")
    whole = bytes(data)
    for start in range(0, len(whole), MAX_CHUNK):
        yield whole[start : start + MAX_CHUNK]


def _check_thread(loop: asyncio.AbstractEventLoop, what: str) -> None:
    """Refuse a blocking call on the event loop's own thread."""
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return
    if running is loop:
        raise RuntimeError(f"{what} blocks: use its async form in async code")


class ChunkReader:
    """Chunks that the host streams in, read once, as they arrive."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Any] = asyncio.Queue(QUEUE)
        self._done = False
        self._ended = False

    def __reduce__(self) -> Any:  # noqa: ANN401 - pickle's protocol
        raise TypeError(f"a {type(self).__name__} is bound to its call and does not pickle")

    async def _feed(self, chunks: AsyncIterator[bytes]) -> None:
        """Queue the chunks, then the end."""
        try:
            async for chunk in chunks:
                if chunk:
                    await self._queue.put(chunk)
        finally:
            # A full queue needs no marker: the reader finds it empty and ended.
            self._ended = True
            if not self._queue.full():
                self._queue.put_nowait(_EOF)

    async def _next(self) -> bytes | None:
        if self._done or (self._ended and self._queue.empty()):
            self._done = True
            return None
        chunk = await self._queue.get()
        if chunk is _EOF:
            self._done = True
            return None
        return bytes(chunk)

    async def aiter_body(self) -> AsyncIterator[bytes]:
        """The chunks, as they arrive; for ``async`` handlers."""
        while (chunk := await self._next()) is not None:
            yield chunk

    async def aread(self) -> bytes:
        """All the content; for ``async`` handlers."""
        return b"".join([chunk async for chunk in self.aiter_body()])

    def iter_body(self) -> Iterator[bytes]:
        """The chunks, as they arrive; for plain handlers, which run in a thread."""
        _check_thread(self._loop, f"{type(self).__name__}.iter_body()")
        while True:
            chunk = asyncio.run_coroutine_threadsafe(self._next(), self._loop).result()
            if chunk is None:
                return
            yield chunk

    def read(self) -> bytes:
        """All the content; for plain handlers, which run in a thread."""
        return b"".join(self.iter_body())


class FileReader(ChunkReader):
    """The content of a file being uploaded (FileWillBeUploaded's ``file``).

    Read it once: ``read()`` or ``iter_body()`` in a plain handler,
    ``await aread()`` or ``async for`` over ``aiter_body()`` in an async one.
    """

    def __repr__(self) -> str:
        return "FileReader()"


class FileWriter:
    """Where a FileWillBeUploaded handler writes replacement content.

    Anything written replaces the uploaded file's content, as upstream's
    output writer does; write nothing to keep it. ``write()`` is for plain
    handlers, ``await awrite()`` for async ones. It does not pickle.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE)
        self.written = 0

    def __repr__(self) -> str:
        return f"FileWriter(written={self.written})"

    def __reduce__(self) -> Any:  # noqa: ANN401 - pickle's protocol
        raise TypeError("a FileWriter is bound to its call and does not pickle")

    async def awrite(self, data: bytes | bytearray | memoryview) -> int:
        """Write replacement content; for ``async`` handlers."""
        for piece in pieces(data, "what FileWriter writes"):
            await self._queue.put(piece)
            self.written += len(piece)
        return len(data)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write replacement content; for plain handlers, which run in a thread."""
        _check_thread(self._loop, "FileWriter.write()")
        for piece in pieces(data, "what FileWriter writes"):
            asyncio.run_coroutine_threadsafe(self._queue.put(piece), self._loop).result()
            self.written += len(piece)
        return len(data)
