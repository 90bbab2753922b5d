"""Webhooks: a prediction job's record, POSTed and signed, to the URL its submitter named.

Only hosts the operator listed (``--webhook-allowed-host``) are ever called: any other
URL is refused when the job is submitted, so the server cannot be made to reach hosts
behind it. The body is signed the Standard Webhooks way (headers ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">``), so a receiver checks it with any Standard Webhooks library.
A delivery runs in a task of its own, retried with backoff: it never delays a
prediction, and a receiver that is down loses nothing but its own copy.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
from standardwebhooks.webhooks import Webhook
from yarl import URL

from deepaas_lite import exceptions
from deepaas_lite.model.output import dumps

LOG = logging.getLogger(__name__)

SCHEMES = frozenset({"http", "https"})


def read_secret(path: str) -> Webhook:
    """The signer for the secret in ``path``: ``whsec_<base64>`` as Standard Webhooks
    writes it, or any other text, used as it is (surrounding white space removed)."""
    with open(path, "rb") as file:
        raw = file.read().strip()
    if not raw:
        raise ValueError(f"{path} is empty")
    if raw.startswith(b"whsec_"):
        return Webhook(raw.decode("ascii"))
    return Webhook(raw)


class Webhooks:
    """Delivers job records to allowed hosts; ``check`` a URL when the job is
    submitted, ``deliver`` when it has ended, ``close`` at shutdown."""

    def __init__(
        self,
        allowed_hosts: Collection[str],
        signer: Webhook | None,
        *,
        attempts: int = 5,
        first_delay: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self._allowed = frozenset(host.lower() for host in allowed_hosts)
        self._signer = signer
        self._attempts = attempts
        self._first_delay = first_delay
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return bool(self._allowed)

    def check(self, url: str, field: str = "callback") -> str:
        """``url`` when it may be called; else ``InvalidArguments`` naming ``field``."""
        reason = self._refusal(url)
        if reason is not None:
            raise exceptions.InvalidArguments({field: [reason]})
        return url

    def _refusal(self, url: str) -> str | None:
        if not self._allowed:
            return "Webhooks are off on this server (no --webhook-allowed-host)."
        try:
            parsed = URL(url)
        except (TypeError, ValueError):
            return "Not a valid URL."
        if parsed.scheme not in SCHEMES or not parsed.host:
            return "Not an absolute http or https URL."
        if parsed.user is not None or parsed.password is not None:
            return "A webhook URL may not carry credentials."
        host = parsed.host.lower()
        with_port = f"{host}:{parsed.port}"
        if host not in self._allowed and with_port not in self._allowed:
            return f"Host {parsed.host!r} is not an allowed webhook host."
        return None

    def deliver(self, url: str, record: Mapping[str, Any]) -> None:
        """POST ``record`` to ``url`` in the background, retried; returns at once."""
        task = asyncio.get_running_loop().create_task(self._deliver(url, record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every delivery under way has ended (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver(self, url: str, record: Mapping[str, Any]) -> None:
        body = dumps(record)
        message_id = str(record.get("uuid", ""))
        delay = self._first_delay
        for attempt in range(1, self._attempts + 1):
            why = await self._post(url, message_id, body)
            if why is None:
                LOG.info("Webhook for job %s delivered to %s", message_id, url)
                return
            if attempt == self._attempts:
                LOG.warning(
                    "Webhook for job %s to %s failed %d times, given up: %s",
                    message_id,
                    url,
                    attempt,
                    why,
                )
                return
            LOG.info(
                "Webhook for job %s to %s failed (%s); retried in %g s", message_id, url, why, delay
            )
            await asyncio.sleep(delay)
            delay *= 2

    async def _post(self, url: str, message_id: str, body: str) -> str | None:
        """``None`` once the receiver took it (2xx), else why not."""
        now = datetime.now(tz=UTC)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
        }
        if self._signer is not None:
            headers["webhook-signature"] = self._signer.sign(message_id, now, body)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                url, data=body.encode(), headers=headers, allow_redirects=False
            ) as response:
                if 200 <= response.status < 300:
                    return None
                return f"status {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"{type(error).__name__}: {error}"


class WebhookSetupError(Exception):
    """The webhook options keep the server from starting; its message is one line."""


def from_settings(
    allowed_hosts: Collection[str], secret_file: str | os.PathLike[str] | None
) -> Webhooks | None:
    """The webhooks the options ask for: ``None`` when no host is allowed."""
    if not allowed_hosts:
        return None
    if not secret_file:
        raise WebhookSetupError(
            "--webhook-allowed-host needs --webhook-secret-file (webhooks are signed)"
        )
    try:
        signer = read_secret(os.fspath(secret_file))
    except (OSError, ValueError) as exc:
        raise WebhookSetupError(f"--webhook-secret-file {secret_file}: {exc}") from exc
    return Webhooks(allowed_hosts, signer)
