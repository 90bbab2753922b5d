"""Swagger UI's Authorize button with --auth-token-file, in a real headless Chromium.

The user opens the UI, tries a predict (401), types the token into the Authorize
dialog, and tries again (200): the OpenAPI document's bearer scheme is what makes the
UI ask for the token and send it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM, chromium
from tests.e2e.server import running
from tests.e2e.swagger_ui import SwaggerUI

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium is not installed (.ci/run installs it)",
)

PREDICT = "/v2/models/bare-predict/predict"
TOKEN = "ui-token-0123"


async def _authorize(ui: SwaggerUI, token: str) -> None:
    """Click Authorize, type the token, press the dialog's Authorize, close it."""
    page = ui.page
    await page.evaluate("document.querySelector('.auth-wrapper .authorize').click()")
    await page.wait_for("document.querySelector('.modal-ux input')")
    await page.evaluate(
        f"""(() => {{
            const input = document.querySelector('.modal-ux input');
            const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
            input.focus();
            set.call(input, {json.dumps(token)});
            input.dispatchEvent(new Event('input', {{bubbles: true}}));
            input.dispatchEvent(new Event('change', {{bubbles: true}}));
        }})()"""
    )
    await page.evaluate(
        "[...document.querySelectorAll('.modal-ux button')]"
        ".find(b => b.innerText.trim() === 'Authorize').click()"
    )
    await page.wait_for(
        "[...document.querySelectorAll('.modal-ux button')]"
        ".some(b => b.innerText.trim() === 'Logout')"
    )
    await page.evaluate(
        "[...document.querySelectorAll('.modal-ux button')]"
        ".find(b => b.innerText.trim() === 'Close').click()"
    )
    await page.wait_for("!document.querySelector('.modal-ux')")


async def test_authorize_then_predict(tmp_path: Path) -> None:
    assert CHROMIUM, "CI must have Chromium: .ci/run installs it"
    (tmp_path / "tokens").write_text(f"# the UI test\n{TOKEN}\n")
    args = [
        "--model-name",
        "bare-predict",
        "--state-dir",
        str(tmp_path / "state"),
        "--auth-token-file",
        str(tmp_path / "tokens"),
    ]
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with running(args, tmp_path / "server.log") as server:
        async with chromium(tmp_path / "profile") as page:
            ui = SwaggerUI(page, shots)
            await ui.open(f"{server.url}/ui")
            # The document declares the scheme, so the page has an Authorize button.
            await page.wait_for("document.querySelector('.auth-wrapper .authorize')")
            await ui.try_out("post", PREDICT)
            refused = await ui.execute("post", PREDICT, "without-token")
            assert refused.status == 401
            assert refused.json()["code"] == 401
            await _authorize(ui, TOKEN)
            answer = await ui.execute("post", PREDICT, "with-token")
            assert answer.status == 200, answer.body
            assert answer.json() == {"status": "OK", "predictions": {"kwargs": {}}}
            assert f"Bearer {TOKEN}" in answer.curl
    # The server saw the refused call and the authorized one.
    access = [line for line in server.output().splitlines() if f"POST {PREDICT} " in line]
    assert [line.split(f"POST {PREDICT} ")[1].split()[0] for line in access] == ["401", "200"]
