"""Predictions in worker processes (``predict_workers``), through real HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import pytest

from deepaas_lite.config import ModelOptions
from deepaas_lite.engine.processes.predictor import ProcessPredictor
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.web.keys import PREDICTORS
from tests.conftest import ClientFactory
from tests.engine.test_process_channel import count_writes

Client = Any
FRAGILE = "/v2/models/worker-fragile/predict/"
QUICK = {"action": "pid", "seconds": 0.0}  # worker-fragile's arguments for a quick call


async def _fragile(make_client: ClientFactory, models: dict[str, ModelWrapper], n: int) -> Client:
    client = await make_client(
        models={"worker-fragile": models["worker-fragile"]}, predict_workers=n
    )
    await _until_ready(client)
    return client


async def _until_ready(client: Client, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while (await client.get("/v2/health/ready")).status != 200:
        assert time.monotonic() < deadline, "the workers never became ready"
        await asyncio.sleep(0.05)


@pytest.fixture
def marks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory where each call of worker-fragile leaves a file as it starts."""
    path = tmp_path / "marks"
    path.mkdir()
    monkeypatch.setenv("DEEPAAS_LITE_TEST_MARK_DIR", str(path))
    return path


async def _until_started(marks: Path, calls: int, timeout: float = 20.0) -> None:
    """Until ``calls`` worker processes have started a call."""
    deadline = time.monotonic() + timeout
    while len(list(marks.iterdir())) < calls:
        assert time.monotonic() < deadline, "the calls never started"
        await asyncio.sleep(0.02)


def _pool(client: Client, model_id: str) -> ProcessPredictor:
    predictor = client.app[PREDICTORS][model_id]
    assert isinstance(predictor, ProcessPredictor)
    return predictor


def _error(body: dict[str, Any]) -> dict[str, Any]:
    """An error body's code and message."""
    return {key: body[key] for key in ("code", "message")}


async def _echo_answers(client: Client) -> list[tuple[int, Any]]:
    answers = []
    for kwargs in (
        {"params": {"data": ["5.1", "3.5"]}},
        {"json": {"data": [1, 2], "mode": "upper", "count": 3}},
        {"json": {"data": [1, "x"], "count": 30}},
        {"params": {"data": "1"}, "headers": {"Accept": "text/plain"}},
    ):
        resp = await client.post("/v2/models/echo/predict/", **kwargs)
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        if isinstance(body, dict):
            body.pop("request_id", None)  # differs per request
        answers.append((resp.status, body))
    return answers


async def test_answers_like_threads(make_client: ClientFactory) -> None:
    threads = await make_client()
    pool = await make_client(model_options={"echo": ModelOptions(predict_workers=1)})
    await _until_ready(pool)
    assert _pool(pool, "echo").pids and not isinstance(
        threads.app[PREDICTORS]["echo"], ProcessPredictor
    )
    assert not isinstance(pool.app[PREDICTORS]["class-plugin"], ProcessPredictor)
    answers = await _echo_answers(pool)
    assert answers == await _echo_answers(threads)
    assert [status for status, _ in answers] == [200, 200, 422, 200]


async def test_file_upload_reaches_the_worker(make_client: ClientFactory) -> None:
    client = await make_client(model_options={"echo": ModelOptions(predict_workers=1)})
    form = aiohttp.FormData()
    form.add_field("data", "7")
    form.add_field("upload", b"hello worker", filename="notes.txt", content_type="text/plain")
    resp = await client.post("/v2/models/echo/predict/", data=form)
    assert resp.status == 200
    upload = (await resp.json())["predictions"]["upload"]
    assert upload["content"] == "hello worker" and upload["original_filename"] == "notes.txt"
    assert not os.path.exists(upload["path"])


async def test_an_open_file_returned_in_a_worker_is_answered_as_in_threads(
    make_client: ClientFactory,
) -> None:
    """A file object does not pickle: it is read where the call ran (here the upload,
    removed once the call has ended)."""
    threads = await make_client()
    pool = await make_client(model_options={"echo": ModelOptions(predict_workers=1)})
    await _until_ready(pool)
    content = bytes(range(256)) * 64
    bodies = []
    for client in (threads, pool):
        form = aiohttp.FormData()
        form.add_field("data", "7")
        form.add_field("upload", content, filename="a.png", content_type="image/png")
        resp = await client.post("/v2/models/echo/predict/?accept=image/png", data=form)
        assert resp.status == 200, await resp.text()
        assert resp.content_type == "image/png"
        bodies.append(await resp.read())
    assert bodies == [content, content]
    assert _pool(pool, "echo").pids


async def test_ready_only_after_every_worker_warmed(
    make_client: ClientFactory, models: dict[str, ModelWrapper], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPAAS_LITE_TEST_WARM_DELAY", "0.6")
    started = time.time()
    client = await make_client(
        models={"worker-fragile": models["worker-fragile"]}, predict_workers=2
    )
    resp = await client.get("/v2/health/ready")
    assert resp.status == 503
    body = await resp.json()
    assert body["models"] == ["worker-fragile"]
    assert body["reasons"] == {"worker-fragile": "starting its worker processes"}
    early = asyncio.ensure_future(client.post(FRAGILE))  # waits for a warmed worker
    await _until_ready(client)
    assert len(_pool(client, "worker-fragile").pids) == 2
    body = (await (await early).json())["predictions"]
    assert body["warmed_at"] >= started + 0.6
    assert body["pid"] in _pool(client, "worker-fragile").pids and body["pid"] != os.getpid()


async def test_plugin_errors_cross_the_pool(
    make_client: ClientFactory, models: dict[str, ModelWrapper]
) -> None:
    client = await _fragile(make_client, models, 1)
    resp = await client.post(FRAGILE, params={"action": "http"})
    assert resp.status == 402
    assert _error(await resp.json()) == {"code": 402, "message": "Pay first"}
    resp = await client.post(FRAGILE, params={"action": "value"})
    assert resp.status == 500
    assert _error(await resp.json()) == {"code": 500, "message": "the worker says no"}
    resp = await client.post(FRAGILE, params={"action": "nope"})
    assert resp.status == 422


async def test_worker_killed_mid_request_is_replaced(
    make_client: ClientFactory, models: dict[str, ModelWrapper], marks: Path
) -> None:
    client = await _fragile(make_client, models, 2)
    pool = _pool(client, "worker-fragile")
    first, second = pool.pids
    slow = [
        asyncio.ensure_future(client.post(FRAGILE, params={"action": "sleep", "seconds": "1"}))
        for _ in range(2)
    ]
    await _until_started(marks, 2)  # both workers are busy now
    os.kill(first, signal.SIGKILL)
    answers = [await s for s in slow]
    statuses = sorted(a.status for a in answers)
    assert statuses == [200, 500]
    failed = next(a for a in answers if a.status == 500)
    message = (await failed.json())["message"]
    assert message == (
        "worker process for model 'worker-fragile' died (signal 9, SIGKILL) while predicting"
    )
    ok = next(a for a in answers if a.status == 200)
    assert (await ok.json())["predictions"]["pid"] == second
    await _until_ready(client)
    deadline = time.monotonic() + 20
    while len(pool.pids) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert first not in pool.pids and second in pool.pids


async def test_worker_exit_fails_only_its_request(
    make_client: ClientFactory, models: dict[str, ModelWrapper]
) -> None:
    client = await _fragile(make_client, models, 1)
    (before,) = _pool(client, "worker-fragile").pids
    resp = await client.post(FRAGILE, params={"action": "exit"})
    assert resp.status == 500
    assert "died (exit code 7) while predicting" in (await resp.json())["message"]
    resp = await client.post(FRAGILE)  # waits for the replacement, warmed
    assert resp.status == 200
    body = (await resp.json())["predictions"]
    assert body["pid"] != before and body["warmed_at"] is not None


async def test_close_stops_every_worker(
    make_client: ClientFactory, models: dict[str, ModelWrapper], marks: Path
) -> None:
    client = await _fragile(make_client, models, 2)
    busy = asyncio.ensure_future(client.post(FRAGILE, params={"action": "sleep", "seconds": "5"}))
    await _until_started(marks, 1)
    pids = _pool(client, "worker-fragile").pids
    assert len(pids) == 2
    await client.close()
    busy.cancel()
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    mine = [c for c in psutil.Process().children(recursive=True) if c.pid in pids]
    assert mine == []


async def test_unreadable_answer_replaces_the_worker(
    make_client: ClientFactory, models: dict[str, ModelWrapper]
) -> None:
    client = await _fragile(make_client, models, 1)
    pool = _pool(client, "worker-fragile")
    (before,) = pool.pids
    resp = await asyncio.wait_for(client.post(FRAGILE, params={"action": "unreadable"}), 30)
    assert resp.status == 500
    assert (await resp.json())["message"] == (
        "Model 'worker-fragile': the answer of its worker process could not be "
        "read (ValueError('this answer cannot be read back')); the worker is replaced"
    )
    assert before not in pool.pids  # no longer counted as serving
    resp = await asyncio.wait_for(client.post(FRAGILE), 30)  # the next call gets a new worker
    assert resp.status == 200
    assert (await resp.json())["predictions"]["pid"] not in (before, os.getpid())
    await _until_ready(client)
    assert len(pool.pids) == 1 and before not in pool.pids
    assert not psutil.pid_exists(before) or psutil.Process(before).status() == psutil.STATUS_ZOMBIE


async def test_an_output_that_does_not_pickle_is_a_500_that_says_what_to_do(
    make_client: ClientFactory, models: dict[str, ModelWrapper]
) -> None:
    client = await _fragile(make_client, models, 1)
    (before,) = _pool(client, "worker-fragile").pids
    resp = await asyncio.wait_for(client.post(FRAGILE, params={"action": "lock"}), 30)
    assert resp.status == 500
    message = (await resp.json())["message"]
    assert message.startswith(
        "Model 'worker-fragile' returned output that cannot leave its worker process: "
    )
    assert message.endswith("(serve it in threads: predict_workers = 0)")
    resp = await asyncio.wait_for(client.post(FRAGILE), 30)  # the same worker goes on
    assert resp.status == 200
    assert (await resp.json())["predictions"]["pid"] == before


async def test_timeout_answers_504_and_replaces_the_worker(
    make_client: ClientFactory, models: dict[str, ModelWrapper], marks: Path
) -> None:
    client = await make_client(
        models={"worker-fragile": models["worker-fragile"]},
        model_options={"worker-fragile": ModelOptions(predict_workers=1, predict_timeout=2.0)},
    )
    await _until_ready(client)
    pool = _pool(client, "worker-fragile")
    (before,) = pool.pids
    resp = await client.post(FRAGILE, params={"action": "sleep", "seconds": "600"})
    assert resp.status == 504
    body = await resp.json()
    assert body["code"] == 504
    assert body["message"] == "Model 'worker-fragile' did not answer within 2 seconds"
    assert before not in pool.pids
    await _until_ready(client)
    resp = await client.post(FRAGILE)
    assert resp.status == 200
    assert (await resp.json())["predictions"]["pid"] not in (before, os.getpid())
    assert not psutil.pid_exists(before) or psutil.Process(before).status() == psutil.STATUS_ZOMBIE


async def _quick_calls(client: Client, n: int = 8) -> int:
    """``n`` quick calls one after another (the worker learns that its calls are quick);
    the pid that answered the last."""
    pid = 0
    for _ in range(n):
        resp = await client.post(FRAGILE)
        assert resp.status == 200
        pid = (await resp.json())["predictions"]["pid"]
    return pid


async def _until_held(pool: ProcessPredictor, calls: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while pool.peak_in_flight < calls:
        assert time.monotonic() < deadline, f"the worker never held {calls} calls"
        await asyncio.sleep(0.02)


async def test_a_worker_whose_calls_are_quick_holds_several(
    make_client: ClientFactory, models: dict[str, ModelWrapper], marks: Path
) -> None:
    client = await _fragile(make_client, models, 1)
    pool = _pool(client, "worker-fragile")
    pid = await _quick_calls(client)
    assert pool.peak_in_flight == 1
    slow = asyncio.ensure_future(client.post(FRAGILE, params={"action": "sleep", "seconds": "2"}))
    await _until_started(marks, 1)
    quick = [asyncio.ensure_future(client.post(FRAGILE)) for _ in range(3)]
    await _until_held(pool, 4)  # sent behind the running call, not waiting in the server
    answers = [await q for q in [slow, *quick]]
    assert [a.status for a in answers] == [200] * 4
    assert {(await a.json())["predictions"]["pid"] for a in answers[1:]} == {pid}


async def test_a_call_made_while_another_is_under_way_goes_at_the_turns_end(
    make_client: ClientFactory, models: dict[str, ModelWrapper]
) -> None:
    """Under load, the call of the first request of a turn goes with the others made in
    that turn, even to an idle worker: one write, one wake-up of the worker."""
    client = await _fragile(make_client, models, 2)
    pool = _pool(client, "worker-fragile")
    await _quick_calls(client)
    alone = asyncio.ensure_future(pool.predict(QUICK))  # nothing else under way
    writes = [count_writes(serving.channel) for serving in pool._workers]
    await asyncio.sleep(0)  # the call's task runs until it waits for its answer
    assert sum(len(w) for w in writes) == 1  # written at once
    await alone
    pool.peak_in_flight = 0
    slow = asyncio.ensure_future(pool.predict({"action": "sleep", "seconds": 2.0}))
    await _until_held(pool, 1)
    (idle,) = [n for n, serving in enumerate(pool._workers) if serving.in_flight == 0]
    before = len(writes[idle])
    quick = asyncio.ensure_future(pool.predict(QUICK))
    await asyncio.sleep(0)
    assert len(writes[idle]) == before  # not yet: other calls may come in this turn
    answer = await quick
    assert len(writes[idle]) == before + 1
    assert answer["pid"] == pool._workers[idle].pid
    assert (await slow)["pid"] != answer["pid"]


async def test_calls_held_by_a_worker_that_dies_go_to_its_replacement(
    make_client: ClientFactory, models: dict[str, ModelWrapper], marks: Path
) -> None:
    client = await _fragile(make_client, models, 1)
    pool = _pool(client, "worker-fragile")
    before = await _quick_calls(client)
    slow = asyncio.ensure_future(client.post(FRAGILE, params={"action": "sleep", "seconds": "600"}))
    await _until_started(marks, 1)
    quick = [asyncio.ensure_future(client.post(FRAGILE)) for _ in range(3)]
    await _until_held(pool, 4)
    os.kill(before, signal.SIGKILL)
    died = await slow
    assert died.status == 500
    assert (await died.json())["message"] == (
        "worker process for model 'worker-fragile' died (signal 9, SIGKILL) while predicting"
    )
    answers = [await q for q in quick]  # never started: run by the new worker
    assert [a.status for a in answers] == [200] * 3
    pids = {(await a.json())["predictions"]["pid"] for a in answers}
    assert len(pids) == 1 and before not in pids and pids == set(pool.pids)


async def test_a_worker_whose_calls_are_slow_holds_one_at_a_time(
    make_client: ClientFactory, models: dict[str, ModelWrapper]
) -> None:
    client = await _fragile(make_client, models, 2)
    pool = _pool(client, "worker-fragile")
    sleep = {"action": "sleep", "seconds": "0.3"}
    # Until each worker has learned that its calls are slow: a worker that ran a quick
    # call first (or both first calls went to one) holds several until it has.
    deadline = time.monotonic() + 20
    while not all(w.channel.took is not None and w.depth == 1 for w in pool._workers):
        assert time.monotonic() < deadline, "the workers never learned their calls are slow"
        first = [asyncio.ensure_future(client.post(FRAGILE, params=sleep)) for _ in range(2)]
        assert [(await f).status for f in first] == [200, 200]
    pool.peak_in_flight = 0
    calls = [asyncio.ensure_future(client.post(FRAGILE, params=sleep)) for _ in range(6)]
    answers = [await c for c in calls]
    assert [a.status for a in answers] == [200] * 6
    assert pool.peak_in_flight == 1  # the others waited for a free worker
    pids = [(await a.json())["predictions"]["pid"] for a in answers]
    assert sorted(set(pids)) == sorted(pool.pids)


async def test_a_call_that_waited_for_a_worker_goes_before_one_that_came_later(
    make_client: ClientFactory, models: dict[str, ModelWrapper], marks: Path
) -> None:
    """A call that waits for a free worker keeps its place: a call that comes as the
    worker frees up (between its answer and the waiting call's turn) waits behind it."""
    client = await _fragile(make_client, models, 1)
    pool = _pool(client, "worker-fragile")
    sleep = {"action": "sleep", "seconds": "0.3"}
    assert (await client.post(FRAGILE, params=sleep)).status == 200  # its calls are slow
    running = asyncio.ensure_future(client.post(FRAGILE, params=sleep))
    await _until_started(marks, 1)
    waited = asyncio.ensure_future(client.post(FRAGILE, params=sleep))
    deadline = time.monotonic() + 20
    while pool.queued < 1:
        assert time.monotonic() < deadline, "the second call never waited for the worker"
        await asyncio.sleep(0.01)
    while pool.in_flight:  # each loop turn, until the running call has answered
        assert time.monotonic() < deadline, "the running call never answered"
        await asyncio.sleep(0)
    # The running call has just answered, and the waiting one has been told, but has
    # not had its turn yet: this call, made now, must not take the worker first.
    came_later = await pool.predict(QUICK)
    assert (await running).status == 200
    resp = await waited
    assert resp.status == 200
    assert (await resp.json())["predictions"]["started"] < came_later["started"]


async def test_a_call_waits_for_a_new_worker_when_the_socket_of_the_last_one_has_closed(
    make_client: ClientFactory, models: dict[str, ModelWrapper]
) -> None:
    """Between its socket closing and its exit being seen, a worker takes no call: the
    call waits for its replacement (it used to be sent to it again and again, on and on,
    and the server hung)."""
    client = await _fragile(make_client, models, 1)
    pool = _pool(client, "worker-fragile")
    before = await _quick_calls(client, 1)
    channel = pool._workers[0].channel
    assert channel.transport is not None
    channel.transport.close()  # the worker reads the end of its socket, and exits
    resp = await client.post(FRAGILE)
    assert resp.status == 200
    assert (await resp.json())["predictions"]["pid"] not in (before, os.getpid())
