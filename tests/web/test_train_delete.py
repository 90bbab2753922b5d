"""DELETE of a training, as a DEEPaaS client means it: cancel a live one, remove an ended one."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import ClientFactory
from tests.web.test_train import wait_ended

Client = Any


async def test_delete_of_a_finished_training_removes_it_with_its_log(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    client = await make_client(state_dir=state)
    resp = await client.post("/v2/models/train-sleeper/train/", json={"tag": "old"})
    location = resp.headers["Location"]
    done = await wait_ended(client, location)
    assert done["status"] == "done"
    log = state / "logs" / f"{done['uuid']}.log"
    assert log.exists()

    deleted = await client.delete(location)
    assert deleted.status == 200
    assert await deleted.json() == done
    assert (await client.get(location)).status == 404
    assert (await client.get(location + "/log")).status == 404
    listed = await (await client.get("/v2/models/train-sleeper/train/")).json()
    assert done["uuid"] not in [r["uuid"] for r in listed]
    assert not log.exists()
    again = await client.delete(location)
    assert again.status == 404


async def test_delete_of_a_failed_training_with_inputs(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    client = await make_client(state_dir=state)
    form = aiohttp.FormData()
    form.add_field("data", io.BytesIO(b"rows"), filename="rows.csv", content_type="text/csv")
    resp = await client.post("/v2/models/train-files/train/", data=form)
    record = await wait_ended(client, resp.headers["Location"])
    assert (await client.delete(resp.headers["Location"])).status == 200
    assert not (state / "inputs" / record["uuid"]).exists()
    assert not (state / "logs" / f"{record['uuid']}.log").exists()


async def test_delete_of_a_pending_training_cancels_and_keeps_it(
    make_client: ClientFactory,
) -> None:
    client = await make_client(train_workers=1)
    first = await client.post("/v2/models/train-sleeper/train/?sleep=30")
    second = await client.post("/v2/models/train-sleeper/train/?sleep=30")
    assert (await second.json())["status"] == "pending"
    cancelled = await client.delete(second.headers["Location"])
    assert (cancelled.status, (await cancelled.json())["status"]) == (200, "cancelled")
    kept = await client.get(second.headers["Location"])
    assert (await kept.json())["status"] == "cancelled"
    assert (await client.delete(first.headers["Location"])).status == 200
