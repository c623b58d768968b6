"""The threads that run plain (not ``async``) hook handlers.

``loop.run_in_executor`` hands a call to a ``concurrent.futures`` pool and
takes the answer back through two futures chained by callbacks, each step
behind a lock of its own; for a hook that does little, those steps cost
more than the hook (in the benchmark, a plain MessageWillBePosted took
about twice as long as an ``async`` one). Here a call crosses to a thread
through one queue and comes back with one ``call_soon_threadsafe``: one
wake-up each way.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

__all__ = ["HandlerThreads"]

_T = TypeVar("_T")

if TYPE_CHECKING:
    #: One call: the loop to answer on, the future it awaits, the function;
    #: None tells a thread to end.
    _Item = tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[[], Any]] | None


class HandlerThreads:
    """Up to ``size`` threads, started as calls need them, that run functions for a loop.

    Args:
        size: The most threads that run at once; calls beyond them wait.
        name: The threads' name prefix.
    """

    def __init__(self, size: int, name: str = "hook") -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, not {size}")
        self._size = size
        self._name = name
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for a call and not yet promised one
        self._closed = False

    def run(self, function: Callable[[], _T]) -> asyncio.Future[_T]:
        """Run ``function()`` in one of the threads, and return its future on the running loop.

        Cancelling the future does not stop a function that has started; one
        that has not started yet is then skipped. Call this on the loop's
        thread.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the handler threads are shut down")
            if self._idle:
                self._idle -= 1
            elif len(self._threads) < self._size:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        self._queue.put((loop, future, function))
        return future

    def shutdown(self) -> None:
        """Let every thread end once the calls queued before this have run; do not wait."""
        with self._lock:
            self._closed = True
            count = len(self._threads)
        for _ in range(count):
            self._queue.put(None)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            loop, future, function = item
            del item
            outcome: tuple[Any, bool] | None = None
            # Only a hint across threads: a call cancelled after this check
            # still runs, and _settle drops its answer.
            if not future.cancelled():
                try:
                    outcome = function(), False
                except BaseException as error:  # handed to the awaiting task
                    outcome = error, True
            # Idle before the answer goes back, so that a caller that calls
            # again as soon as it has the answer finds this thread.
            with self._lock:
                self._idle += 1
            if outcome is not None:
                # RuntimeError: the loop is closed, and nobody awaits the answer.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, future, *outcome)
            del loop, future, function, outcome


def _settle(future: asyncio.Future[Any], answer: Any, failed: bool) -> None:  # noqa: ANN401 - any function's answer
    if future.done():  # cancelled while the function ran
        return
    if not failed:
        future.set_result(answer)
    elif isinstance(answer, StopIteration):
        # A future cannot hold StopIteration; as PEP 479 does for generators.
        error = RuntimeError(f"the handler raised StopIteration: {answer}")
        error.__cause__ = answer
        future.set_exception(error)
    else:
        future.set_exception(answer)
