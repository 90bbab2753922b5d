"""``Accept`` header negotiation with q-values (RFC 9110, section 12.5.1)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from deepaas_lite import exceptions

QUERY_KEY = "accept"
"""The query key DEEPaaS clients (the AI4OS UI among them) send the media type under."""


def requested(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    """What a request asks to be answered with: ``?accept=`` when given, else ``Accept``."""
    return query.get(QUERY_KEY) or headers.get("Accept")


class MediaRange(NamedTuple):
    type: str
    subtype: str
    q: float


def parse_accept(header: str) -> list[MediaRange]:
    """Parse an ``Accept`` header; malformed parts are ignored."""
    ranges: list[MediaRange] = []
    for part in header.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if "/" not in media:
            continue
        type_, _, subtype = media.lower().partition("/")
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(type_.strip(), subtype.strip(), q))
    return ranges


def _quality(choice: str, ranges: Sequence[MediaRange]) -> float:
    """The q of the most specific range that matches ``choice``; 0 when none does."""
    type_, _, subtype = choice.lower().partition("/")
    best_specificity, best_q = -1, 0.0
    for r in ranges:
        if r.type == "*" and r.subtype == "*":
            specificity = 0
        elif r.type == type_ and r.subtype == "*":
            specificity = 1
        elif r.type == type_ and r.subtype == subtype:
            specificity = 2
        else:
            continue
        if specificity > best_specificity:
            best_specificity, best_q = specificity, r.q
    return best_q


def negotiate(header: str | None, choices: Sequence[str]) -> str | None:
    """The choice the client prefers; the first choice when any will do.

    Returns ``None`` when the header rules out every choice. Clients send few distinct
    headers, so answers are remembered.
    """
    return _negotiate(header, tuple(choices))


@functools.lru_cache(maxsize=1024)
def _negotiate(header: str | None, choices: tuple[str, ...]) -> str | None:
    if not choices:
        return None
    if header is None or not header.strip():
        return choices[0]
    ranges = parse_accept(header)
    if not ranges:
        return choices[0]
    best, best_q = None, 0.0
    for choice in choices:
        q = _quality(choice, ranges)
        if q > best_q:
            best, best_q = choice, q
    return best


def choose(header: str | None, choices: Sequence[str]) -> str:
    """Like ``negotiate``, but ``NotAcceptable`` when the header rules out every choice."""
    choice = negotiate(header, choices)
    if choice is None:
        raise exceptions.NotAcceptable(
            f"Cannot answer with any of '{header}'; available: {', '.join(choices)}"
        )
    return choice
