"""Headers on every answer that keep a browser from misreading or framing it.

``X-Content-Type-Options: nosniff``: a browser takes the declared type (a text/plain
training log or a JSON error is never run as HTML or script). ``X-Frame-Options: DENY``
and ``Content-Security-Policy: frame-ancestors 'none'``: no other site can show the UI
or the web app in a frame to trick clicks on it (clickjacking).
"""

from __future__ import annotations

from aiohttp import web

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """An ``on_response_prepare`` signal: ``HEADERS``, unless an answer set its own."""
    headers = response.headers
    for name, value in HEADERS.items():
        headers.setdefault(name, value)


def protect(app: web.Application) -> None:
    app.on_response_prepare.append(add_headers)
