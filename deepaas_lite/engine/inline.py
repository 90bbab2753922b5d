"""Very quick calls on the event loop itself: no thread, so no trade of the GIL.

A call in a thread costs the event loop two hand-overs of the GIL (to the thread and
back), and each is a wake-up that the operating system schedules: for a call that
does next to nothing (a no-op model: about 10 us of its own), that costs more than
the call. A call that does real work (an IRIS SVC: 0.24 ms) is better off in its
thread: measured on a busy 2-core machine, such a call on the loop cost the request
1.5 times the CPU it cost with the thread (the loop's and the model's code no longer
keep to one core's caches each, and the process has one thread to be scheduled
instead of two), while a no-op model's request cost 1-28% less on the loop.

``QuickCalls`` watches one model's calls and says when they may run on the loop:
- in threads, its calls are timed, ``TRIAL`` at a time; when at least
  ``QUICK_SHARE`` of them used at most ``QUICK_S`` of CPU and took at most
  ``LONG_S`` (a call in a thread also waits for the GIL), its next calls run on the
  loop;
- on the loop, it goes back to threads after a call that used more than ``BLOCK_S``
  of CPU or took longer than ``LONG_S``, or when its calls use more than ``QUICK_S``
  of CPU on average, or wait (take ``WAIT_S`` longer than the CPU they use) half the
  time. The process being descheduled for a moment (a busy machine) looks like a wait
  now and then, not half the time. The trial that follows is twice as long as the
  last one (up to ``TRIAL_MAX``) when it had run fewer than ``SETTLED`` calls on
  the loop.
So a model whose calls do work, are slow or wait stays in threads, and one whose calls
do next to nothing runs on the loop; a surprise costs the loop one call's time (two
when it used the CPU right after a quick call, whose successor's CPU is not read).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# CPU a call on the loop may use, on average: about what a round trip to a thread
# costs the process (two hand-overs of the GIL, two wake-ups).
QUICK_S = 0.0001
# CPU one call on the loop may use.
BLOCK_S = 0.005
# Time beyond its CPU after which a call on the loop is taken for one that waited.
WAIT_S = 0.001
# Time one call may take, on the loop or in a thread (where it may wait for the GIL).
LONG_S = 0.05
# Calls in threads that decide whether the model is tried on the loop.
TRIAL = 32
TRIAL_MAX = 32 * 1024
# The share of a trial's calls that must be quick.
QUICK_SHARE = 0.75
# Calls on the loop after which a model sent back to threads starts its trials anew.
SETTLED = 1024
# A call this quick on the loop is not worth reading the CPU clock for (a system call)
# on the next call: its time is its CPU time, near enough. A call that then takes
# longer (it used the CPU, or the process was not scheduled) is judged by the next.
CHEAP_S = 0.00005
# Weight of the last call in the averages of calls on the loop.
ALPHA = 1 / 16


class QuickCalls:
    """Where one model's calls run: on the loop (``on_loop``) or in threads."""

    def __init__(self, trial: int = TRIAL) -> None:
        self.on_loop = False
        self._trial = trial
        self._seen = 0  # calls timed in threads since the last decision
        self._quick = 0  # of which quick
        # Of the calls on the loop since the model was last tried there:
        self._calls = 0
        self._cpu = 0.0  # the average CPU used
        self._waits = 0.0  # the average share of calls that waited
        self._last = 0.0  # the last call's time

    def timed(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in a thread, timed for the decision."""
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            return func(*args)
        finally:
            self.observe_thread(time.perf_counter() - start, time.thread_time() - cpu)

    def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` on the loop, now."""
        clock = self._last > CHEAP_S
        start, cpu = time.perf_counter(), time.thread_time() if clock else 0.0
        try:
            return func(*args)
        finally:
            took = time.perf_counter() - start
            self.observe_loop(took, time.thread_time() - cpu if clock else None)

    def observe_thread(self, took: float, cpu: float) -> None:
        """A call in a thread took ``took`` seconds and used ``cpu`` seconds of CPU."""
        self._seen += 1
        if cpu <= QUICK_S and took <= LONG_S:
            self._quick += 1
        if self._seen >= self._trial:
            if self._quick >= QUICK_SHARE * self._seen:
                self._calls, self._cpu, self._waits, self._last = 0, cpu, 0.0, took
                self.on_loop = True
            self._seen = self._quick = 0

    def observe_loop(self, took: float, cpu: float | None) -> None:
        """A call on the loop took ``took`` seconds and used ``cpu`` seconds of CPU
        (``None``: not read, the last call having been quick)."""
        self._calls += 1
        self._last = took
        if cpu is None:
            if CHEAP_S < took <= LONG_S:
                return  # CPU or the process descheduled: the next call, clocked, tells
            cpu = took  # as quick as expected, or too long whatever it used
        self._cpu += ALPHA * (cpu - self._cpu)
        self._waits += ALPHA * ((took - cpu > WAIT_S) - self._waits)
        if cpu > BLOCK_S or took > LONG_S or self._cpu > QUICK_S or self._waits > 0.5:
            self.on_loop = False
            settled = self._calls >= SETTLED
            self._trial = TRIAL if settled else min(2 * self._trial, TRIAL_MAX)
            self._seen = self._quick = 0
