from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deepaas_lite import config
from deepaas_lite.cmd.run import banner
from tests.e2e.server import deepaas_run


def test_banner() -> None:
    text = banner("127.0.0.1", 5000, "/x", ["a", "b"])
    assert "http://127.0.0.1:5000/x/ui" in text
    assert "http://127.0.0.1:5000/x/swagger.json" in text
    assert "http://127.0.0.1:5000/x/v2/" in text
    assert "a, b" in text
    assert "http://[::1]:80/ui" in banner("::1", 80, "", [])


def test_unknown_model_name_exits_non_zero(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            deepaas_run(),
            "--model-name",
            "echo",
            "--model-name",
            "no-such-model",
            "--state-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "no-such-model" in proc.stderr
    assert "echo" not in proc.stderr.split("installed:")[0]


def test_broken_named_model_exits_non_zero(tmp_path: Path) -> None:
    proc = subprocess.run(
        [deepaas_run(), "--model-name", "broken-import", "--state-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "broken-import" in proc.stderr
    assert "library that is not installed" in proc.stderr


def test_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        config.parse(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "TCP port the server listens on. (default: 5000)" in text
    assert "IP address the server listens on. (default: 127.0.0.1)" in text
    assert "0 means no limit. (default: 104857600)" in text
    assert "Call each model's warm() before reporting ready. (default: true)" in text
    # Options whose help already explains their default keep it as it is.
    assert "Default: every installed model. (default" not in text


def test_a_busy_port_exits_before_any_model_starts(tmp_path: Path) -> None:
    """The port is bound first: with it taken, no plugin is imported or made (a plugin
    that loads its weights there took 10 s before the one-line failure)."""
    import socket

    started = tmp_path / "started"
    plugin = tmp_path / "slow_start.py"
    plugin.write_text(
        "from pathlib import Path\n"
        f"Path({str(started)!r}).write_text('imported')\n"
        "def predict():\n    return 1\n"
    )
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["--plugin", str(plugin), "--listen-port", str(port)]
        proc = subprocess.run(
            [deepaas_run(), *args, "--state-dir", str(tmp_path / "state")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"deepaas-run: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
    assert not started.exists()
    assert not (tmp_path / "state").exists()  # nor any state made

