"""The log setup: ``BackgroundHandler`` writes from its own thread what callers log."""

from __future__ import annotations

import io
import logging
import threading
import time
import types
from collections.abc import Iterator

import pytest

from deepaas_lite import logs


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, logs.BackgroundHandler, io.StringIO]]:
    out = io.StringIO()
    background = logs.BackgroundHandler(logs.handler("text", out), delay=0.01)
    logger = logging.getLogger("tests.background")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(background)
    yield logger, background, out
    logger.removeHandler(background)
    background.close()


def _messages(out: io.StringIO) -> list[str]:
    return [line.split("]: ", 1)[1] for line in out.getvalue().splitlines()]


def test_lines_come_in_order_with_the_callers_request_id(
    logged: tuple[logging.Logger, logs.BackgroundHandler, io.StringIO],
) -> None:
    logger, background, out = logged
    token = logs.REQUEST_ID.set("req-9")
    logger.info("one %d", 1)
    logs.REQUEST_ID.reset(token)
    logger.info("two")
    background.flush()
    lines = out.getvalue().splitlines()
    assert _messages(out) == ["one 1", "two"]
    assert "[req-9]: one 1" in lines[0] and "[-]: two" in lines[1]


def test_the_message_is_what_the_arguments_were_when_logged(
    logged: tuple[logging.Logger, logs.BackgroundHandler, io.StringIO],
) -> None:
    logger, background, out = logged
    items = [1]
    logger.info("items %s", items)
    items.append(2)
    background.flush()
    assert _messages(out) == ["items [1]"]


def test_the_thread_writes_without_a_flush(
    logged: tuple[logging.Logger, logs.BackgroundHandler, io.StringIO],
) -> None:
    logger, _, out = logged
    logger.info("from %s", threading.current_thread().name)
    deadline = time.monotonic() + 10
    while not out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _messages(out) == [f"from {threading.current_thread().name}"]


def test_close_writes_what_is_left() -> None:
    out = io.StringIO()
    background = logs.BackgroundHandler(logs.handler("json", out), delay=60)
    for word in ("first", "last"):  # the thread takes the first, then sleeps a minute
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "%s words", (word,), None)
        background.handle(record)
    background.close()
    assert '"message": "first words"' in out.getvalue()
    assert '"message": "last words"' in out.getvalue()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_an_access_line_made_by_the_thread_is_the_line_its_record_gives(log_format: str) -> None:
    from deepaas_lite.web.access_log import AccessLine

    out = io.StringIO()
    target = logs.handler(log_format, out)
    background = logs.BackgroundHandler(target, delay=60)
    thread = threading.current_thread()
    lines = [
        AccessLine(
            1764680400.25, thread.ident, thread.name, "req-1", "POST", "/p", 200, 0.0012, "m"
        ),
        AccessLine(
            1764680400.999, thread.ident, thread.name, "-", "GET", "/a\nb\x1b", 404, 2.5, None
        ),
    ]
    for line in lines:
        background.defer(line)
    background.close()
    assert out.getvalue().splitlines() == [target.format(line.record()) for line in lines]
    record = lines[0].record()
    assert (record.name, record.levelname, record.threadName) == (
        logs.ACCESS_LOGGER,
        "INFO",
        thread.name,
    )
    assert (record.method, record.status, record.duration_ms, record.model) == (
        "POST",
        200,
        1.2,
        "m",
    )


def test_access_lines_are_deferred_only_when_the_thread_is_their_one_way_out() -> None:
    from deepaas_lite.web import access_log

    root = logging.getLogger()
    saved = root.handlers[:]
    background = logs.BackgroundHandler(logs.handler("text", io.StringIO()), delay=60)
    package = logging.getLogger("deepaas_lite")
    try:
        root.handlers[:] = [background]
        assert access_log._sink() is background
        other = logging.NullHandler()
        package.addHandler(other)
        assert access_log._sink() is None  # that handler must see a record
        package.removeHandler(other)
        root.handlers[:] = [background, logging.NullHandler()]
        assert access_log._sink() is None
    finally:
        root.handlers[:] = saved
        background.close()


def test_a_long_batch_gives_the_gil_back_between_stretches_not_every_few_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The thread lets the event loop have the GIL (``time.sleep(0)``) after about
    ``_SLICE_S`` of formatting: handing it over every 16 records cost more than them."""
    from deepaas_lite.web.access_log import AccessLine

    out = io.StringIO()
    background = logs.BackgroundHandler(logs.handler("text", out), delay=60)
    thread = threading.current_thread()
    count = 960
    # Put in the queue without waking the thread: the drain below runs here.
    background._records.extend(
        AccessLine(
            1764680400.0 + n, thread.ident, thread.name, "-", "GET", f"/{n}", 200, 0.001, None
        )
        for n in range(count)
    )
    readings = iter(range(10**6))
    slept: list[float] = []
    clock = types.SimpleNamespace(
        perf_counter=lambda: next(readings) * 1e-4,  # 0.1 ms later at each reading
        sleep=slept.append,
        localtime=time.localtime,
        strftime=time.strftime,
        time=time.time,
    )
    monkeypatch.setattr(logs, "time", clock)
    background.flush()
    monkeypatch.undo()
    background.close()
    assert [line.split(" ")[-3] for line in out.getvalue().splitlines()] == [
        f"/{n}" for n in range(count)
    ]
    assert slept and set(slept) == {0}
    assert len(slept) < count // (logs._SLICE * 2)  # every 16 records: 60 times
