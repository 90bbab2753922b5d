"""Swagger UI's Authorize button with --auth-token-file, in a real headless Chromium.

The user opens the UI, tries a predict (401), types the token into the Authorize
dialog, and tries again (200): the OpenAPI document's bearer scheme is what makes the
UI ask for the token and send it.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import needs_chromium
from tests.e2e.server import running
from tests.e2e.swagger_ui import SwaggerUI

pytestmark = needs_chromium

PREDICT = "/v2/models/bare-predict/predict"
TOKEN = "ui-token-0123"


def _authorize(ui: SwaggerUI, token: str) -> None:
    """Click Authorize, type the token, press the dialog's Authorize, close it."""
    page = ui.page
    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("input").fill(token)
    dialog.locator("button").filter(has_text=re.compile(r"^\s*Authorize\s*$")).click()
    expect(dialog.locator("button").filter(has_text="Logout")).to_be_visible()
    dialog.locator("button").filter(has_text=re.compile(r"^\s*Close\s*$")).click()
    expect(dialog).to_have_count(0)


def test_authorize_then_predict(tmp_path: Path, page: Page, shots: Path) -> None:
    (tmp_path / "tokens").write_text(f"# the UI test\n{TOKEN}\n")
    args = [
        "--model-name",
        "bare-predict",
        "--state-dir",
        str(tmp_path / "state"),
        "--auth-token-file",
        str(tmp_path / "tokens"),
    ]
    with running(args, tmp_path / "server.log") as server:
        ui = SwaggerUI(page, shots)
        ui.open(f"{server.url}/ui")
        # The document declares the scheme, so the page has an Authorize button.
        page.locator(".auth-wrapper .authorize").wait_for()
        ui.try_out("post", PREDICT)
        refused = ui.execute("post", PREDICT, "without-token")
        assert refused.status == 401
        assert refused.json()["code"] == 401
        _authorize(ui, TOKEN)
        answer = ui.execute("post", PREDICT, "with-token")
        assert answer.status == 200, answer.body
        assert answer.json() == {"status": "OK", "predictions": {"kwargs": {}}}
        assert f"Bearer {TOKEN}" in answer.curl
    # The server saw the refused call and the authorized one.
    access = [line for line in server.output().splitlines() if f"POST {PREDICT} " in line]
    assert [line.split(f"POST {PREDICT} ")[1].split()[0] for line in access] == ["401", "200"]
