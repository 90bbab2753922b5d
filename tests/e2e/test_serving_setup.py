"""A real deepaas-run: SIGHUP, the files it makes and reads, what it warns about or
refuses at start, and the headers that protect browsers."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import Server, deepaas_run, free_port, running


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sighup_without_tokens_is_logged_and_the_server_serves_on(tmp_path: Path) -> None:
    args = ["--model-name", "echo", "--state-dir", str(tmp_path / "state")]
    with running(args, tmp_path / "server.log") as server:
        server.process.send_signal(signal.SIGHUP)
        server.wait_for_log("SIGHUP: nothing to reload")
        assert server.process.poll() is None
        assert server.request("GET", "/v2/models/")[0] == 200


def test_sighup_with_tokens_reads_them_again(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("old-token\n")
    tokens.chmod(0o600)
    args = [
        "--model-name",
        "echo",
        "--state-dir",
        str(tmp_path / "s"),
        "--auth-token-file",
        str(tokens),
    ]
    with running(args, tmp_path / "server.log") as server:
        tokens.write_text("new-token\n")
        server.process.send_signal(signal.SIGHUP)
        server.wait_for_log("Tokens reloaded")
        status, _, _ = server.request(
            "POST", "/v2/models/echo/predict/?data=1", headers={"Authorization": "Bearer new-token"}
        )
        assert status == 200


def test_state_is_private_and_files_others_can_read_are_named(tmp_path: Path) -> None:
    state = tmp_path / "state"
    tokens = tmp_path / "tokens"
    tokens.write_bytes("\ufefffirst-token\nsecond-token\n".encode())  # a BOM, as Notepad writes
    tokens.chmod(0o644)
    args = [
        "--model-name",
        "echo",
        "--state-dir",
        str(state),
        "--auth-token-file",
        str(tokens),
        "--cors-origin",
        "*",
    ]
    with running(args, tmp_path / "server.log") as server:
        status, _, _ = server.request(
            "POST",
            "/v2/models/echo/predict/?data=1",
            headers={"Authorization": "Bearer first-token"},
        )
        assert status == 200
    log = server.output()  # once stopped: the log thread writes in batches, the last at exit
    assert _mode(state) == 0o700
    database = next(state.glob("*.sqlite3"))
    for path in [database, *state.glob("*.sqlite3-*")]:
        assert _mode(path) == 0o600, path
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert any(str(tokens) in line and "every user" in line for line in warnings), warnings
    assert any("--cors-origin '*'" in line for line in warnings), warnings


@pytest.mark.parametrize("base_path", ["/a b", "/x/../y", "/..", "/a//b"])
def test_a_base_path_that_is_no_path_is_refused_at_start(tmp_path: Path, base_path: str) -> None:
    result = subprocess.run(
        [
            deepaas_run(),
            "--listen-port",
            str(free_port()),
            "--model-name",
            "echo",
            "--state-dir",
            str(tmp_path / "state"),
            "--base-path",
            base_path,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "base_path" in result.stderr or "base-path" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("setup")
    args = ["--model-name", "echo", "--state-dir", str(tmp / "state")]
    with running(args, tmp / "server.log") as started:
        yield started


@pytest.mark.parametrize("path", ["/ui", "/v2/models/", "/v2/models/nothing/", "/openapi.json"])
def test_every_answer_has_the_browser_protections(server: Server, path: str) -> None:
    _, headers, _ = server.request("GET", path)
    lower = {key.lower(): value for key, value in headers.items()}
    assert lower["x-content-type-options"] == "nosniff"
    assert lower["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in lower["content-security-policy"]


@pytest.mark.parametrize("host", ["localhost:{port}@evil.example", "localhost:x", "localhost/x"])
def test_a_host_that_is_no_host_is_refused(server: Server, host: str) -> None:
    where = urlsplit(server.url)
    host = host.format(port=where.port)
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(
            f"GET /v2/models/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 403"), answer[:300]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["code"] == 403
