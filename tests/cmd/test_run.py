from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deepaas_lite import config
from deepaas_lite.cmd.start import banner
from tests.e2e.server import PORT_0, deepaas_run


def test_banner() -> None:
    text = banner("127.0.0.1", 5000, "/x", ["a", "b"])
    assert "http://127.0.0.1:5000/x/app" in text
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
            *PORT_0,
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
        [deepaas_run(), "--model-name", "broken-import", *PORT_0, "--state-dir", str(tmp_path)],
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


def test_the_banner_is_aligned() -> None:
    details = [("version", "0.1.0"), ("models", "echo (threads)"), ("access", "open")]
    lines = banner("127.0.0.1", 5000, "", ["echo"], details=details).splitlines()[1:]
    columns = {len(line) - len(line.split(":", 1)[1].lstrip()) for line in lines}
    assert len(columns) == 1, lines  # every value starts in the same column
    assert "  access:  open" in lines


def _parse_fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> list[str]:
    with pytest.raises(SystemExit) as stopped:
        config.parse(argv)
    assert stopped.value.code not in (0, None)
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.strip().splitlines()


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--train-workers", "0"],
            "deepaas-run: --train-workers: invalid value '0' (an integer, at least 1)",
        ),
        (
            ["--listen-port", "99999"],
            "deepaas-run: --listen-port: invalid value '99999' (an integer from 0 to 65535)",
        ),
        (
            ["--log-format", "xml"],
            "deepaas-run: --log-format: invalid value 'xml' (one of: text, json)",
        ),
        (
            ["--predict-timeout", "soon"],
            "deepaas-run: --predict-timeout: invalid value 'soon' (a number, at least 0)",
        ),
        (["--train-workers"], "deepaas-run: --train-workers: expected one argument"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_option(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _parse_fails(argv, capsys) == [line]


def test_an_unknown_option_is_one_line_and_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert _parse_fails(["--trian-workers", "2"], capsys) == [
        "deepaas-run: unknown option --trian-workers",
        "deepaas-run: did you mean --train-workers? (deepaas-run --help lists every option)",
    ]
    assert _parse_fails(["--zzz"], capsys) == [
        "deepaas-run: unknown option --zzz",
        "deepaas-run: deepaas-run --help lists every option",
    ]


def _sections(help_text: str) -> dict[str, list[str]]:
    """``--help``'s sections: each title, and the options listed under it."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in help_text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = sections.setdefault(line[:-1], [])
        elif line.startswith("  -"):
            current.append(line.split()[0].rstrip(","))
    return sections


def test_help_groups_the_deepaas_compatibility_flags_apart(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        config.parse(["--help"])
    out = capsys.readouterr().out
    sections = _sections(out)
    compat = sections["DEEPaaS (oslo.log) logging options"]
    ignored = sections["accepted for DEEPaaS (oslo.log) compatibility and ignored"]
    assert {"--log-file", "--log-dir", "--use-json", "--nouse-json"} <= set(compat)
    assert {"--use-syslog", "--nouse-syslog", "--log-config-append"} <= set(ignored)
    own = [name for title, names in sections.items() if "DEEPaaS" not in title for name in names]
    assert "--listen-port" in own and "--nowarm" in own
    assert not set(own) & set(compat + ignored)
    assert len(out.split("\n\n")[0].splitlines()) == 1  # a short usage line
