"""What the web app tests share: the app's requests, checked against the API's routes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Page, Request

from tests.e2e.conftest import PageErrors

APP_FILES = ("/app", "/app/static/app.js", "/app/static/app.css")
"""The app itself: its page and its two assets (not API routes)."""
DOCUMENT = "/openapi.json"
"""The API document (a route of the API's table that does not describe itself)."""


@dataclass
class RequestLog:
    """Every request the page makes: to ``origin`` as (method, path), elsewhere whole."""

    origin: str
    seen: list[tuple[str, str]] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> RequestLog:
        page.on("request", self._record)
        return self

    def _record(self, request: Request) -> None:
        url = urlsplit(request.url)
        if f"{url.scheme}://{url.netloc}" == self.origin:
            self.seen.append((request.method, url.path))
        elif url.scheme not in ("blob", "data"):  # a CDN, another site
            self.elsewhere.append(f"{request.method} {request.url}")

    def undocumented(self, document: dict[str, object], base_path: str = "") -> list[str]:
        """The requests that are neither a documented operation nor the app's files,
        and every request to another origin."""
        paths = document["paths"]
        assert isinstance(paths, dict)
        routes = [
            (method.upper(), re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "/?"))
            for p, operations in paths.items()
            for method in operations
        ]
        out = list(self.elsewhere)
        for method, path in self.seen:
            if method == "GET" and path.rstrip("/") in [
                base_path + f for f in (*APP_FILES, DOCUMENT)
            ]:
                continue
            if not any(m == method and pattern.fullmatch(path) for m, pattern in routes):
                out.append(f"{method} {path}")
        return out


def unexpected(errors: PageErrors, *statuses: int) -> list[str]:
    """The page's console errors, less Chromium's line for each answer the test asked
    for on purpose (``Failed to load resource: ... status of 422``)."""
    allowed = tuple(f"status of {status} " for status in statuses)
    return [
        e for e in errors if not ("Failed to load resource" in e and any(a in e for a in allowed))
    ]


def unlabelled(page: Page) -> list[str]:
    """The form controls on the page that no label names."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(e => e.type !== 'hidden' && !e.labels.length
                         && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
            .map(e => e.outerHTML)"""
    )
    return found


def overflows(page: Page) -> bool:
    """Whether the page is wider than the window (a sideways scroll bar)."""
    wider: bool = page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    return wider
