"""QuickCalls: a model's quick calls run on the event loop, slow or waiting ones in threads."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from deepaas_lite.engine import inline
from deepaas_lite.engine.elastic import ElasticThreads
from deepaas_lite.engine.inline import QuickCalls
from deepaas_lite.engine.threads import ThreadPredictor
from deepaas_lite.model.wrapper import ModelWrapper

QUICK = 0.00002  # a call's time and CPU, well under QUICK_S


def _tried(calls: QuickCalls, took: float = QUICK, cpu: float = QUICK) -> QuickCalls:
    for _ in range(inline.TRIAL):
        calls.observe_thread(took, cpu)
    return calls


def test_quick_calls_in_threads_move_to_the_loop_after_a_trial() -> None:
    calls = QuickCalls()
    for _ in range(inline.TRIAL - 1):
        calls.observe_thread(QUICK, QUICK)
    assert not calls.on_loop
    calls.observe_thread(QUICK, QUICK)
    assert calls.on_loop


def test_a_call_that_waited_for_the_gil_in_a_thread_is_not_held_against_it() -> None:
    calls = QuickCalls()
    for n in range(inline.TRIAL):
        calls.observe_thread(0.004 if n % 8 == 0 else QUICK, QUICK)
    assert calls.on_loop


def test_calls_that_use_cpu_or_take_long_stay_in_threads() -> None:
    assert not _tried(QuickCalls(), cpu=0.0003).on_loop  # an IRIS SVC's 0.24 ms and more
    assert not _tried(QuickCalls(), took=0.2).on_loop  # a call that sleeps


def test_one_call_that_blocks_the_loop_sends_the_model_back_for_a_longer_trial() -> None:
    calls = _tried(QuickCalls())
    calls.observe_loop(QUICK, QUICK)
    assert calls.on_loop
    calls.observe_loop(0.02, 0.02)  # more CPU than BLOCK_S
    assert not calls.on_loop
    _tried(calls)
    assert not calls.on_loop  # twice as long a trial this time
    _tried(calls)
    assert calls.on_loop
    calls.observe_loop(0.2, QUICK)  # waited longer than LONG_S
    assert not calls.on_loop


def test_calls_that_wait_on_the_loop_go_back_to_threads() -> None:
    calls = _tried(QuickCalls())
    for _ in range(64):
        calls.observe_loop(0.003, QUICK)  # 3 ms, of which 0.02 ms on the CPU: a wait
        if not calls.on_loop:
            break
    assert not calls.on_loop


def test_now_and_then_a_late_call_keeps_the_model_on_the_loop() -> None:
    calls = _tried(QuickCalls())
    for n in range(4096):
        late = n % 50 == 0  # the process was not scheduled for 3 ms
        calls.observe_loop(0.003 if late else QUICK, QUICK)
    assert calls.on_loop


def test_a_model_sent_back_long_after_it_settled_starts_its_trials_anew() -> None:
    calls = _tried(QuickCalls())
    calls.observe_loop(0.02, 0.02)
    _tried(_tried(calls))  # a trial twice as long
    for _ in range(inline.SETTLED):
        calls.observe_loop(QUICK, QUICK)
    calls.observe_loop(0.02, 0.02)
    assert _tried(calls).on_loop  # one trial of TRIAL calls again


def test_a_quick_call_descheduled_on_the_loop_is_not_taken_for_cpu() -> None:
    # After a quick call the CPU clock is not read (CHEAP_S): a call that then takes
    # 3 ms without using the CPU (the process was not scheduled) is no reason to leave.
    calls = _tried(QuickCalls())
    calls.run(lambda: None)
    assert calls.run(time.sleep, 0.003) is None
    assert calls.on_loop
    calls.run(lambda: None)  # its CPU is read, being after a long one
    assert calls.on_loop


def test_a_quick_model_that_turns_busy_goes_back_after_its_cpu_is_read() -> None:
    calls = _tried(QuickCalls())
    calls.run(lambda: None)

    def busy() -> None:
        end = time.thread_time() + 0.01  # over BLOCK_S of CPU
        while time.thread_time() < end:
            pass

    calls.run(busy)  # its CPU not read: the next call's is
    calls.run(busy)
    assert not calls.on_loop


class Plugin:
    """Says which thread each call ran in; ``pause`` seconds of sleep per call."""

    def __init__(self, pause: float = 0.0) -> None:
        self.pause = pause
        self.threads: list[str] = []

    def predict(self) -> str:
        self.threads.append(threading.current_thread().name)
        if self.pause:
            time.sleep(self.pause)
        return "ok"


async def _predict(plugin: Plugin, calls: int) -> list[str]:
    threads = ElasticThreads()
    predictor = ThreadPredictor(ModelWrapper("m", plugin), threads)
    try:
        await predictor.start(warm=False)
        for _ in range(calls):
            assert await predictor.predict({}) == "ok"
    finally:
        await predictor.close()
        threads.shutdown()
    return plugin.threads


async def test_a_quick_model_predicts_on_the_loop_after_its_trial() -> None:
    loop_thread = threading.current_thread().name
    names = await _predict(Plugin(), inline.TRIAL + 10)
    assert all(name.startswith("predict-") for name in names[: inline.TRIAL])
    assert set(names[inline.TRIAL :]) == {loop_thread}


async def test_a_model_that_sleeps_never_predicts_on_the_loop() -> None:
    names = await _predict(Plugin(pause=inline.LONG_S * 1.5), inline.TRIAL + 4)
    assert all(name.startswith("predict-") for name in names)


async def test_a_model_that_turns_slow_goes_back_to_threads_after_one_call() -> None:
    plugin = Plugin()
    threads = ElasticThreads()
    predictor = ThreadPredictor(ModelWrapper("m", plugin), threads)
    loop_thread = threading.current_thread().name
    ticks = 0

    async def tick() -> None:  # counts how often the loop ran meanwhile
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    ticker = asyncio.ensure_future(tick())
    try:
        await predictor.start(warm=False)
        for _ in range(inline.TRIAL + 1):
            await predictor.predict({})
        assert plugin.threads[-1] == loop_thread
        plugin.pause = inline.LONG_S * 1.5
        await predictor.predict({})  # on the loop: the surprise
        assert plugin.threads[-1] == loop_thread
        before = ticks
        for _ in range(3):
            await predictor.predict({})
        assert all(name.startswith("predict-") for name in plugin.threads[-3:])
        assert ticks > before  # the loop ran while they slept in a thread
    finally:
        ticker.cancel()
        await predictor.close()
        threads.shutdown()


async def test_errors_and_the_caller_context_are_the_same_on_the_loop() -> None:
    class Failing:
        def predict(self) -> Any:
            raise ValueError("no")

    threads = ElasticThreads()
    predictor = ThreadPredictor(ModelWrapper("m", Failing()), threads)
    try:
        await predictor.start(warm=False)
        for _ in range(inline.TRIAL + 2):
            try:
                await predictor.predict({})
            except ValueError as exc:
                assert str(exc) == "no"
            else:
                raise AssertionError("no error")
        assert predictor._quick.on_loop
    finally:
        await predictor.close()
        threads.shutdown()
