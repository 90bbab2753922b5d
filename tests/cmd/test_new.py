"""``deepaas-cli new NAME``: the package it writes installs, passes its own tests, serves,
trains and predicts, as generated.

The package goes into a virtual environment of its own (``pip install --no-deps
--no-build-isolation``, with this environment's setuptools, hence ``setuptools>=70.1`` in
the test extra); deepaas-lite and its dependencies come from the environment running
these tests, which the new one sees through a ``.pth`` file, so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from deepaas_lite.cmd import new
from tests.e2e.server import Server, free_port, installed, stop, wait_ready
from tests.e2e.test_model_store import until

NAME = "line-fit"


def test_the_files_it_writes(tmp_path: Path) -> None:
    files = new.files(NAME)
    assert sorted(map(str, files)) == [
        ".gitignore",
        "README.md",
        "line_fit/__init__.py",
        "line_fit/plugin.py",
        "pyproject.toml",
        "tests/test_plugin.py",
    ]
    assert '"deepaas.v2.model"]\nline-fit = "line_fit.plugin"' in files[Path("pyproject.toml")]
    assert "deepaas-lite>=" in files[Path("pyproject.toml")]
    readme = files[Path("README.md")]
    assert "pip install -e .\ndeepaas-run --model-name line-fit\n" in readme
    plugin = files[Path("line_fit/plugin.py")]
    assert "deepaas_lite.model_dir()" in plugin and "def load(path: Path)" in plugin


def test_it_refuses_a_bad_name_and_a_directory_in_use(tmp_path: Path) -> None:
    cli = installed("deepaas-cli")
    proc = subprocess.run([cli, "new", "9 lives"], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "not a project name" in proc.stderr
    (tmp_path / NAME).mkdir()
    (tmp_path / NAME / "mine.txt").write_text("keep me")
    proc = subprocess.run([cli, "new", NAME], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "not empty" in proc.stderr
    assert sorted(p.name for p in (tmp_path / NAME).iterdir()) == ["mine.txt"]


def _venv(directory: Path) -> Path:
    """A virtual environment that sees this one's packages (after its own)."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True, timeout=120
    )
    python = directory / "bin" / "python"
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    lines = [f"import site; site.addsitedir({path!r})" for path in sorted(ours)]
    Path(own, "deepaas_lite_tests_parent.pth").write_text("\n".join(lines) + "\n")
    return python


@pytest.mark.timeout(600)
def test_new_package_installs_tests_serves_trains_and_predicts(tmp_path: Path) -> None:
    proc = subprocess.run(
        [installed("deepaas-cli"), "new", NAME],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"deepaas-run --model-name {NAME}" in proc.stdout
    project = tmp_path / NAME
    python = _venv(tmp_path / "venv")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    install = [str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    proc = subprocess.run(
        [*install, str(project)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # Its own tests (a real server, through HTTP), from the installed package.
    proc = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout

    # Served by its entry point, as its README says: trained, then asked.
    port = free_port()
    log = tmp_path / "server.log"
    serve = [str(python), "-m", "deepaas_lite.cmd.run", "--listen-port", str(port)]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [*serve, "--model-name", NAME, "--state-dir", str(tmp_path / "state")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_ready(server)
        _, listing = server.json("GET", "/v2/models/")
        assert [model["id"] for model in listing["models"]] == [NAME]
        assert listing["models"][0]["name"] == NAME  # from the package's metadata
        status, record = server.json(
            "POST",
            f"/v2/models/{NAME}/train/",
            body=json.dumps({"epochs": 3000}).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert status == 200, record
        path = f"/v2/models/{NAME}/train/{record['uuid']}"
        record = until("trained", lambda: _ended(server, path))
        assert record["status"] == "done", record
        assert abs(record["result"]["output"]["slope"] - 2.0) < 0.2
        answer = until("served", lambda: _prediction(server, 10.0))
        assert abs(answer["y"] - 21.0) < 1.0, answer
    finally:
        stop(server)

    # deepaas-cli runs it too, from its file, without a server.
    cli = [str(python), "-m", "deepaas_lite.cmd.cli", "--plugin"]
    proc = subprocess.run(
        [*cli, f"{NAME}={project / 'line_fit' / 'plugin.py'}", "schema", "predict"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["required"] == ["x"]


def _ended(server: Server, path: str) -> dict[str, object] | None:
    _, record = server.json("GET", path)
    return record if record["status"] in {"done", "error"} else None


def _prediction(server: Server, x: float) -> dict[str, float] | None:
    status, body = server.json("POST", f"/v2/models/{NAME}/predict/?x={x}")
    return body["predictions"] if status == 200 else None
