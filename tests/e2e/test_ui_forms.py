"""Swagger UI's forms in Chromium, as a person uses them: what the form shows is sent.

- Switching a request body's type (multipart, urlencoded, JSON) keeps a form that can
  be executed: Swagger UI 5 clears the body's values but keeps the fields on the page,
  which then show values the request does not hold (Execute refused, silently).
- An optional list of files, untouched, sends no files.
- A list of files is labelled as files ("array<file>", "Add file item").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import needs_chromium
from tests.e2e.server import Server, running
from tests.e2e.swagger_ui import SwaggerUI

pytestmark = needs_chromium

IRIS = "/v2/models/iris-deepaas"
DOCS = "/v2/models/docs"
PLUGIN = Path(__file__).with_name("ui_forms_plugin.py")


@pytest.fixture
def console(page: Page) -> list[str]:
    """Everything the page logged (Swagger UI warns through console.warn)."""
    messages: list[str] = []

    def record(message: ConsoleMessage) -> None:
        messages.append(f"{message.type}: {message.text}")

    page.on("console", record)
    return messages


@pytest.fixture
def ui(tmp_path: Path, page: Page, shots: Path) -> Iterator[tuple[Server, SwaggerUI]]:
    args = [
        "--model-name",
        "iris-deepaas",
        "--plugin",
        f"docs={PLUGIN}:Documents",
        "--model-name",
        "docs",
        "--state-dir",
        str(tmp_path / "state"),
    ]
    env = {"DEEPAAS_IRIS_MODEL_DIR": str(tmp_path / "iris")}
    with running(args, tmp_path / "server.log", env=env) as server:
        swagger = SwaggerUI(page, shots)
        swagger.open(server.url + "/ui")
        yield server, swagger


def test_switching_the_body_type_keeps_what_the_form_shows(
    ui: tuple[Server, SwaggerUI],
) -> None:
    """Pick each body type in turn, as a person does, and Execute at once: the request
    holds the values the form shows (iris answers 503 before any training, after it
    has read the arguments: a 422 would say the form sent nothing)."""
    _, swagger = ui
    predict = f"{IRIS}/predict"
    block = swagger.try_out("post", predict)
    for media in (
        "application/x-www-form-urlencoded",
        "application/json",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    ):
        swagger.choose("post", predict, ".body-param-content-type select", media)
        expect(block.locator(".execute")).to_have_count(1)
        answer = swagger.execute("post", predict, f"switched-{media.split('/')[1]}", timeout=20)
        assert answer.status == 503, answer
        assert answer.json()["message"].startswith("No trained model yet")
        assert f"Content-Type: {media}" in answer.curl
        assert "5.1" in answer.curl and "0.2" in answer.curl, answer.curl


def test_an_untouched_optional_list_of_files_sends_none(ui: tuple[Server, SwaggerUI]) -> None:
    _, swagger = ui
    swagger.try_out("post", f"{DOCS}/predict")
    answer = swagger.execute("post", f"{DOCS}/predict", "docs-untouched", timeout=20)
    assert answer.status == 200, answer
    assert answer.json()["predictions"] == {"title": "untitled", "sizes": None}


def test_a_list_of_files_is_labelled_as_files(
    ui: tuple[Server, SwaggerUI], console: list[str], tmp_path: Path
) -> None:
    _, swagger = ui
    predict = f"{DOCS}/predict"
    block = swagger.try_out("post", predict)
    row = block.locator("tr[data-property-name='docs']")
    expect(row.locator(".parameter__type")).to_contain_text("array<file>")
    add = row.locator(".json-schema-form-item-add")
    expect(add).to_have_text("Add file item")
    add.click()
    add.click()
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("1")
    two.write_text("22")
    swagger.set_files("post", predict, "docs", [one, two])
    answer = swagger.execute("post", predict, "docs-two-files", timeout=20)
    assert answer.status == 200, answer
    assert answer.json()["predictions"] == {"title": "untitled", "sizes": [1, 2]}
    assert not [m for m in console if "Could not find component" in m], console
