"""A real deepaas-run: HTTPS with tokens, start-up lines, a busy port, JSON logs."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import trustme

from deepaas_lite import __version__
from deepaas_lite.cmd.serve import exposure_warning
from tests.e2e.server import Server, deepaas_run, free_port, running, start, stop


def _https(
    server_url: str, ca: ssl.SSLContext, path: str, method: str = "GET", token: str | None = None
) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(server_url + path, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30, context=ca) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _wait_https(server: Server, ca: ssl.SSLContext, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.output()
        try:
            if _https(server.url, ca, "/v2/health/live")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(server.output())


def test_https_with_tokens(tmp_path: Path) -> None:
    authority = trustme.CA()
    cert = authority.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    cert.private_key_pem.write_to_path(str(tmp_path / "server.key"))
    (tmp_path / "tokens").write_text("team-token\n")
    ca = ssl.create_default_context()
    authority.configure_trust(ca)
    port = free_port()
    args = [
        "--model-name",
        "echo",
        "--state-dir",
        str(tmp_path / "state"),
        "--ssl-certfile",
        str(tmp_path / "server.pem"),
        "--ssl-keyfile",
        str(tmp_path / "server.key"),
        "--auth-token-file",
        str(tmp_path / "tokens"),
    ]
    server = start(args, tmp_path / "server.log", port=port)
    server.url = f"https://127.0.0.1:{port}"
    try:
        _wait_https(server, ca)
        assert _https(server.url, ca, "/v2/models/echo/predict?data=1", "POST")[0] == 401
        status, body = _https(
            server.url, ca, "/v2/models/echo/predict?data=1", "POST", token="team-token"
        )
        assert status == 200 and json.loads(body)["status"] == "OK"
        # Plain HTTP on the TLS port gets no answer from the API.
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/models/", timeout=10)
    finally:
        stop(server)
    out = server.output()
    assert f"https://127.0.0.1:{port}/ui" in out
    assert f"bearer tokens of {tmp_path / 'tokens'}" in out


def test_banner_after_listening_and_stop_logged(tmp_path: Path) -> None:
    conf = tmp_path / "deepaas.conf"
    conf.write_text("[model:batch-both]\npredict_workers = 2\n[model:echo]\npredict_workers = 0\n")
    args = [
        "--model-name",
        "echo",
        "--model-name",
        "batch-both",
        "--config-file",
        str(conf),
        "--state-dir",
        str(tmp_path / "state"),
    ]
    with running(args, tmp_path / "server.log") as server:
        out = server.output()
    assert f"version: {__version__}" in out
    assert "echo (threads)" in out
    assert "batch-both (2 worker processes, batched)" in out
    assert f"state:   {tmp_path / 'state'}" in out
    assert "access:  open (no --auth-token-file)" in out
    out = server.output()
    assert "Stopping on SIGTERM" in out and "deepaas-lite stopped" in out
    assert "Traceback" not in out


def test_a_busy_port_is_one_line_and_a_failure(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [
                deepaas_run(),
                "--model-name",
                "echo",
                "--listen-port",
                str(port),
                "--state-dir",
                str(tmp_path / "state"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"deepaas-run: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert "Traceback" not in proc.stderr
    assert "deepaas-lite is serving" not in proc.stdout


@pytest.mark.parametrize(
    ("content", "message"), [(None, "cannot read the token file"), ("# none\n", "holds no token")]
)
def test_an_unusable_token_file_stops_the_start(
    tmp_path: Path, content: str | None, message: str
) -> None:
    tokens = tmp_path / "tokens"
    if content is not None:
        tokens.write_text(content)
    proc = subprocess.run(
        [
            deepaas_run(),
            "--model-name",
            "echo",
            "--listen-port",
            str(free_port()),
            "--state-dir",
            str(tmp_path / "state"),
            "--auth-token-file",
            str(tokens),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_exposure_warning() -> None:
    assert exposure_warning("127.0.0.1", False) is None
    assert exposure_warning("localhost", False) is None
    assert exposure_warning("::1", False) is None
    assert exposure_warning("0.0.0.0", True) is None
    warning = exposure_warning("0.0.0.0", False)
    assert warning is not None and "--auth-token-file" in warning


def test_listening_on_every_address_without_tokens_warns(tmp_path: Path) -> None:
    args = [
        "--model-name",
        "echo",
        "--state-dir",
        str(tmp_path / "state"),
        "--listen-ip",
        "0.0.0.0",
        "--log-format",
        "json",
    ]
    with running(args, tmp_path / "server.log") as server:
        server.request("GET", "/v2/models/", headers={"X-Request-ID": "json-1"})
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    warnings = [line for line in lines if line["level"] == "WARNING"]
    assert any("reachable from other machines" in line["message"] for line in warnings)
    access = [line for line in lines if line["logger"] == "deepaas_lite.access"]
    assert any(line["request_id"] == "json-1" and line["status"] == 200 for line in access)


def test_a_stop_logs_the_interrupted_training(tmp_path: Path) -> None:
    args = ["--model-name", "train-sleeper", "--state-dir", str(tmp_path / "state")]
    with running(args, tmp_path / "server.log") as server:
        status, record = server.json(
            "POST", "/v2/models/train-sleeper/train/?sleep=60", headers={"X-Request-ID": "long-1"}
        )
        assert status == 200
        uuid = record["uuid"]
        deadline = time.monotonic() + 60
        while server.json("GET", f"/v2/models/train-sleeper/train/{uuid}")[1]["status"] != (
            "running"
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
    out = server.output()
    assert f"Training '{uuid}' of 'train-sleeper' started" in out
    assert f"Training '{uuid}' interrupted: the server is stopping" in out
    assert "[long-1]: Training" in out  # its lines name the request that submitted it


def test_noaccess_log_leaves_the_access_lines_out(tmp_path: Path) -> None:
    args = ["--model-name", "echo", "--state-dir", str(tmp_path / "state"), "--noaccess-log"]
    with running(args, tmp_path / "server.log") as server:
        assert server.request("POST", "/v2/models/echo/predict?data=1")[0] == 200
    out = server.output()
    assert "deepaas_lite.access" not in out
    assert "deepaas-lite stopped" in out  # the rest of the log is still there
