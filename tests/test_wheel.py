"""What the wheel ships besides Python modules: the web app's assets and the templates."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
