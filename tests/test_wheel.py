"""The wheel: what it ships besides Python modules (the web app's assets and the
templates), and that it installs into a fresh virtualenv and runs (deepaas-lite is on
no package index: it is installed from its source tree or from a wheel built there).

Kept quick: the wheel is built without build isolation (with this environment's
setuptools) and installed with ``--no-deps``; the fresh environment reaches
this environment's dependencies through a path entry, not its site directory, so the
editable install of deepaas-lite here is not seen there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["deepaas_lite", "setup.cfg", "pyproject.toml", "README.md", "MANIFEST.in"]
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def test_the_wheel_ships_the_web_app(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building leaves build/ and egg-info behind
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md", "MANIFEST.in"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "deepaas_lite", source / "deepaas_lite", ignore=ignore)
    dist = tmp_path / "dist"
    build = f"from setuptools import build_meta; build_meta.build_wheel({str(dist)!r})"
    subprocess.run(
        [sys.executable, "-c", build], cwd=source, check=True, capture_output=True, timeout=300
    )
    (wheel,) = dist.glob("deepaas_lite-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in sorted((ROOT / "deepaas_lite" / "web" / "static").iterdir()):
        assert f"deepaas_lite/web/static/{asset.name}" in names
    assert "deepaas_lite/web/webapp.py" in names


def _run(*argv: str | Path, cwd: Path) -> str:
    """Run in ``cwd`` (not the source tree, which ``python -c`` would import from), with
    no PYTHONPATH."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    proc = subprocess.run(
        [str(arg) for arg in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_the_wheel_installs_in_a_fresh_virtualenv_and_runs(tmp_path: Path) -> None:
    tree = tmp_path / "deepaas-lite"
    tree.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=JUNK)
        else:
            shutil.copy2(source, tree / name)
    dist = tmp_path / "dist"
    # setuptools (>= 70.1, the test extra) builds wheels itself: no "wheel" package needed.
    build = ["-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check"]
    _run(sys.executable, *build, "--outdir", dist, tree, cwd=tmp_path)
    (wheel,) = dist.glob("deepaas_lite-*-py3-none-any.whl")

    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(_run(python, "-c", purelib, cwd=tmp_path).strip())
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    pip = [sys.executable, "-m", "pip", "--python", python]
    _run(*pip, "install", "--no-deps", "--ignore-installed", "-q", wheel, cwd=tmp_path)

    where = _run(python, "-c", "import deepaas_lite; print(deepaas_lite.__file__)", cwd=tmp_path)
    assert Path(where.strip()).is_relative_to(site), where  # the wheel's, not the editable one
    installed = site / "deepaas_lite"
    assert (installed / "web" / "static").is_dir() and any((installed / "web/static").iterdir())
    assert list((installed / "cmd" / "new_template").rglob("*.tmpl"))
    assert "--listen-port" in _run(env / "bin" / "deepaas-run", "--help", cwd=tmp_path)
    assert "predict" in _run(env / "bin" / "deepaas-cli", "--help", cwd=tmp_path)
