"""Blocking calls for the event loop, in as few threads as keep it moving.

One thread serves calls while they are quick: a single thread trades the GIL with the
event loop far less than a pool does (on a no-op model, 11k against 7k requests/s
with six threads, and 5k through ``loop.run_in_executor``). When every thread has been
busy on one call for longer than ``stall`` seconds while calls wait, another thread
starts, up to ``max_threads``; a thread beyond the first leaves as soon as no other
thread is stalled, or after ``idle`` seconds without work. So a slow call delays the
calls queued behind it by about ``stall``, not by its own duration, and slow calls
still run side by side. ``stall`` is well above the interpreter's switch interval
(5 ms), so a quick call that merely waited for the GIL does not look stalled.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

_Call = tuple[asyncio.Future[Any], asyncio.AbstractEventLoop, Callable[..., Any], tuple[Any, ...]]


@dataclass(eq=False)
class _Worker:
    primary: bool
    busy_since: float | None = None

    def stalled(self, now: float, stall: float) -> bool:
        """Busy on one call for ``stall`` seconds or more."""
        return self.busy_since is not None and now - self.busy_since >= stall


# Results of quick calls are held while more calls wait, and handed back to the event
# loop together: each hand-back wakes the loop and trades the GIL once.
QUICK = 0.001
MAX_HELD = 32

_Done = tuple[asyncio.Future[Any], Any, BaseException | None]


def _deliver(done: list[_Done]) -> None:
    for future, result, error in done:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class _Deliveries:
    """Results waiting to be handed back, by event loop."""

    def __init__(self) -> None:
        self._held: dict[asyncio.AbstractEventLoop, list[_Done]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        result: Any,
        error: BaseException | None,
    ) -> None:
        self._held.setdefault(loop, []).append((future, result, error))
        self._count += 1

    def send(self) -> None:
        held, self._held, self._count = self._held, {}, 0
        for loop, done in held.items():
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(_deliver, done)


class ElasticThreads:
    """Runs blocking calls off the event loop; see the module's docstring."""

    def __init__(
        self, max_threads: int = 32, stall: float = 0.02, idle: float = 10.0, name: str = "predict"
    ) -> None:
        self._max = max(1, max_threads)
        self._stall = stall
        self._idle = idle
        self._name = name
        self._queue: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._check: asyncio.TimerHandle | None = None
        self._closed = False

    @property
    def threads(self) -> int:
        """How many threads there are now."""
        return len(self._workers)

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in a thread; its exception, if any, is raised here."""
        if self._closed:
            raise RuntimeError("ElasticThreads is shut down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((future, loop, func, args))
        if not self._workers:
            self._add_worker(primary=True)
        if self._check is None:
            self._check = loop.call_later(self._stall, self._grow_if_stalled, loop)
        return await future

    def shutdown(self) -> None:
        """Let every thread finish its call and leave; calls still queued are dropped."""
        self._closed = True
        if self._check is not None:
            self._check.cancel()
            self._check = None
        with self._lock:
            workers = list(self._workers)
        for _ in workers:
            self._queue.put(None)

    def _grow_if_stalled(self, loop: asyncio.AbstractEventLoop) -> None:
        self._check = None
        if self._closed or self._queue.empty():
            return
        now = time.monotonic()
        with self._lock:
            stalled = all(w.stalled(now, self._stall) for w in self._workers)
            if stalled and len(self._workers) < self._max:
                self._add_worker(primary=not self._workers)
        self._check = loop.call_later(self._stall, self._grow_if_stalled, loop)

    def _add_worker(self, primary: bool) -> None:
        worker = _Worker(primary=primary)
        thread = threading.Thread(
            target=self._work,
            args=(worker,),
            name=f"{self._name}-{len(self._workers)}",
            daemon=True,
        )
        self._workers.append(worker)
        thread.start()

    def _work(self, worker: _Worker) -> None:
        done = _Deliveries()
        while True:
            if done and self._queue.empty():
                done.send()
            try:
                call = self._queue.get(timeout=None if worker.primary else self._idle)
            except queue.Empty:  # only threads beyond the first wait with a timeout
                call = None
            if call is None:
                self._leave(worker, done)
                return
            future, loop, func, args = call
            worker.busy_since = started = time.monotonic()
            result, error = None, None
            try:
                result = func(*args)
            except BaseException as exc:
                error = exc
            worker.busy_since = None
            done.add(loop, future, result, error)
            if time.monotonic() - started > QUICK or len(done) >= MAX_HELD:
                done.send()
            del future, result, error, call
            if not worker.primary and not self._any_stalled():
                self._leave(worker, done)
                return

    def _leave(self, worker: _Worker, done: _Deliveries) -> None:
        done.send()
        with self._lock:
            self._workers.remove(worker)

    def _any_stalled(self) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(w.stalled(now, self._stall) for w in self._workers)
