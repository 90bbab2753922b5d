"""Per-model bounds without HTTP: slots, the waiting queue, the time limit."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from deepaas_lite import exceptions
from deepaas_lite.config import ModelOptions
from deepaas_lite.engine.elastic import ElasticThreads, Lane
from deepaas_lite.engine.limits import Admission, Limits, limits_of, thread_budget, within
from deepaas_lite.engine.threads import ThreadPredictor
from deepaas_lite.model.wrapper import ModelWrapper

GUARD = 30.0  # seconds before a test that would hang fails instead


class Blocking:
    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def predict(self) -> str:
        self.entered.release()
        self.release.wait()
        return "done"


class Quick:
    def predict(self) -> int:
        return 1


async def _entered(plugin: Blocking, calls: int) -> None:
    for _ in range(calls):
        assert await asyncio.to_thread(plugin.entered.acquire, timeout=GUARD)


async def test_abandoned_slow_calls_of_one_model_do_not_starve_another() -> None:
    slow = Blocking()
    threads = ElasticThreads(max_threads=8, stall=0.01)  # room for both models' slots
    slow_model = ThreadPredictor(
        ModelWrapper("slow", slow), threads, limits=Limits(concurrency=4, queue_max=100)
    )
    quick_model = ThreadPredictor(
        ModelWrapper("quick", Quick()), threads, limits=Limits(concurrency=4)
    )
    try:
        await slow_model.start(warm=True)
        await quick_model.start(warm=True)
        calls = [asyncio.ensure_future(slow_model.predict({})) for _ in range(40)]
        await _entered(slow, 4)  # 4 run, 36 wait
        assert await asyncio.wait_for(quick_model.predict({}), GUARD) == 1
        for call in calls:  # their clients go away
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        slow.release.set()
        assert await asyncio.wait_for(slow_model.predict({}), GUARD) == "done"
        assert slow.entered.acquire(timeout=GUARD)  # that call's own entry
        assert not slow.entered.acquire(blocking=False)  # no abandoned waiting call ran
    finally:
        slow.release.set()
        threads.shutdown()


async def test_a_timed_out_call_keeps_its_slot_until_it_ends() -> None:
    slow = Blocking()
    threads = ElasticThreads()
    model = ThreadPredictor(
        ModelWrapper("slow", slow), threads, limits=Limits(concurrency=1, queue_max=0, timeout=0.2)
    )
    try:
        await model.start(warm=True)
        with pytest.raises(exceptions.PredictTimeout, match=r"within 0\.2 seconds"):
            await model.predict({})
        with pytest.raises(exceptions.ModelBusy) as busy:
            await model.predict({})
        assert busy.value.retry_after == 1
        slow.release.set()
        for _ in range(100):  # the slot is given back once the call has ended
            try:
                assert await model.predict({}) == "done"
                break
            except exceptions.ModelBusy:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the slot never came back")
    finally:
        slow.release.set()
        threads.shutdown()


async def test_a_lane_queues_up_to_its_bound_and_a_place_frees_when_its_call_ends() -> None:
    threads = ElasticThreads(stall=0.01)
    lane = Lane(threads, "m", limit=1, queue_max=2)
    release = threading.Event()
    try:
        running = lane.submit(release.wait)
        waiting = [lane.submit(lambda: "next") for _ in range(2)]
        assert lane.waiting == 2
        with pytest.raises(exceptions.ModelBusy, match="Model 'm' is busy: 2 predictions"):
            lane.submit(lambda: "refused")
        waiting[0].cancel()  # a waiting caller goes away: its place in the queue is free
        await asyncio.sleep(0)
        assert lane.waiting == 1
        extra = lane.submit(lambda: "extra")
        running.cancel()  # the running call's caller goes away: the call keeps its place
        await asyncio.sleep(0)
        with pytest.raises(exceptions.ModelBusy):
            lane.submit(lambda: "refused")
        release.set()
        assert await asyncio.wait_for(waiting[1], GUARD) == "next"
        assert await asyncio.wait_for(extra, GUARD) == "extra"
        assert lane.waiting == 0
        assert await asyncio.wait_for(lane.submit(lambda: "free again"), GUARD) == "free again"
    finally:
        release.set()
        threads.shutdown()


async def test_admission_queues_up_to_its_bound() -> None:
    admission = Admission("m", slots=1, queue_max=2)
    await admission.acquire()
    waiting = [asyncio.ensure_future(admission.acquire()) for _ in range(2)]
    await asyncio.sleep(0)
    assert admission.waiting == 2
    with pytest.raises(exceptions.ModelBusy, match="Model 'm' is busy: 2 predictions"):
        await admission.acquire()
    waiting[0].cancel()  # a waiting client goes away: its place in the queue is free
    await asyncio.gather(waiting[0], return_exceptions=True)
    assert admission.waiting == 1
    admission.release()
    await asyncio.wait_for(waiting[1], GUARD)
    assert admission.waiting == 0


async def test_within_tells_its_own_timeout_from_the_call_s() -> None:
    with pytest.raises(exceptions.PredictTimeout, match=r"Model 'm' did not answer within 0\.05"):
        await within("m", 0.05, asyncio.Event().wait())

    async def raises() -> Any:
        raise TimeoutError("the plugin's own")

    with pytest.raises(TimeoutError, match="the plugin's own"):
        await within("m", 10, raises())
    assert await within("m", 10, asyncio.sleep(0, "ok")) == "ok"


def test_threads_enough_for_every_threaded_model_s_slots() -> None:
    options = [
        ModelOptions(predict_workers=0, predict_concurrency=3),
        ModelOptions(predict_workers=2, predict_concurrency=50),  # its workers, no threads
        ModelOptions(predict_workers=0),  # the default, 32
    ]
    assert thread_budget(options) == 35
    assert thread_budget([]) == 1
    assert limits_of(ModelOptions(predict_timeout=0)) == Limits(timeout=None)
    assert limits_of(ModelOptions(predict_timeout=2.5, predict_queue_max=0)) == Limits(
        queue_max=0, timeout=2.5
    )
