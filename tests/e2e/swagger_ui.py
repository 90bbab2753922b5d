"""Swagger UI as a user works it: open an operation, "Try it out", "Execute", read.

Operations are found by method and path (what the user sees), never by generated ids.
Everything is done with Playwright locators: clicks, ``fill``, ``select_option`` and
``set_input_files`` reach Swagger UI's React handlers as a user's input does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout


@dataclass
class Answer:
    """What Swagger UI rendered for one "Execute"."""

    status: int
    body: str  # the response body as shown
    media_type: str  # the response's content-type as shown
    curl: str  # the request, as Swagger UI shows it
    image: str  # the src of the image it rendered, for an image answer

    def json(self) -> Any:
        return json.loads(self.body)


class SwaggerUI:
    def __init__(self, page: Page, shots: Path) -> None:
        self.page = page
        self.shots = shots

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.locator(".opblock").first.wait_for()

    def block(self, method: str, path: str) -> Locator:
        """The operation block of ``method`` on ``path``."""
        summary = self.page.locator(f".opblock-summary-path[data-path={json.dumps(path)}]")
        return self.page.locator(f".opblock.opblock-{method}").filter(has=summary)

    def version(self) -> str:
        return str(self.page.evaluate("window.versions.swaggerUI.version"))

    def try_out(self, method: str, path: str) -> Locator:
        """Expand the operation and press "Try it out"."""
        block = self.block(method, path)
        if "is-open" not in (block.get_attribute("class") or ""):
            block.locator(".opblock-summary-control").click()
        block.locator(".try-out__btn").first.wait_for()
        if block.locator(".execute").count() == 0:
            block.locator(".try-out__btn").first.click()
        block.locator(".execute").wait_for()
        return block

    def choose(self, method: str, path: str, selector: str, value: str) -> None:
        """Pick ``value`` in the operation's select ``selector``."""
        self.block(method, path).locator(selector).select_option(value)

    def fill(self, method: str, path: str, name: str, value: str) -> None:
        """Type ``value`` into the parameter ``name``."""
        field = self.block(method, path).locator(f"tr[data-param-name={json.dumps(name)}] input")
        field.fill(value)
        expect(field).to_have_value(value)

    def body_type(self, method: str, path: str, media: str) -> None:
        """Choose the request body's media type, as a user must with Swagger UI 5.31.

        After the choice, a form shows its values but holds none (Execute refuses, typing
        does not register) until "Cancel" and "Try it out" again; a JSON body that
        follows an executed form shows the form's inner state until "Reset".
        """
        block = self.block(method, path)
        self.choose(method, path, ".body-param-content-type select", media)
        block.locator(".try-out__btn").first.click()
        block.locator(".execute").wait_for(state="detached")
        self.try_out(method, path)
        reset = block.locator(".try-out__btn.reset")
        if reset.count():
            # A JSON body after a form shows the form's state, not JSON: "Reset" it.
            reset.click()

    def form_values(self, method: str, path: str) -> dict[str, Any]:
        """What the request body's form shows, field by field (files left out)."""
        out: dict[str, Any] = {}
        rows = self.block(method, path).locator("tr[data-property-name]")
        for i in range(rows.count()):
            row = rows.nth(i)
            name = row.get_attribute("data-property-name")
            assert name is not None
            if row.locator("input[type=file]").count():
                continue
            items = row.locator(".json-schema-array")
            if items.count():
                inputs = items.locator("input")
                out[name] = [inputs.nth(j).input_value() for j in range(inputs.count())]
            elif row.locator("textarea").count():
                out[name] = json.loads(row.locator("textarea").input_value())
            elif row.locator("select").count():
                out[name] = row.locator("select").input_value()
            elif row.locator("input[type=text]").count():
                out[name] = row.locator("input[type=text]").input_value()
        return out

    def _row(self, method: str, path: str, name: str) -> Locator:
        return self.block(method, path).locator(f"tr[data-property-name={json.dumps(name)}]")

    def add_item(self, method: str, path: str, name: str) -> None:
        """Press "Add item" of the list field ``name``."""
        self._row(method, path, name).locator(".json-schema-form-item-add").click()

    def set_files(self, method: str, path: str, name: str, files: list[Path]) -> None:
        """Choose files for the form field ``name`` (one per file input it shows)."""
        inputs = self._row(method, path, name).locator("input[type=file]")
        assert inputs.count() == len(files), f"{name} shows {inputs.count()} file inputs"
        for i, file in enumerate(files):
            inputs.nth(i).set_input_files(file)

    def execute(self, method: str, path: str, shot: str, timeout: float = 60) -> Answer:
        """Press "Execute", wait for the rendered answer, screenshot the operation."""
        block = self.block(method, path)
        live = block.locator(".live-responses-table")
        clear = block.locator(".btn-clear")
        if clear.count():
            clear.click()
            live.wait_for(state="detached")  # event-driven, not expect's back-off polling
        block.locator(".execute").click()
        status = live.locator("tr.response .response-col_status")
        try:
            status.wait_for(timeout=timeout * 1000)
        except PlaywrightTimeout:
            target = self.screenshot(method, path, f"{shot}-no-answer")
            text = block.inner_text()
            raise AssertionError(f"no answer rendered (see {target}):\n{text[:3000]}") from None
        body = live.locator(".highlight-code pre")
        image = live.locator(".response-col_description img")
        curl = block.locator(".curl-command, .request-snippets")
        media_type = ""
        for line in live.locator(".headerline").all_inner_texts():
            key, _, value = line.strip().partition(":")
            if key.strip().lower() == "content-type":
                media_type = value.strip()
        answer = Answer(
            int(status.inner_text().strip()),
            body.first.inner_text() if body.count() else "",
            media_type,
            curl.first.inner_text() if curl.count() else "",
            (image.first.get_attribute("src") or "") if image.count() else "",
        )
        self.screenshot(method, path, shot)
        return answer

    def screenshot(self, method: str, path: str, name: str) -> Path:
        target = self.shots / f"{name.replace('/', '_')}.png"
        self.block(method, path).screenshot(path=target)
        return target
