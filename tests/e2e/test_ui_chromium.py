"""Swagger UI rendered by a real headless Chromium, from our own assets."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import PageErrors, needs_chromium
from tests.e2e.server import running


@needs_chromium
@pytest.mark.parametrize("base_path", ["", "/deepaas"])
def test_swagger_ui_renders_every_model(
    tmp_path: Path, base_path: str, page: Page, page_errors: PageErrors, shots: Path
) -> None:
    args = [
        "--model-name",
        "echo",
        "--model-name",
        "schema-output",
        "--state-dir",
        str(tmp_path / "state"),
        "--base-path",
        base_path,
    ]
    with running(args, tmp_path / "server.log", base_path=base_path) as server:
        page.goto(f"{server.url}{base_path}/ui")
        page.locator(".opblock").first.wait_for()
        page.screenshot(path=shots / "ui.png")
        dom = page.content()
    assert 'class="swagger-ui' in dom
    # Operations are rendered from /openapi.json (OpenAPI 3): the spec loaded and parsed.
    assert f"{base_path}/v2/models/echo/predict" in dom
    assert f"{base_path}/v2/models/schema-output/predict" in dom
    assert "opblock-tag" in dom and "Make a prediction" in dom
    assert "Failed to load API definition" not in dom
    assert page_errors == []
