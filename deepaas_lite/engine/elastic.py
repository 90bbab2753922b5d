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

While more calls wait, a thread goes on to the next one and keeps the results for one
hand-back (``_Inbox``): the loop is woken, and takes the GIL from the thread, once a
burst of calls rather than once a call. Each wake-up is a trade of the GIL that the
operating system schedules; with a result handed back per call the loop and the thread
took the GIL from each other on every request (an IRIS SVC at 16 connections: 24-34%
more CPU a request). A result is never kept longer than ``HOLD_S``: a timer on the
loop takes what waits, should a slow call follow quick ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from deepaas_lite.engine.limits import busy

T = TypeVar("T")

# The longest a finished call's result waits for the hand-back of the calls after it.
HOLD_S = 0.005

_Call = tuple[
    asyncio.Future[Any], "_Inbox", Callable[..., Any], tuple[Any, ...], Callable[[], None] | None
]


@dataclass(eq=False)
class _Worker:
    primary: bool
    busy_since: float | None = None

    def stalled(self, now: float, stall: float) -> bool:
        """Busy on one call for ``stall`` seconds or more."""
        return self.busy_since is not None and now - self.busy_since >= stall


_Done = tuple[asyncio.Future[Any], Any, BaseException | None, Callable[[], None] | None]


class _Inbox:
    """Results on their way back to one event loop.

    A result is handed back when its call ends (``put``), or kept for the hand-back of
    the calls that wait after it (``put(..., wake=False)``; ``take`` on the loop fetches
    what waits). Results that end while the loop has not yet run the last hand-back ride
    along with it, so a busy loop is woken (and trades the GIL) once for many results.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._results: deque[_Done] = deque()
        self._scheduled = False

    def put(self, done: _Done, wake: bool = True) -> None:
        """From a thread. The flag is cleared before the loop empties the deque, so a
        result appended while the flag still reads true is taken by that hand-back."""
        self._results.append(done)
        if wake and not self._scheduled:
            self._scheduled = True
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                self._loop.call_soon_threadsafe(self._deliver)

    def take(self) -> None:
        """On the loop: hand back what waits, unless a hand-back is on its way."""
        if self._results and not self._scheduled:
            self._deliver()

    def _deliver(self) -> None:
        self._scheduled = False
        results = self._results
        while results:
            future, result, error, on_done = results.popleft()
            if on_done is not None:
                on_done()
            if future.cancelled():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)


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
        self._holds: dict[asyncio.AbstractEventLoop, asyncio.TimerHandle] = {}
        self._inboxes: dict[asyncio.AbstractEventLoop, _Inbox] = {}
        self._closed = False

    @property
    def threads(self) -> int:
        """How many threads there are now."""
        return len(self._workers)

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in a thread; its exception, if any, is raised here."""
        return await self.submit(func, *args)

    def submit(
        self,
        func: Callable[..., T],
        *args: Any,
        on_done: Callable[[], None] | None = None,
        future: asyncio.Future[T] | None = None,
    ) -> asyncio.Future[T]:
        """Queue ``func(*args)``; the future (``future`` if given) gets its outcome.

        Cancelling the future discards the result (a call not yet started is skipped).
        ``on_done`` runs on the event loop once the call has ended or was skipped, even
        when the future was cancelled: it says when the thread is free again. It must
        not raise.
        """
        if self._closed:
            raise RuntimeError("ElasticThreads is shut down")
        loop = asyncio.get_running_loop()
        inbox = self._inboxes.get(loop)
        if inbox is None:
            inbox = self._inboxes[loop] = _Inbox(loop)
        if future is None:
            future = loop.create_future()
        # The call runs in the caller's context: log lines name the caller's request.
        context = contextvars.copy_context()
        self._queue.put((future, inbox, context.run, (func, *args), on_done))
        if not self._workers:
            self._add_worker(primary=True)
        if self._check is None:
            self._check = loop.call_later(self._stall, self._grow_if_stalled, loop)
        if loop not in self._holds:
            self._holds[loop] = loop.call_later(HOLD_S, self._take_held, loop, inbox)
        return future

    def shutdown(self) -> None:
        """Let every thread finish its call and leave; calls still queued are dropped."""
        self._closed = True
        if self._check is not None:
            self._check.cancel()
            self._check = None
        for loop, hold in list(self._holds.items()):
            hold.cancel()
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(self._inboxes[loop].take)
        self._holds.clear()
        with self._lock:
            workers = list(self._workers)
        for _ in workers:
            self._queue.put(None)

    def _take_held(self, loop: asyncio.AbstractEventLoop, inbox: _Inbox) -> None:
        """Every ``HOLD_S`` while calls are under way: the results kept meanwhile.

        Handing them back may run ``on_done`` callbacks that submit more calls, which
        start a timer of their own: then no second one is started here (two would
        each start another, without end, each logging a KeyError when it fired)."""
        self._holds.pop(loop, None)
        inbox.take()
        if self._closed or loop in self._holds:
            return
        if not self._queue.empty() or any(w.busy_since is not None for w in self._workers):
            self._holds[loop] = loop.call_later(HOLD_S, self._take_held, loop, inbox)

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
        while True:
            try:
                call = self._queue.get(timeout=None if worker.primary else self._idle)
            except queue.Empty:  # only threads beyond the first wait with a timeout
                call = None
            if call is None:
                self._leave(worker)
                return
            future, inbox, func, args, on_done = call
            result, error = None, None
            if not future.cancelled():  # nobody waits for it any more: skip it
                worker.busy_since = time.monotonic()
                try:
                    result = func(*args)
                except BaseException as exc:
                    error = exc
                worker.busy_since = None
            # More calls wait: this thread goes on, the result rides with theirs.
            wake = self._closed or self._queue.empty()
            inbox.put((future, result, error, on_done), wake=wake)
            del future, result, error, call
            if not worker.primary and not self._any_stalled():
                self._leave(worker)
                return

    def _leave(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.remove(worker)

    def _any_stalled(self) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(w.stalled(now, self._stall) for w in self._workers)


_Waiting = tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]


class Lane:
    """One model's share of the threads: at most ``limit`` of its calls in them at once,
    at most ``queue_max`` more waiting; beyond, ``ModelBusy``.

    A call keeps its place until it has ended in its thread, also when its caller has
    stopped waiting, so a model's abandoned slow calls hold only its own places. It all
    runs on the event loop, without locks: a waiting call is a future, handed to the
    threads by the call that frees its place, with no task woken in between.
    """

    def __init__(self, threads: ElasticThreads, name: str, limit: int, queue_max: int) -> None:
        self._threads = threads
        self._name = name
        self._limit = max(1, limit)
        self._queue_max = max(0, queue_max)
        self._running = 0
        self._queue: deque[_Waiting] = deque()
        self._waiting = 0  # queued calls whose future is not cancelled

    @property
    def waiting(self) -> int:
        return self._waiting

    @property
    def idle(self) -> bool:
        """No call of the lane is in a thread or waiting for one."""
        return self._running == 0

    def submit(self, func: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Like ``ElasticThreads.submit``, once the lane has a free place."""
        if self._running < self._limit:
            self._running += 1
            try:
                return self._threads.submit(func, *args, on_done=self._ended)
            except BaseException:
                self._running -= 1
                raise
        if self._waiting >= self._queue_max:
            raise busy(self._name, self._waiting)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        future.add_done_callback(self._left)
        self._queue.append((future, func, args))
        self._waiting += 1
        if len(self._queue) > 2 * self._queue_max + 16:  # shed the cancelled ones
            self._queue = deque(call for call in self._queue if not call[0].done())
        return future

    def _left(self, future: asyncio.Future[Any]) -> None:
        """A queued call's future is done before it ran: it was cancelled."""
        self._waiting -= 1

    def _ended(self) -> None:
        """A call has ended in its thread: its place goes to the next waiting call."""
        while self._queue:
            future, func, args = self._queue.popleft()
            if future.done():  # cancelled while it waited
                continue
            future.remove_done_callback(self._left)
            self._waiting -= 1
            try:
                self._threads.submit(func, *args, on_done=self._ended, future=future)
            except RuntimeError as exc:  # shut down
                future.set_exception(exc)
                continue
            return
        self._running -= 1
