"""Training routes through real HTTP, in-process, with real training processes."""

from __future__ import annotations

import asyncio
import errno
import io
import os
from typing import Any

import aiohttp

Client = Any


async def wait_ended(client: Client, location: str, timeout: float = 30) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        record: dict[str, Any] = await (await client.get(location)).json()
        if record["status"] not in {"pending", "running"}:
            return record
        assert loop.time() < deadline, record
        await asyncio.sleep(0.1)


async def test_train_record_location_list_and_log(client: Client) -> None:
    resp = await client.post("/v2/models/train-sleeper/train/", json={"tag": "first"})
    assert resp.status == 200
    record = await resp.json()
    assert set(record) >= {"uuid", "date", "status", "args"}
    assert record["args"] == {"sleep": 0.0, "tag": "first", "pidfile": None}
    location = resp.headers["Location"]
    assert location == f"/v2/models/train-sleeper/train/{record['uuid']}"

    done = await wait_ended(client, location)
    assert done["status"] == "done", done
    assert set(done["result"]) == {"output", "finish_date", "duration"}
    assert (await client.get(location + "/")).status == 200

    listed = await (await client.get("/v2/models/train-sleeper/train")).json()
    assert [r["uuid"] for r in listed] == [record["uuid"]]

    log = await client.get(location + "/log")
    assert log.status == 200 and log.content_type == "text/plain"


async def test_train_file_argument(client: Client) -> None:
    form = aiohttp.FormData()
    form.add_field("data", io.BytesIO(b"rows,1,2"), filename="rows.csv", content_type="text/csv")
    form.add_field("epochs", "2")
    resp = await client.post("/v2/models/train-files/train/", data=form)
    assert resp.status == 200
    record = await resp.json()
    assert record["args"]["data"] == {"original_filename": "rows.csv", "content_type": "text/csv"}
    done = await wait_ended(client, resp.headers["Location"])
    assert done["status"] == "done", done
    (got,) = done["result"]["output"]["files"]
    assert got["content"] == "rows,1,2" and got["original_filename"] == "rows.csv"
    assert not os.path.exists(got["path"])  # removed once the training ended


async def test_cancel_then_remove(client: Client) -> None:
    resp = await client.post("/v2/models/train-sleeper/train/?sleep=30")
    location = resp.headers["Location"]
    cancelled = await client.delete(location)
    assert cancelled.status == 200
    assert (await cancelled.json())["status"] == "cancelled"
    assert (await (await client.get(location)).json())["status"] == "cancelled"
    again = await client.delete(location)  # ended: removed, as DEEPaaS does
    assert again.status == 200
    assert (await again.json())["status"] == "cancelled"
    assert (await client.get(location)).status == 404
    assert (await client.delete(location)).status == 404


async def test_training_errors(client: Client) -> None:
    resp = await client.post("/v2/models/train-raiser/train/", json={"tag": "!"})
    record = await wait_ended(client, resp.headers["Location"])
    assert record["status"] == "error"
    assert record["message"] == "learning rate too high !"

    missing = await client.get("/v2/models/train-sleeper/train/0123456789abcdef")
    assert missing.status == 404
    assert "0123456789abcdef" in (await missing.json())["message"]
    assert (await client.delete("/v2/models/train-sleeper/train/nope")).status == 404
    assert (await client.get("/v2/models/train-sleeper/train/nope/log")).status == 404
    assert (await client.post("/v2/models/nope/train/")).status == 404
    assert (await client.post("/v2/models/object-plugin/train/")).status == 501
    invalid = await client.post("/v2/models/train-sleeper/train/", json={"sleep": "long"})
    assert invalid.status == 422
    assert set((await invalid.json())["errors"]) == {"sleep"}


async def test_a_full_queue_answers_429_with_retry_after(make_client: Any, tmp_path: Any) -> None:
    client = await make_client(train_queue_max=1)
    running = await client.post("/v2/models/train-sleeper/train/", json={"sleep": 30})
    pending = await client.post("/v2/models/train-sleeper/train/", json={"sleep": 30})
    assert (await pending.json())["status"] == "pending"

    refused = await client.post("/v2/models/train-sleeper/train/", json={"tag": "third"})

    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) > 0
    body = await refused.json()
    assert body["code"] == 429 and "queue is full" in body["message"]
    listed = await (await client.get("/v2/models/train-sleeper/train/")).json()
    assert len(listed) == 2
    for resp in (running, pending):
        assert (await client.delete(resp.headers["Location"])).status == 200


async def test_a_full_disk_answers_507_and_leaves_nothing(
    client: Client, tmp_path: Any, monkeypatch: Any
) -> None:
    def full(source: str, target: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("deepaas_lite.training.inputs.shutil.copyfile", full)
    form = aiohttp.FormData()
    form.add_field("data", io.BytesIO(b"rows"), filename="x" * 300, content_type="text/csv")

    resp = await client.post("/v2/models/train-files/train/", data=form)

    assert resp.status == 507
    body = await resp.json()
    assert body["code"] == 507
    assert body["message"] == "The training could not be stored: No space left on device"
    assert await (await client.get("/v2/models/train-files/train/")).json() == []
    state = tmp_path / "state"
    assert [p for p in state.rglob("*") if p.is_file() and "sqlite3" not in p.name] == []
