"""Webhooks: only allowed hosts, signed so a Standard Webhooks receiver accepts them,
retried until the receiver takes them, never blocking the caller."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from deepaas_lite import exceptions
from deepaas_lite.web.webhooks import Webhooks, read_secret

SECRET = "whsec_" + base64.b64encode(b"a secret of thirty-two bytes....").decode()
RECORD = {"uuid": "0f1e2d3c", "status": "done", "result": {"output": {"labels": [0]}}}


class Receiver:
    """A loopback HTTP server that answers ``statuses`` in turn (then 200) and keeps
    what it was sent."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = asyncio.Event()
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.server = TestServer(app, host="127.0.0.1")

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), dict(request.headers)))
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.arrived.set()
        return web.Response(status=status)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/hook"))


@pytest.fixture
async def receiver() -> Any:
    hook = Receiver()
    await hook.server.start_server()
    yield hook
    await hook.server.close()


def test_only_allowed_hosts_are_accepted() -> None:
    hooks = Webhooks(["127.0.0.1", "hooks.example.org:8443"], None)
    assert hooks.check("http://127.0.0.1:9/hook") == "http://127.0.0.1:9/hook"
    assert hooks.check("https://HOOKS.example.org:8443/x")
    refused = [
        "http://169.254.169.254/latest/meta-data",  # not listed
        "https://hooks.example.org/x",  # listed only with port 8443
        "http://user:pw@127.0.0.1/hook",  # credentials
        "ftp://127.0.0.1/hook",  # scheme
        "/relative/path",
        "http://127.0.0.1.evil.example/hook",
        "not a url at all",
    ]
    for url in refused:
        with pytest.raises(exceptions.InvalidArguments) as caught:
            hooks.check(url)
        assert list(caught.value.errors) == ["callback"], url


def test_no_allowed_host_means_webhooks_are_off() -> None:
    hooks = Webhooks([], None)
    assert not hooks.enabled
    with pytest.raises(exceptions.InvalidArguments, match="callback"):
        hooks.check("http://127.0.0.1/hook")


async def test_delivered_body_verifies_with_a_standard_webhooks_receiver(
    receiver: Receiver, tmp_path: Path
) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    hooks = Webhooks(["127.0.0.1"], read_secret(str(secret_file)))
    try:
        hooks.deliver(hooks.check(receiver.url), RECORD)
        await asyncio.wait_for(receiver.arrived.wait(), 10)
    finally:
        await hooks.close()
    [(body, headers)] = receiver.received
    assert Webhook(SECRET).verify(body, headers) == RECORD
    assert headers["webhook-id"] == RECORD["uuid"]
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body.replace(b"done", b"fake"), headers)
    other = "whsec_" + base64.b64encode(b"another secret").decode()
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)


async def test_a_failing_receiver_is_retried_with_the_same_signed_message(
    receiver: Receiver,
) -> None:
    receiver.statuses = [500, 503]
    hooks = Webhooks(["127.0.0.1"], Webhook(SECRET), first_delay=0.01)
    try:
        hooks.deliver(receiver.url, RECORD)
        await asyncio.wait_for(receiver.arrived.wait(), 10)
    finally:
        await hooks.close()
    assert len(receiver.received) == 3
    assert {headers["webhook-id"] for _, headers in receiver.received} == {RECORD["uuid"]}
    assert all(json.loads(body) == RECORD for body, _ in receiver.received)


async def test_delivery_gives_up_after_its_attempts_and_logs_it(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.statuses = [500] * 10
    hooks = Webhooks(["127.0.0.1"], None, attempts=3, first_delay=0.01)
    try:
        hooks.deliver(receiver.url, RECORD)
        await asyncio.wait_for(hooks.drain(), 10)
    finally:
        await hooks.close()
    assert len(receiver.received) == 3
    assert "failed 3 times, given up: status 500" in caplog.text


async def test_deliver_returns_before_the_receiver_answers() -> None:
    """A receiver that holds the request does not hold the caller: ``deliver`` only
    schedules; ``close`` ends what is still under way."""
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", slow)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    hooks = Webhooks(["127.0.0.1"], None)
    try:
        hooks.deliver(str(server.make_url("/hook")), RECORD)
        assert not entered.is_set()  # nothing ran yet: the caller got control back first
        await asyncio.wait_for(entered.wait(), 10)
    finally:
        await hooks.close()
        release.set()
        await server.close()
