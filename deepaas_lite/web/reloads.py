"""SIGHUP: what a running server reads again, and a log line saying what it did.

Each part that can be reloaded registers a callable under ``RELOADS`` (the tokens of
``--auth-token-file``); each logs what it read. SIGHUP is handled whether or not there
is anything to reload (systemd's ``ExecReload`` sends it): a server with nothing to
reload says so, and serves on. Other options are read at start only.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Callable

from aiohttp import web

LOG = logging.getLogger("deepaas_lite")

Reload = Callable[[], None]
RELOADS = web.AppKey("reloads", list[Reload])


def register(app: web.Application, reload: Reload) -> None:
    """Have SIGHUP call ``reload`` (which logs what it did)."""
    app.setdefault(RELOADS, []).append(reload)


def reload_all(app: web.Application) -> None:
    """What SIGHUP does: every registered reload, or a line saying there is none."""
    reloads = app.get(RELOADS, [])
    if not reloads:
        LOG.info(
            "SIGHUP: nothing to reload (tokens are read again only with "
            "--auth-token-file; other options take a restart)"
        )
        return
    LOG.info("SIGHUP: reloading")
    for reload in reloads:
        try:
            reload()
        except Exception:
            LOG.exception("SIGHUP: a reload failed; serving on with what was in force")


async def reload_on_sighup(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: SIGHUP calls ``reload_all`` while the app runs."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, reload_all, app)
    yield
    loop.remove_signal_handler(signal.SIGHUP)
