"""ElasticThreads: one thread while calls are quick, more when one stalls."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from deepaas_lite.engine.elastic import ElasticThreads

GUARD = 30.0  # seconds before a test that would hang fails instead


async def test_results_and_errors_come_back() -> None:
    threads = ElasticThreads()
    try:
        assert await threads.run(lambda a, b: a + b, 2, 3) == 5
        with pytest.raises(ZeroDivisionError):
            await threads.run(lambda: 1 / 0)
        name = await threads.run(lambda: threading.current_thread().name)
        assert name.startswith("predict-") and name != threading.current_thread().name
    finally:
        threads.shutdown()


async def test_quick_calls_use_one_thread() -> None:
    threads = ElasticThreads(stall=0.5)
    try:
        names = await asyncio.gather(
            *(threads.run(lambda: threading.current_thread().name) for _ in range(500))
        )
        assert len(set(names)) == 1
        assert threads.threads == 1
    finally:
        threads.shutdown()


async def test_a_slow_call_does_not_hold_up_the_next() -> None:
    threads = ElasticThreads(stall=0.02)
    release = threading.Event()
    try:
        slow = asyncio.ensure_future(threads.run(release.wait, GUARD))
        assert await asyncio.wait_for(threads.run(lambda: "quick"), GUARD) == "quick"
        assert not slow.done()
        assert threads.threads == 2
        release.set()
        assert await slow is True
        # The extra thread leaves once nothing is stalled.
        for _ in range(100):
            await threads.run(lambda: None)
            if threads.threads == 1:
                break
        assert threads.threads == 1
    finally:
        release.set()
        threads.shutdown()


async def test_slow_calls_run_side_by_side() -> None:
    threads = ElasticThreads(stall=0.01, max_threads=4)
    together = threading.Barrier(4)  # passed only by four calls running at once
    try:
        calls = asyncio.gather(*(threads.run(together.wait, GUARD) for _ in range(4)))
        assert sorted(await calls) == [0, 1, 2, 3]
    finally:
        together.abort()
        threads.shutdown()


async def test_shutdown_ends_the_threads() -> None:
    threads = ElasticThreads()
    await threads.run(lambda: None)
    workers = [t for t in threading.enumerate() if t.name.startswith("predict-")]
    threads.shutdown()
    for thread in workers:
        thread.join(2)
        assert not thread.is_alive()
    with pytest.raises(RuntimeError):
        await threads.run(lambda: None)


async def test_a_finished_quick_result_is_not_held_behind_a_slow_call() -> None:
    threads = ElasticThreads(stall=3600)  # one thread: the slow call runs after the quick one
    gate, release = threading.Event(), threading.Event()
    try:
        first = asyncio.ensure_future(threads.run(gate.wait))
        quick = asyncio.ensure_future(threads.run(lambda: "quick"))
        slow = asyncio.ensure_future(threads.run(release.wait))
        await asyncio.sleep(0)  # all three are queued, in this order, behind the gate
        gate.set()
        assert await asyncio.wait_for(quick, GUARD) == "quick"
        assert await first is True
        assert not slow.done()
        release.set()
        assert await slow is True
        assert threads.threads == 1
    finally:
        gate.set()
        release.set()
        threads.shutdown()


async def test_results_of_a_burst_come_back_together() -> None:
    threads = ElasticThreads()
    gate = threading.Event()
    try:
        first = threads.submit(gate.wait, GUARD)  # holds the thread while the rest queue
        rest = [threads.submit(lambda n=n: n) for n in range(50)]
        gate.set()
        assert await first is True
        assert await asyncio.gather(*rest) == list(range(50))
    finally:
        gate.set()
        threads.shutdown()


async def test_a_quick_result_is_not_kept_behind_a_slow_call() -> None:
    threads = ElasticThreads(stall=GUARD)  # one thread: the slow call runs after the quick
    queued = threading.Event()
    release = threading.Event()
    try:
        quick = threads.submit(lambda: queued.wait(GUARD) and "quick")
        slow = threads.submit(release.wait, GUARD)
        queued.set()  # the quick call ends with the slow one waiting: its result is kept
        assert await asyncio.wait_for(quick, GUARD) == "quick"
        assert not slow.done()
        release.set()
        assert await slow is True
    finally:
        release.set()
        threads.shutdown()


async def test_a_call_submitted_while_results_are_handed_back_leaves_one_timer() -> None:
    """A result handed back by the hold timer runs ``on_done``, which submits the next
    call (as a lane does): one timer goes on, not two, and none fails when it fires."""
    loop = asyncio.get_running_loop()
    failures: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _, context: failures.append(context))
    threads = ElasticThreads(max_threads=2)
    left = [20]
    done = asyncio.Event()

    def next_call() -> None:
        left[0] -= 1
        if left[0] > 0:
            threads.submit(time.sleep, 0.002, on_done=next_call)
        else:
            done.set()

    try:
        threads.submit(time.sleep, 0.002, on_done=next_call)
        threads.submit(time.sleep, 0.05)  # keeps a thread busy: results are held
        await asyncio.wait_for(done.wait(), 30)
        await asyncio.sleep(0.1)  # every timer still scheduled fires
    finally:
        threads.shutdown()
        loop.set_exception_handler(None)
    assert failures == []
