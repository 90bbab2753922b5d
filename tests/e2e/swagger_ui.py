"""Swagger UI as a user works it: open an operation, "Try it out", "Execute", read.

Operations are found by method and path (what the user sees), never by generated ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.browser import Page

# The page-side helpers: the operation block of a method and path.
_HELPERS = """
window.__op = (method, path) => [...document.querySelectorAll('.opblock')].find(block =>
    block.classList.contains('opblock-' + method) &&
    [...block.querySelectorAll('.opblock-summary-path')].some(p =>
        (p.getAttribute('data-path') || p.innerText).replace(/\\u200b/g, '').trim() === path));
window.__mark = (method, path, name) => {
    const block = window.__op(method, path);
    if (block) block.setAttribute('data-test', name);
    return !!block;
};
window.__select = (select, value) => {
    const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set;
    set.call(select, value);
    select.dispatchEvent(new Event('change', {bubbles: true}));
};
window.__form = block => {
    const out = {};
    for (const row of block.querySelectorAll('tr[data-property-name]')) {
        const name = row.getAttribute('data-property-name');
        const items = row.querySelector('.json-schema-array');
        const textarea = row.querySelector('textarea');
        const select = row.querySelector('select');
        const input = row.querySelector('input[type=text]');
        if (row.querySelector('input[type=file]')) continue;
        if (items) out[name] = [...items.querySelectorAll('input')].map(i => i.value);
        else if (textarea) out[name] = JSON.parse(textarea.value);
        else if (select) out[name] = select.value;
        else if (input) out[name] = input.value;
    }
    return out;
};
window.__markFiles = (row, mark) => {
    const inputs = [...row.querySelectorAll('input[type=file]')];
    inputs.forEach((input, i) => input.setAttribute('data-file', mark + '-' + i));
    return inputs.length;
};
true
"""


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
        self._marks = 0

    async def open(self, url: str) -> None:
        await self.page.goto(url)
        await self.page.wait_for("document.querySelectorAll('.opblock').length > 0")
        await self.page.evaluate(_HELPERS)

    def _block(self, method: str, path: str) -> str:
        return f"window.__op({json.dumps(method)}, {json.dumps(path)})"

    async def version(self) -> str:
        return str(await self.page.evaluate("window.versions.swaggerUI.version"))

    async def try_out(self, method: str, path: str) -> str:
        """Expand the operation and press "Try it out"; its JS expression."""
        block = self._block(method, path)
        await self.page.wait_for(f"!!{block}")
        if not await self.page.evaluate(f"{block}.classList.contains('is-open')"):
            await self.page.evaluate(f"{block}.querySelector('.opblock-summary-control').click()")
        await self.page.wait_for(f"{block}.querySelector('.try-out__btn')")
        if not await self.page.evaluate(f"!!{block}.querySelector('.execute')"):
            await self.page.evaluate(f"{block}.querySelector('.try-out__btn').click()")
        await self.page.wait_for(f"{block}.querySelector('.execute')")
        return block

    async def choose(self, method: str, path: str, selector: str, value: str) -> None:
        """Pick ``value`` in the operation's select ``selector`` (as a user's click does)."""
        block = self._block(method, path)
        await self.page.evaluate(
            f"window.__select({block}.querySelector({json.dumps(selector)}), {json.dumps(value)})"
        )

    async def fill(self, method: str, path: str, name: str, value: str) -> None:
        """Type ``value`` into the parameter ``name``; wait until the UI holds it."""
        block = self._block(method, path)
        await self.page.evaluate(
            f"{block}.querySelector('tr[data-param-name={json.dumps(name)}] input').focus()"
        )
        await self.page.send("Input.insertText", text=value)
        await self.page.wait_for(
            f"(window.ui.specSelectors.parameterValues([{json.dumps(path)}, {json.dumps(method)}])"
            f".toJS() || {{}})[{json.dumps('path.' + name)}] === {json.dumps(value)}"
        )

    async def body_type(self, method: str, path: str, media: str) -> None:
        """Choose the request body's media type, as a user must with Swagger UI 5.31.

        After the choice, a form shows its values but holds none (Execute refuses, typing
        does not register) until "Cancel" and "Try it out" again; a JSON body that
        follows an executed form shows the form's inner state until "Reset".
        """
        block = self._block(method, path)
        await self.choose(method, path, ".body-param-content-type select", media)
        await self.page.evaluate(f"{block}.querySelector('.try-out__btn').click()")
        await self.page.wait_for(f"!{block}.querySelector('.execute')")
        await self.try_out(method, path)
        if await self.page.evaluate(f"!!{block}.querySelector('.try-out__btn.reset')"):
            # A JSON body after a form shows the form's state, not JSON: "Reset" it.
            await self.page.evaluate(f"{block}.querySelector('.try-out__btn.reset').click()")

    async def form_values(self, method: str, path: str) -> dict[str, Any]:
        """What the request body's form shows, field by field (files left out)."""
        values: dict[str, Any] = await self.page.evaluate(
            f"window.__form({self._block(method, path)})"
        )
        return values

    async def add_item(self, method: str, path: str, name: str) -> None:
        """Press "Add item" of the list field ``name``."""
        await self.page.evaluate(
            f"{self._block(method, path)}.querySelector("
            f"'tr[data-property-name={json.dumps(name)}] .json-schema-form-item-add').click()"
        )

    async def set_files(self, method: str, path: str, name: str, files: list[Path]) -> None:
        """Choose files for the form field ``name`` (one per file input it shows)."""
        self._marks += 1
        mark = f"{name}-{self._marks}"
        block = self._block(method, path)
        row = f"{block}.querySelector('tr[data-property-name={json.dumps(name)}]')"
        count = await self.page.evaluate(f"window.__markFiles({row}, {json.dumps(mark)})")
        assert count == len(files), f"{name} shows {count} file inputs"
        for i, file in enumerate(files):
            await self.page.set_files(f'[data-file="{mark}-{i}"]', [file])

    async def execute(self, method: str, path: str, shot: str, timeout: float = 60) -> Answer:
        """Press "Execute", wait for the rendered answer, screenshot the operation."""
        block = self._block(method, path)
        if await self.page.evaluate(f"!!{block}.querySelector('.btn-clear')"):
            await self.page.evaluate(f"{block}.querySelector('.btn-clear').click()")
            await self.page.wait_for(f"!{block}.querySelector('.live-responses-table')")
        await self.page.evaluate(f"{block}.querySelector('.execute').click()")
        try:
            await self.page.wait_for(
                f"{block}.querySelector('.live-responses-table tr.response .response-col_status')",
                timeout,
            )
        except AssertionError:
            shot = await self.screenshot(method, path, f"{shot}-no-answer")
            text = await self.page.evaluate(f"{block}.innerText")
            raise AssertionError(f"no answer rendered (see {shot}):\n{text[:3000]}") from None
        rendered = await self.page.evaluate(
            f"""(() => {{
                const block = {block};
                const live = block.querySelector('.live-responses-table');
                const code = live.querySelector('tr.response .response-col_status');
                const body = live.querySelector('.highlight-code pre');
                const image = live.querySelector('.response-col_description img');
                const headers = [...live.querySelectorAll('.headerline')];
                const curl = block.querySelector('.curl-command, .request-snippets');
                return {{
                    status: code.innerText.trim(), body: body ? body.innerText : '',
                    headers: headers.map(e => e.innerText.trim()),
                    image: image ? image.src : '', curl: curl ? curl.innerText : ''
                }};
            }})()"""
        )
        await self.screenshot(method, path, shot)
        media_type = ""
        for line in rendered["headers"]:
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-type":
                media_type = value.strip()
        return Answer(
            int(rendered["status"]),
            rendered["body"],
            media_type,
            rendered["curl"],
            rendered["image"],
        )

    async def screenshot(self, method: str, path: str, name: str) -> Path:
        mark = name.replace("/", "_")
        await self.page.evaluate(
            f"window.__mark({json.dumps(method)}, {json.dumps(path)}, {json.dumps(mark)})"
        )
        target = self.shots / f"{mark}.png"
        await self.page.screenshot(target, f'[data-test="{mark}"]')
        return target
