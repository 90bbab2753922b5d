"""The batcher and the batch policy, without HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from deepaas_lite import exceptions
from deepaas_lite.engine.batching import (
    DEFAULT_MAX_BATCH_DELAY,
    DEFAULT_MAX_BATCH_SIZE,
    Batcher,
    BatchPolicy,
    policy_for,
)
from deepaas_lite.model.wrapper import ModelWrapper

GUARD = 30.0  # seconds before a test that would hang fails instead


class Recorder:
    """A ``run`` for the batcher that records each batch and doubles ``x``.

    With ``gate``, each batch waits for it to be set; ``started`` is set by the first.
    """

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.gate = gate
        self.started = asyncio.Event()

    async def __call__(self, batch: list[Mapping[str, Any]]) -> Sequence[Any]:
        self.batches.append([kwargs["x"] for kwargs in batch])
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        return [kwargs["x"] * 2 for kwargs in batch]


def test_policy_precedence(models: dict[str, ModelWrapper]) -> None:
    both, only = models["batch-both"], models["batch-only"]
    assert policy_for(both) == BatchPolicy(8, 0.05)  # the plugin's attributes
    assert policy_for(only) == BatchPolicy(DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_DELAY)
    assert policy_for(both, 4, 0.001) == BatchPolicy(4, 0.001)  # the operator's
    assert policy_for(both, max_batch_size=1) is None  # batching off
    assert policy_for(models["echo"], 16, 0.01) is None  # no predict_batch


def test_predict_batch_alone_is_enough(models: dict[str, ModelWrapper]) -> None:
    only = models["batch-only"]
    assert only.can_predict and only.can_predict_batch
    assert only.predict({"x": 3, "fail": "none"})["double"] == 6
    with pytest.raises(ValueError, match="x=4 is not welcome"):
        only.predict({"x": 4, "fail": "one"})
    with pytest.raises(exceptions.PluginFailed, match="2 outputs for 1 requests"):
        only.predict({"x": 4, "fail": "length"})


async def test_full_batch_does_not_wait_for_the_delay(models: dict[str, ModelWrapper]) -> None:
    run = Recorder()
    batcher = Batcher(models["batch-both"], BatchPolicy(4, 3600.0), run, capacity=1)
    submitted = asyncio.gather(*(batcher.submit({"x": i}) for i in range(4)))
    results = await asyncio.wait_for(submitted, GUARD)  # not the hour of the delay
    assert results == [0, 2, 4, 6]
    assert run.batches == [[0, 1, 2, 3]]
    await batcher.close()


async def test_delay_closes_a_partial_batch(models: dict[str, ModelWrapper]) -> None:
    run = Recorder()
    batcher = Batcher(models["batch-both"], BatchPolicy(100, 0.02), run, capacity=1)
    assert await asyncio.gather(*(batcher.submit({"x": i}) for i in range(3))) == [0, 2, 4]
    assert run.batches == [[0, 1, 2]]
    assert await batcher.submit({"x": 5}) == 10
    await batcher.close()


async def test_batches_grow_while_the_runner_is_busy(models: dict[str, ModelWrapper]) -> None:
    gate = asyncio.Event()
    run = Recorder(gate)
    batcher = Batcher(models["batch-both"], BatchPolicy(10, 0.0), run, capacity=1)
    first = asyncio.ensure_future(batcher.submit({"x": 0}))
    await asyncio.wait_for(run.started.wait(), GUARD)  # the first batch runs
    rest = [asyncio.ensure_future(batcher.submit({"x": i})) for i in range(1, 8)]
    await asyncio.sleep(0)
    gate.set()
    assert await first == 0
    assert [await r for r in rest] == [2 * i for i in range(1, 8)]
    assert run.batches == [[0], [1, 2, 3, 4, 5, 6, 7]]
    await batcher.close()


async def test_errors_per_request_and_per_batch(models: dict[str, ModelWrapper]) -> None:
    async def run(batch: list[Mapping[str, Any]]) -> Sequence[Any]:
        if any(kwargs["x"] < 0 for kwargs in batch):
            raise RuntimeError("negative")
        if len(batch) == 3:
            return [1]
        return [ValueError("odd") if kwargs["x"] % 2 else kwargs["x"] for kwargs in batch]

    batcher = Batcher(models["batch-both"], BatchPolicy(2, 0.01), run, capacity=1)
    outcomes = await asyncio.gather(
        batcher.submit({"x": 2}), batcher.submit({"x": 3}), return_exceptions=True
    )
    assert outcomes[0] == 2 and isinstance(outcomes[1], ValueError)
    outcomes = await asyncio.gather(
        batcher.submit({"x": -1}), batcher.submit({"x": 4}), return_exceptions=True
    )
    assert all(isinstance(o, RuntimeError) and str(o) == "negative" for o in outcomes)
    await batcher.close()
    batcher = Batcher(models["batch-both"], BatchPolicy(3, 0.01), run, capacity=1)
    outcomes = await asyncio.gather(
        *(batcher.submit({"x": i}) for i in range(3)), return_exceptions=True
    )
    for outcome in outcomes:
        assert isinstance(outcome, exceptions.PluginFailed)
        assert "returned 1 outputs for 3 requests" in outcome.message
    await batcher.close()


async def test_a_request_that_goes_away_leaves_its_batch(models: dict[str, ModelWrapper]) -> None:
    run = Recorder()
    batcher = Batcher(models["batch-both"], BatchPolicy(10, 0.05), run, capacity=1)
    gone = asyncio.ensure_future(batcher.submit({"x": 1}))
    kept = asyncio.ensure_future(batcher.submit({"x": 2}))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept == 4
    assert run.batches == [[2]]
    await batcher.close()


async def test_waiting_requests_are_bounded(models: dict[str, ModelWrapper]) -> None:
    gate = asyncio.Event()
    run = Recorder(gate)
    batcher = Batcher(models["batch-both"], BatchPolicy(2, 0.0), run, capacity=1, queue_max=3)
    running = [asyncio.ensure_future(batcher.submit({"x": i})) for i in range(2)]
    await asyncio.wait_for(run.started.wait(), GUARD)  # a batch of two runs
    waiting = [asyncio.ensure_future(batcher.submit({"x": i})) for i in range(2, 5)]
    await asyncio.sleep(0)
    with pytest.raises(exceptions.ModelBusy, match="3 predictions are waiting") as busy:
        await batcher.submit({"x": 9})
    assert busy.value.retry_after == 1
    gate.set()
    assert [await r for r in running + waiting] == [0, 2, 4, 6, 8]
    assert run.batches == [[0, 1], [2, 3], [4]]
    await batcher.close()
