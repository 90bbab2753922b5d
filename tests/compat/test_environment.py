"""deepaas-run names what a DEEPaaS-era plugin's install broke, with the repair."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from deepaas_lite.compat import environment
from tests.e2e.server import PORT_0, deepaas_run

GOOD = {"webargs": "8.7.1", "apispec": "6.10.1", "marshmallow": "4.4.0"}


def _versions(**overrides: str | None) -> object:
    table: dict[str, str | None] = {**GOOD, **overrides}
    return lambda name: table.get(name)


def _no_script(name: str) -> None:
    return None


def test_a_good_environment_has_no_problems() -> None:
    assert environment.problems(_versions(), _no_script) == []  # type: ignore[arg-type]


def test_downgraded_webargs_and_apispec_are_fatal() -> None:
    found = environment.problems(
        _versions(webargs="5.5.3", apispec="3.3.2"),  # type: ignore[arg-type]
        _no_script,
    )
    assert [p.fatal for p in found] == [True, True]
    assert found[0].message.startswith(
        "webargs 5.5.3 is installed but deepaas-lite needs webargs>=8.4,<9 (a DEEPaaS-era "
        "plugin's dependencies downgraded it); run: pip install 'webargs>=8.4,<9'"
    )
    assert "apispec 3.3.2 is installed" in found[1].message
    assert "docs/migration.md" in found[1].message


def test_real_deepaas_distribution_is_a_warning() -> None:
    (found,) = environment.problems(_versions(deepaas="2.6.0"), _no_script)  # type: ignore[arg-type]
    assert not found.fatal
    assert "deepaas 2.6.0" in found.message and "pip uninstall -y deepaas" in found.message


def _deepaas_script(directory: Path) -> Path:
    script = directory / "deepaas-run"
    script.write_text(
        "#!/usr/bin/python\nimport sys\nfrom deepaas.cmd.run import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    return script


def test_a_foreign_deepaas_run_on_path(tmp_path: Path) -> None:
    script = _deepaas_script(tmp_path)
    (found,) = environment.problems(_versions(), lambda name: str(script))  # type: ignore[arg-type]
    assert not found.fatal
    assert f"the deepaas-run on PATH ({script}) is not deepaas-lite's" in found.message
    assert "python -m deepaas_lite.cmd.run" in found.message
    assert environment.problems(_versions(), lambda name: deepaas_run()) == []  # type: ignore[arg-type]


def test_deepaas_run_warns_about_a_foreign_script_on_path(tmp_path: Path) -> None:
    """A real start: DEEPaaS's deepaas-run first on PATH, ours run by its full path."""
    _deepaas_script(tmp_path)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [
            deepaas_run(),
            "--model-name",
            "no-such-model",
            *PORT_0,
            "--state-dir",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert f"the deepaas-run on PATH ({tmp_path / 'deepaas-run'}) is not deepaas-lite's" in (
        proc.stderr
    )
    assert sys.executable  # the child ran next to this Python
