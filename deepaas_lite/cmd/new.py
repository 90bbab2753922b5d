"""``deepaas-cli new NAME``: write a plugin package that installs, tests, serves, trains
and predicts as it is.

The package is plain files (``new_template/``, ``string.Template`` placeholders
``${name}``, ``${package}``, ``${deepaas_version}``): a ``pyproject.toml`` with the
entry point, a module with ``train``, ``predict``, their arguments and the model store
in use, a test that runs it through HTTP, and a README with the two commands.
"""

from __future__ import annotations

import argparse
import re
import string
import sys
from collections.abc import Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from deepaas_lite import __version__

TEMPLATE = "new_template"
SUFFIX = ".tmpl"
# Template paths that are named after the project.
RENAMED = {"package": "${package}", "gitignore": ".gitignore"}

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*([-_.][A-Za-z0-9]+)*$")


def package_name(name: str) -> str:
    """The Python package of project ``name``: ``my-model`` -> ``my_model``."""
    return re.sub(r"[-.]", "_", name).lower()


def files(name: str) -> dict[Path, str]:
    """The package's files, by path relative to its directory."""
    values = {
        "name": name,
        "package": package_name(name),
        "deepaas_version": __version__,
    }
    out: dict[Path, str] = {}

    def walk(node: Traversable, parts: tuple[str, ...]) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            base = child.name.removesuffix(SUFFIX)
            renamed = string.Template(RENAMED.get(base, base)).substitute(values)
            if child.is_dir():
                walk(child, (*parts, renamed))
            elif child.name.endswith(SUFFIX):
                text = string.Template(child.read_text(encoding="utf-8")).substitute(values)
                out[Path(*parts, renamed)] = text

    walk(resources.files("deepaas_lite.cmd").joinpath(TEMPLATE), ())
    return out


def write(name: str, directory: Path) -> list[Path]:
    """Write the package for ``name`` into ``directory`` (absent or empty)."""
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} exists and is not empty")
    written = []
    for relative, text in files(name).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="deepaas-cli new",
        description="Write a ready deepaas-lite plugin package: pyproject.toml with its "
        "entry point, a model with train and predict, a test through HTTP, a README.",
        allow_abbrev=False,
    )
    parser.add_argument("name", metavar="NAME", help="The project's name and the model's id.")
    parser.add_argument(
        "--directory",
        metavar="DIR",
        help="Where to write it (absent or empty). Default: ./NAME",
    )
    args = parser.parse_args(argv)
    if not _NAME.match(args.name):
        print(
            f"deepaas-cli new: {args.name!r} is not a project name (letters and digits, "
            "joined by -, _ or .; a letter first)",
            file=sys.stderr,
        )
        return 2
    directory = Path(args.directory or args.name)
    try:
        write(args.name, directory)
    except OSError as exc:
        print(f"deepaas-cli new: {exc}", file=sys.stderr)
        return 2
    package = package_name(args.name)
    print(
        f"Wrote {directory}/ (model '{args.name}'). Next:\n"
        f"  cd {directory}\n"
        f"  pip install -e .\n"
        f"  deepaas-run --model-name {args.name}\n"
        f"While you edit {package}/plugin.py:\n"
        f"  deepaas-run --plugin {args.name}={package}/plugin.py --reload"
    )
    return 0
