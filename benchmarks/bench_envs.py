"""The benchmark's virtualenvs (under benchmarks/.work/) and the load generator.

- ``venv-deepaas``: DEEPaaS 2.6.0 from PyPI and the benchmark plugins.
- ``venv-lite``: deepaas-lite from this repository, the plugins and py-spy; its Python
  also runs the bare aiohttp ceiling server.
- ``venv-mlserver``: MLServer and its scikit-learn runtime, and the plugins (whose code
  fits the very SVC that MLServer then loads from ``mlserver-model/``).
- ``src-<commit>``: deepaas-lite's package at a commit (``--lite-ref``, ``--baseline``),
  put first on the lite Python's path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / ".work"
PLUGINS_DIR = BENCH_DIR / "plugins"
DEEPAAS_REQUIREMENT = "deepaas==2.6.0"
MLSERVER_REQUIREMENTS = ["mlserver==1.7.1", "mlserver-sklearn==1.7.1"]
MLSERVER_MODEL_DIR = WORK_DIR / "mlserver-model"
INSTALL_TIMEOUT_S = 900


@dataclass(frozen=True)
class Venv:
    """A virtualenv and what it was built from."""

    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def script(self, name: str) -> Path:
        return self.path / "bin" / name


def _log(message: str) -> None:
    print(f"[setup] {message}", file=sys.stderr, flush=True)


def _run(cmd: list[str | Path]) -> None:
    """Run an install command; its output goes to the install log."""
    log = WORK_DIR / "install.log"
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(map(str, cmd))}\n")
        out.flush()
        done = subprocess.run(
            [str(c) for c in cmd],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"command failed ({done.returncode}), see {log}: {cmd}")


def _plugins_digest() -> str:
    """A hash of the plugin sources: reinstall them when they change."""
    digest = hashlib.sha256((PLUGINS_DIR / "pyproject.toml").read_bytes())
    for path in sorted((PLUGINS_DIR / "deepaas_bench_plugins").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _ensure_venv(path: Path, requirements: list[str], stamp_key: str) -> Venv:
    """Create ``path`` and install ``requirements`` unless its stamp already matches."""
    venv = Venv(path)
    stamp = path / ".bench-stamp"
    if stamp.exists() and stamp.read_text() == stamp_key:
        return venv
    if not venv.python.exists():
        _log(f"creating {path}")
        _run([sys.executable, "-m", "venv", path])
        _run([venv.python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    _log(f"installing {' '.join(requirements)} into {path.name}")
    _run([venv.python, "-m", "pip", "install", "-q", *requirements])
    stamp.write_text(stamp_key)
    return venv


def deepaas_venv() -> Venv:
    key = f"{DEEPAAS_REQUIREMENT} {_plugins_digest()}"
    return _ensure_venv(WORK_DIR / "venv-deepaas", [DEEPAAS_REQUIREMENT, str(PLUGINS_DIR)], key)


def lite_venv() -> Venv:
    """The lite venv; deepaas-lite itself is reinstalled on every run (it changes)."""
    key = f"lite {_plugins_digest()}"
    venv = _ensure_venv(WORK_DIR / "venv-lite", [str(REPO_ROOT), str(PLUGINS_DIR), "py-spy"], key)
    _log("reinstalling deepaas-lite from the working tree")
    _run(
        [
            venv.python,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--force-reinstall",
            str(REPO_ROOT),
        ]
    )
    return venv


def mlserver_venv() -> Venv:
    """MLServer's virtualenv, and the IRIS SVC saved where its sklearn runtime loads it."""
    key = f"{' '.join(MLSERVER_REQUIREMENTS)} {_plugins_digest()}"
    venv = _ensure_venv(WORK_DIR / "venv-mlserver", [*MLSERVER_REQUIREMENTS, str(PLUGINS_DIR)], key)
    save_mlserver_model(venv, key)
    return venv


def save_mlserver_model(venv: Venv, key: str = "") -> None:
    """The IRIS SVC of the plugins, fitted and saved for MLServer (again when ``key``,
    the plugins' and MLServer's versions, changed)."""
    saved = MLSERVER_MODEL_DIR / "bench-svc.joblib"
    stamp = MLSERVER_MODEL_DIR / ".stamp"
    if saved.exists() and (not key or (stamp.exists() and stamp.read_text() == key)):
        return
    MLSERVER_MODEL_DIR.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys, joblib; from deepaas_bench_plugins import _iris; "
        "joblib.dump(_iris.model(), sys.argv[1])"
    )
    _run([venv.python, "-c", code, saved])
    stamp.write_text(key)


def source_at(ref: str, python: Path) -> Path:
    """deepaas-lite's source tree at git ``ref``, unpacked once under .work/ and
    compiled by ``python`` (see ``compiled``)."""
    commit = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = WORK_DIR / f"src-{commit}"
    if not (target / "deepaas_lite").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "archive", commit, "deepaas_lite"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return compiled(target, python)


def compiled(tree: Path, python: Path) -> Path:
    """``tree`` with its deepaas_lite package compiled to bytecode by ``python``, as pip
    compiles what it installs (DEEPaaS, in its virtualenv): else a server run from the
    tree compiles every module again at each start whenever PYTHONDONTWRITEBYTECODE is
    set, 0.08 s of a 0.46 s start here. Modules compiled already are skipped."""
    _run([python, "-m", "compileall", "-q", str(tree / "deepaas_lite")])
    return tree


def installed_version(venv: Venv, dist: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    done = subprocess.run(
        [str(venv.python), "-c", code], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "?"


def ensure_wrk() -> str:
    """The path of ``wrk``, installing Debian's package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("wrk is missing: apt-get install wrk (needs root)")
    _log("installing wrk with apt-get")
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    _run(["apt-get", "update", "-qq"])
    _run(["apt-get", "install", "-y", "-qq", "wrk"])
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get installed no wrk")
    return found
