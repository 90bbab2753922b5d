"""Bounds on predictions over HTTP: per-model slots, a bounded queue, a time limit;
and a predictor that cannot start."""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
from typing import Any

import pytest

from deepaas_lite.config import ModelOptions
from deepaas_lite.engine.processes import predictor as pool
from deepaas_lite.model.wrapper import ModelWrapper
from tests.conftest import ClientFactory

Client = Any
GUARD = 30.0  # seconds before a test that would hang fails instead


class Blocking:
    """Each call says it has entered, then waits until the test releases it."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.finished = threading.Semaphore(0)

    def predict(self) -> str:
        self.entered.release()
        try:
            self.release.wait()
        finally:
            self.finished.release()
        return "done"

    async def until_entered(self, calls: int) -> None:
        for _ in range(calls):
            assert await asyncio.to_thread(self.entered.acquire, timeout=GUARD)

    async def until_finished(self, calls: int) -> None:
        for _ in range(calls):
            assert await asyncio.to_thread(self.finished.acquire, timeout=GUARD)


class Quick:
    def predict(self) -> int:
        return 1


@pytest.fixture
def slow() -> Any:
    plugin = Blocking()
    yield plugin
    plugin.release.set()


async def _blocking_client(make_client: ClientFactory, slow: Blocking, **options: Any) -> Client:
    return await make_client(
        models={"slow": ModelWrapper("slow", slow), "quick": ModelWrapper("quick", Quick())},
        model_options={"slow": ModelOptions(**options)},
    )


async def test_a_full_queue_answers_503_with_retry_after_and_others_still_answer(
    make_client: ClientFactory, slow: Blocking
) -> None:
    client = await _blocking_client(make_client, slow, predict_concurrency=2, predict_queue_max=0)
    calls = [asyncio.ensure_future(client.post("/v2/models/slow/predict/")) for _ in range(40)]
    await slow.until_entered(2)
    refused = []
    while len(refused) < 38:
        done, _ = await asyncio.wait(calls, timeout=GUARD, return_when=asyncio.FIRST_COMPLETED)
        assert done, "the calls beyond the limit were not refused"
        for call in done:
            calls.remove(call)
            refused.append(call.result())
    for resp in refused:
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "1"
        body = await resp.json()
        assert body["code"] == 503
        assert body["message"] == (
            "Model 'slow' is busy: 0 predictions are waiting already; try again"
        )
    resp = await asyncio.wait_for(client.post("/v2/models/quick/predict/"), GUARD)
    assert resp.status == 200 and (await resp.json())["predictions"] == 1
    slow.release.set()
    running = await asyncio.gather(*calls)
    assert [r.status for r in running] == [200, 200]
    assert [(await r.json())["predictions"] for r in running] == ["done", "done"]


async def test_timeout_answers_504_and_the_abandoned_call_keeps_its_slot(
    make_client: ClientFactory, slow: Blocking
) -> None:
    client = await _blocking_client(
        make_client, slow, predict_concurrency=1, predict_queue_max=0, predict_timeout=1.0
    )
    resp = await asyncio.wait_for(client.post("/v2/models/slow/predict/"), GUARD)
    assert resp.status == 504
    body = await resp.json()
    assert body["code"] == 504
    assert body["message"] == "Model 'slow' did not answer within 1 seconds"
    # The timed-out call still runs: it holds the model's one slot until it ends.
    resp = await client.post("/v2/models/slow/predict/")
    assert resp.status == 503 and resp.headers["Retry-After"] == "1"
    assert (await client.post("/v2/models/quick/predict/")).status == 200
    slow.release.set()
    await slow.until_finished(1)
    for _ in range(100):  # the slot comes back once the loop hears the call ended
        resp = await client.post("/v2/models/slow/predict/")
        if resp.status != 503:
            break
        await asyncio.sleep(0.05)
    assert resp.status == 200 and (await resp.json())["predictions"] == "done"


class _NoForks:
    """A multiprocessing context whose processes cannot start (fork fails)."""

    def Process(self, **kwargs: Any) -> Any:  # named as multiprocessing names it
        return self

    def start(self) -> None:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")


async def test_a_predictor_that_cannot_start_is_reported_and_cleaned_up(
    make_client: ClientFactory,
    models: dict[str, ModelWrapper],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(pool, "SPAWN", _NoForks())
    client = await make_client(
        models={"worker-fragile": models["worker-fragile"], "echo": models["echo"]},
        model_options={"worker-fragile": ModelOptions(predict_workers=2)},
    )
    reason = (
        "Model 'worker-fragile': no predict worker process could start: "
        "BlockingIOError(11, 'Resource temporarily unavailable')"
    )
    for _ in range(int(GUARD / 0.05)):
        resp = await client.get("/v2/health/ready")
        body = await resp.json()
        if body.get("reasons", {}).get("worker-fragile") != "starting its worker processes":
            break
        await asyncio.sleep(0.05)
    assert resp.status == 503
    assert body["models"] == ["worker-fragile"]
    assert body["reasons"] == {"worker-fragile": reason}
    assert reason in caplog.text
    resp = await client.post("/v2/models/worker-fragile/predict/")
    assert resp.status == 503 and (await resp.json())["message"] == reason
    assert (await client.post("/v2/models/echo/predict/", params={"data": "1"})).status == 200
    threads = [t for t in threading.enumerate() if t.name.startswith("predict-")]
    assert threads
    with caplog.at_level(logging.ERROR):
        await client.close()  # no exception: every predictor and the threads are closed
    for thread in threads:
        thread.join(GUARD)
        assert not thread.is_alive()
