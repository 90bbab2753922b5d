"""At startup: is this environment one that a DEEPaaS-era plugin's install broke?

Such plugins declare ``deepaas`` and ``webargs~=5.5.3``. Installed with their
dependencies next to deepaas-lite, they downgrade webargs and apispec (deepaas-lite then
fails in confusing ways) and bring DEEPaaS, whose ``deepaas-run`` replaces ours.
``problems()`` names each of these with the command that repairs it; the supported
install is in docs/migration.md.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass

REPAIR = "see 'Installing a DEEPaaS-era plugin' in docs/migration.md"

# Distribution, lowest major.minor that works, the requirement to reinstall.
MINIMUMS: tuple[tuple[str, tuple[int, int], str], ...] = (
    ("webargs", (8, 4), "webargs>=8.4,<9"),
    ("apispec", (6, 6), "apispec[marshmallow]>=6.6,<7"),
    ("marshmallow", (3, 20), "marshmallow>=3.20,<4"),
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong; ``fatal`` ones stop ``deepaas-run``."""

    message: str
    fatal: bool


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _major_minor(version: str) -> tuple[int, int]:
    parts = [int("".join(c for c in part if c.isdigit()) or 0) for part in version.split(".")[:2]]
    return (parts[0], parts[1] if len(parts) > 1 else 0)


def problems(
    version: Callable[[str], str | None] = _version,
    which: Callable[[str], str | None] = shutil.which,
) -> list[Problem]:
    """Everything wrong with the installed distributions and the ``deepaas-run`` on PATH."""
    found = []
    for name, minimum, requirement in MINIMUMS:
        installed = version(name)
        if installed is not None and _major_minor(installed) < minimum:
            found.append(
                Problem(
                    f"{name} {installed} is installed but deepaas-lite needs {requirement} "
                    f"(a DEEPaaS-era plugin's dependencies downgraded it); run: "
                    f"pip install '{requirement}' ({REPAIR})",
                    fatal=True,
                )
            )
    deepaas = version("deepaas")
    if deepaas is not None:
        found.append(
            Problem(
                f"the DEEPaaS distribution (deepaas {deepaas}) is installed beside "
                "deepaas-lite; plugins still get deepaas-lite's deepaas.model.v2 modules, "
                "but its deepaas-run may have replaced ours; run: pip uninstall -y deepaas "
                "&& pip install --force-reinstall --no-deps <deepaas-lite's source tree or wheel> "
                f"({REPAIR})",
                fatal=False,
            )
        )
    script = which("deepaas-run")
    if script is not None and not _is_ours(script):
        found.append(
            Problem(
                f"the deepaas-run on PATH ({script}) is not deepaas-lite's (DEEPaaS's?); "
                "run: pip install --force-reinstall --no-deps <deepaas-lite's source tree or "
                "wheel>, or start "
                f"deepaas-lite with: python -m deepaas_lite.cmd.run ({REPAIR})",
                fatal=False,
            )
        )
    return found


def _is_ours(script: str) -> bool:
    """A console script generated for ``deepaas_lite.cmd.run:main`` names its module."""
    try:
        with open(script, "rb") as f:
            head = f.read(4096)
    except OSError:
        return True  # nothing to say about what cannot be read
    return b"deepaas_lite" in head or not os.path.isfile(script)
