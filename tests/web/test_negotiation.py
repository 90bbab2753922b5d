from __future__ import annotations

import pytest

from deepaas_lite.web.negotiation import negotiate, parse_accept

CHOICES = ["application/json", "text/plain", "image/png"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/plain", "text/plain"),
        ("image/*", "image/png"),
        ("text/plain;q=0.5, image/png", "image/png"),
        ("text/plain;q=0.9, image/png;q=0.2", "text/plain"),
        ("*/*;q=0.1, text/plain", "text/plain"),
        ("application/json;q=0, */*", "text/plain"),
        ("text/html", None),
        ("text/html, */*;q=0", None),
        ("image/*;q=0, image/png", "image/png"),
    ],
)
def test_negotiate(header: str | None, expected: str | None) -> None:
    assert negotiate(header, CHOICES) == expected


def test_parse_accept_ignores_garbage() -> None:
    ranges = parse_accept("garbage, text/plain;q=abc, image/png;level=1;q=0.3")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("text", "plain", 0.0),
        ("image", "png", 0.3),
    ]
