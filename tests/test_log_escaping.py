"""A text log line stays one line: control characters are written as escapes."""

from __future__ import annotations

import io
import logging

from deepaas_lite import logs


def test_escape_writes_control_characters_as_escapes() -> None:
    assert logs.escape("plain /v2/models/ ü") == "plain /v2/models/ ü"
    assert logs.escape("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert logs.escape("\x1b[31mred\x7f\x85") == "\\x1b[31mred\\x7f\\x85"
    assert logs.escape("a\u2028b\u2029c") == "a\\u2028b\\u2029c"


def test_a_text_line_is_one_line_and_its_traceback_keeps_its_lines() -> None:
    stream = io.StringIO()
    handler = logs.handler("text", stream)
    logger = logging.getLogger("tests.log_escaping")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("path %s", "/x\n2026 INFO forged\x1b[0m")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed at %s", "/y\nforged")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("path /x\\n2026 INFO forged\\x1b[0m")
    assert lines[1].endswith("failed at /y\\nforged")
    assert lines[2] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: boom"
