"""Browser fixtures: Debian's Chromium driven by Playwright (no browser download).

``browser`` is one headless Chromium a test module; ``page`` is a fresh tab
(its own context: cookies, storage) at 1280x800 that records the page's console
errors and uncaught exceptions in ``page_errors``; ``shots`` is where a test saves
its screenshots (``$DEEPAAS_UI_SHOTS`` or the test's temporary directory; printed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A quiet headless Chromium: no GPU, no QUIC, nothing fetched in the background.
ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
# Two busy cores: what a page shows may take a while to come.
expect.set_options(timeout=30_000)

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium is not installed (.ci/run installs it)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium a module: while Playwright's sync API is on, the thread counts as
    running its event loop, so it is stopped before the next module's async tests."""
    assert CHROMIUM, "CI must have Chromium: .ci/run installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class PageErrors(list[str]):
    """What the page logged as an error, or threw without catching."""

    def watch(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.append(f"uncaught: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.append(f"console: {message.text} ({message.location.get('url')})")


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Browser, page_errors: PageErrors) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(60_000)
    tab = context.new_page()
    page_errors.watch(tab)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    root = Path(os.environ.get("DEEPAAS_UI_SHOTS") or tmp_path / "screenshots")
    directory = root / request.node.name.replace("/", "_")
    directory.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {directory}")
    return directory
