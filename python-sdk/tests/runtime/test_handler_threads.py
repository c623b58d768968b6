"""HandlerThreads: the threads that run plain hook handlers for the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from typing import Any

import pytest

from mattermost_plugin._plugin.threads import HandlerThreads


@pytest.fixture
def threads() -> Any:
    pool = HandlerThreads(3, name="test-hook")
    yield pool
    pool.shutdown()


async def test_a_call_runs_in_a_named_thread_and_answers_on_the_loop(
    threads: HandlerThreads,
) -> None:
    answer = await threads.run(lambda: threading.current_thread().name)
    assert answer.startswith("test-hook-")
    assert answer != threading.current_thread().name


async def test_an_exception_reaches_the_awaiting_task_as_raised(threads: HandlerThreads) -> None:
    error = ValueError("boom")

    def fail() -> None:
        raise error

    with pytest.raises(ValueError) as info:
        await threads.run(fail)
    assert info.value is error


async def test_stop_iteration_becomes_a_runtime_error_and_does_not_hang(
    threads: HandlerThreads,
) -> None:
    with pytest.raises(RuntimeError, match="raised StopIteration") as info:
        await asyncio.wait_for(threads.run(lambda: next(iter(()))), 10)
    assert isinstance(info.value.__cause__, StopIteration)


async def test_at_most_size_calls_run_at_once_and_the_rest_wait(threads: HandlerThreads) -> None:
    lock = threading.Lock()
    running, most = 0, 0
    release = threading.Event()

    def work(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(10)
        with lock:
            running -= 1
        return n

    calls = [threads.run(functools.partial(work, n)) for n in range(10)]
    await asyncio.sleep(0.2)
    assert most == 3
    release.set()
    assert await asyncio.gather(*calls) == list(range(10))
    assert most == 3


async def test_sequential_calls_reuse_one_thread(threads: HandlerThreads) -> None:
    names = {await threads.run(lambda: threading.current_thread().name) for _ in range(50)}
    assert len(names) == 1


async def test_a_call_cancelled_before_it_starts_never_runs() -> None:
    pool = HandlerThreads(1)
    try:
        release, ran = threading.Event(), threading.Event()
        first = pool.run(lambda: release.wait(10))
        second = pool.run(ran.set)
        second.cancel()
        release.set()
        assert await first is True
        # A third call runs after the second would have, on the one thread.
        await pool.run(lambda: None)
        assert not ran.is_set()
    finally:
        pool.shutdown()


async def test_a_call_cancelled_while_it_runs_finishes_and_its_answer_is_dropped(
    threads: HandlerThreads,
) -> None:
    errors: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: errors.append(context))
    entered, release, done = threading.Event(), threading.Event(), threading.Event()

    def work() -> str:
        entered.set()
        release.wait(10)
        done.set()
        return "late"

    call = threads.run(work)
    assert await loop.run_in_executor(None, entered.wait, 10)
    call.cancel()
    release.set()
    assert await loop.run_in_executor(None, done.wait, 10)
    await threads.run(lambda: None)  # the dropped answer was settled before this one
    await asyncio.sleep(0.05)
    assert call.cancelled()
    assert errors == []


async def test_the_caller_context_is_the_callers_copy(threads: HandlerThreads) -> None:
    variable: contextvars.ContextVar[str] = contextvars.ContextVar("variable", default="unset")
    variable.set("caller")
    seen = await threads.run(lambda: contextvars.copy_context().run(variable.get))
    assert seen == "unset"  # run() does not carry contexts; the dispatcher copies them
    context = contextvars.copy_context()
    assert await threads.run(lambda: context.run(variable.get)) == "caller"


def test_an_answer_after_its_loop_closed_is_dropped_and_the_thread_serves_on() -> None:
    pool = HandlerThreads(1)
    try:
        release, finished = threading.Event(), threading.Event()

        def slow() -> None:
            release.wait(10)
            finished.set()

        async def start() -> None:
            pool.run(slow)

        asyncio.run(start())  # the loop closes with the call still running
        release.set()
        assert finished.wait(10)

        async def again() -> str:
            return await pool.run(lambda: "served")

        assert asyncio.run(again()) == "served"
    finally:
        pool.shutdown()


async def test_shutdown_ends_the_threads_and_refuses_new_calls() -> None:
    pool = HandlerThreads(2, name="shutdown-test")
    await asyncio.gather(pool.run(lambda: time.sleep(0.05)), pool.run(lambda: time.sleep(0.05)))
    started = [t for t in threading.enumerate() if t.name.startswith("shutdown-test-")]
    assert len(started) == 2
    pool.shutdown()
    for thread in started:
        thread.join(10)
        assert not thread.is_alive()
    with pytest.raises(RuntimeError, match="shut down"):
        pool.run(lambda: None)


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        HandlerThreads(0)
