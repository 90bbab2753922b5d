"""A real deepaas-run: what a client sends cannot forge a log line or colour the
terminal. Control characters in a text line are written escaped; JSON lines stay JSON."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.e2e.server import Server, running

FORGED = "2026-12-02 10:00:00,000 INFO deepaas_lite.access [-]: POST /forged 200"
QUOTED = FORGED.replace(" ", "%20")


@pytest.fixture(scope="module", params=["text", "json"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    tmp = tmp_path_factory.mktemp("log-injection")
    (tmp / "tokens").write_text("a-token\n")
    args = [
        "--model-name",
        "echo",
        "--state-dir",
        str(tmp / "state"),
        "--auth-token-file",
        str(tmp / "tokens"),
        "--log-format",
        request.param,
    ]
    with running(args, tmp / "server.log") as started:
        yield started, request.param


def _logged(server: Server) -> list[str]:
    """The log's lines, once a marked request sent now has its access line."""
    marker = f"mark-{uuid.uuid4().hex}"
    assert server.request("GET", "/v2/models/", headers={"X-Request-ID": marker})[0] == 200
    deadline = time.monotonic() + 30
    while marker not in (text := server.output()):
        assert time.monotonic() < deadline, text
        time.sleep(0.05)
    return text.split("\n")


@pytest.mark.parametrize(
    ("path", "escaped"),
    [
        ("/v2/models/x%0a" + QUOTED + "%0a/predict/", "x\\n2026"),
        ("/v2/models/x%0d" + QUOTED + "/predict/", "x\\r2026"),
        ("/v2/models/%1b[31mred%1b[0m/predict/", "\\x1b[31mred"),
        ("/v2/models/x%e2%80%a8" + QUOTED + "/predict/", "x\\u20282026"),
    ],
    ids=["newline", "carriage-return", "ansi", "line-separator"],
)
def test_a_path_cannot_forge_a_log_line(
    served: tuple[Server, str], path: str, escaped: str
) -> None:
    server, log_format = served
    status, _, _ = server.request("POST", path)
    assert status in (401, 404)
    lines = _logged(server)
    for line in lines:
        assert not line.startswith(FORGED[:30]), line
        assert not any(char in line for char in "\x1b\r\u2028"), repr(line)
    if log_format == "json":
        assert all(json.loads(line) for line in lines if line.startswith("{"))
        paths = [json.loads(line).get("path", "") for line in lines if line.startswith("{")]
        assert any(FORGED in p or "\x1b[31m" in p for p in paths), paths
    else:
        assert any(escaped in line for line in lines), lines[-20:]
