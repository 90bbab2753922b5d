"""A real headless Chromium, driven over the Chrome DevTools Protocol.

No driver to match to the browser's version: the protocol is spoken over a WebSocket
with aiohttp (already a dependency). The page is read and clicked with JavaScript (the
events reach Swagger UI's React handlers as a user's clicks do), text is typed with
``Input.insertText`` and files are chosen with ``DOM.setFileInputFiles``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A quiet headless Chromium: no GPU, no QUIC, nothing fetched in the background.
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_LISTENING = re.compile(rb"DevTools listening on (ws://\S+)")


@dataclass
class Page:
    """One browser tab."""

    ws: aiohttp.ClientWebSocketResponse
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _waiting: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data:
                future = self._waiting.pop(data["id"], None)
                if future is not None and not future.done():
                    if "error" in data:
                        future.set_exception(RuntimeError(str(data["error"])))
                    else:
                        future.set_result(data.get("result", {}))

    async def send(self, method: str, **params: Any) -> Any:
        message_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        await self.ws.send_str(json.dumps({"id": message_id, "method": method, "params": params}))
        return await asyncio.wait_for(future, 60)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 60.0) -> None:
        """Poll ``expression`` until it is truthy."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if await self.evaluate(f"!!({expression})"):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for: {expression}")
            await asyncio.sleep(0.1)

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)

    async def set_files(self, selector: str, paths: list[Path]) -> None:
        document = await self.send("DOM.getDocument", depth=-1, pierce=True)
        node = await self.send(
            "DOM.querySelector", nodeId=document["root"]["nodeId"], selector=selector
        )
        assert node["nodeId"], f"no element {selector}"
        await self.send(
            "DOM.setFileInputFiles", nodeId=node["nodeId"], files=[str(p) for p in paths]
        )

    async def screenshot(self, path: Path, selector: str | None = None) -> None:
        """A PNG of the page, or of one element (scrolled into view)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if selector is not None:
            box = await self.evaluate(
                f"""(() => {{
                    const e = document.querySelector({json.dumps(selector)});
                    const r = e.getBoundingClientRect();
                    return {{x: r.x + window.scrollX, y: r.y + window.scrollY,
                             width: r.width, height: r.height}};
                }})()"""
            )
            params["clip"] = {**box, "scale": 1}
        shot = await self.send("Page.captureScreenshot", **params)
        path.write_bytes(base64.b64decode(shot["data"]))


@contextlib.asynccontextmanager
async def chromium(profile: Path, width: int = 1280, height: int = 900) -> AsyncIterator[Page]:
    """A headless Chromium with one blank page, stopped (its whole group) on exit."""
    assert CHROMIUM, "Chromium is not installed"
    log = profile.with_name(profile.name + ".log")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                CHROMIUM,
                *HEADLESS,
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=out,
            start_new_session=True,
        )
    try:
        browser_url = await _listening(process, log)
        http = browser_url.split("/devtools/")[0].replace("ws://", "http://")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{http}/json/list") as resp:
                targets = await resp.json()
            target = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                page.start()
                for domain in ("Page", "Runtime", "DOM"):
                    await page.send(f"{domain}.enable")
                yield page
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def _listening(process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> str:
    """The browser's DevTools URL, from what it printed on stderr."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = _LISTENING.search(log.read_bytes())
        if found:
            return found.group(1).decode()
        if process.poll() is not None:
            raise AssertionError(f"Chromium exited: {log.read_text(errors='replace')[-2000:]}")
        await asyncio.sleep(0.05)
    raise AssertionError("Chromium's DevTools endpoint was not up in time")
