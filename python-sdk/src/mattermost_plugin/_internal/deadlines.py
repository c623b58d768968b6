"""The deadlines of the calls on one stream, on one asyncio timer.

A timer per call (``loop.call_later``) costs a push onto asyncio's heap,
whose entries compare in Python, and a cancellation that leaves the entry
there until its time comes: at 64 calls in flight, about a fifth of the
call stream's throughput. :class:`Deadlines` keeps ``(when, call id)``
pairs in a heap of tuples, which compare in C, and one timer, set for the
earliest. A call that ends leaves its entry behind; the heap drops such
entries when it grows to about twice the calls in flight, so that it stays
bounded whatever the calls' timeouts.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import Callable, Mapping

__all__ = ["Deadlines"]

#: Entries kept beyond twice the calls in flight before stale ones are dropped.
_SLACK = 64


class Deadlines:
    """The deadlines of the calls of one stream.

    Args:
        expire: Called with a call's id when its deadline comes and the call
            is still in flight.
        in_flight: Returns the calls in flight, by id; a call that is not
            there has ended, and its deadline is ignored.
    """

    def __init__(
        self, expire: Callable[[int], None], in_flight: Callable[[], Mapping[int, object]]
    ) -> None:
        self._expire = expire
        self._in_flight = in_flight
        self._heap: list[tuple[float, int]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def __len__(self) -> int:
        """How many deadlines are kept, those of ended calls included."""
        return len(self._heap)

    @property
    def armed(self) -> bool:
        """Whether the timer is set."""
        return self._timer is not None

    def add(self, loop: asyncio.AbstractEventLoop, timeout: float, call_id: int) -> None:
        """Expire ``call_id`` in ``timeout`` seconds, unless it ends first."""
        when = loop.time() + timeout
        heap = self._heap
        heapq.heappush(heap, (when, call_id))
        if when < self._timer_at:
            self._arm(loop, when)
        elif len(heap) > 2 * len(in_flight := self._in_flight()) + _SLACK:
            self._heap = [entry for entry in heap if entry[1] in in_flight]
            heapq.heapify(self._heap)

    def clear(self) -> None:
        """Forget every deadline and stop the timer (the stream ended)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at, self._heap = None, math.inf, []

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(when, self._fire, loop)
        self._timer_at = when

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Expire the calls whose deadline has come; set the timer for the next."""
        self._timer, self._timer_at = None, math.inf
        now = loop.time()
        heap = self._heap
        while heap and heap[0][0] <= now and heap is self._heap:
            call_id = heapq.heappop(heap)[1]
            if call_id in self._in_flight():
                self._expire(call_id)  # which may clear() the heap
        if self._heap and self._timer is None:
            self._arm(loop, self._heap[0][0])
