"""Swagger UI rendered by a real headless Chromium, from our own assets."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM, HEADLESS
from tests.e2e.server import running


def render(url: str, profile: Path) -> str:
    assert CHROMIUM
    proc = subprocess.run(
        [
            CHROMIUM,
            *HEADLESS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium is not installed (.ci/run installs it)",
)
@pytest.mark.parametrize("base_path", ["", "/deepaas"])
def test_swagger_ui_renders_every_model(tmp_path: Path, base_path: str) -> None:
    assert CHROMIUM, "CI must have Chromium: .ci/run installs it"
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
        dom = render(f"{server.url}{base_path}/ui", tmp_path / "profile")
    assert 'class="swagger-ui' in dom
    # Operations are rendered from /openapi.json (OpenAPI 3): the spec loaded and parsed.
    assert f"{base_path}/v2/models/echo/predict" in dom
    assert f"{base_path}/v2/models/schema-output/predict" in dom
    assert "opblock-tag" in dom and "Make a prediction" in dom
    assert "Failed to load API definition" not in dom
