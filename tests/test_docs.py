"""The docs promise only what is true: commands that work, pages that are listed,
installs that need no package index, Markdown that renders as written."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_config_sample_command_writes_etc_s_sample(tmp_path: Path) -> None:
    """The command docs/operators.md gives, run in a copy of the source tree's etc/,
    writes the committed sample exactly."""
    (command,) = re.findall(r"`(oslo-config-generator [^`]*)`", _text(ROOT / "docs/operators.md"))
    shutil.copytree(ROOT / "etc", tmp_path / "etc")
    (tmp_path / "etc" / "deepaas_lite.conf.sample").unlink()
    tool = Path(sys.executable).with_name("oslo-config-generator")
    proc = subprocess.run(
        [str(tool), *command.split()[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    written = tmp_path / "etc" / "deepaas_lite.conf.sample"
    produced = written.read_text() if written.exists() else proc.stdout
    assert produced == _text(ROOT / "etc" / "deepaas_lite.conf.sample")


# `pip install deepaas-lite`, `pip install 'deepaas-lite[ray]'`, `--no-deps deepaas-lite`:
# a requirement by name, which only a package index could satisfy.
FROM_AN_INDEX = re.compile(r"pip install[^`\n#]*?(?<![\w./<-])deepaas-lite(?![\w./>-])")


@pytest.mark.parametrize(
    "path",
    [*PAGES, ROOT / "deepaas_lite/compat/environment.py"],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_no_install_from_a_package_index(path: Path) -> None:
    """deepaas-lite is on no package index: every install is from its source tree or a
    wheel (the Dockerfile in docs/operators.md included)."""
    assert FROM_AN_INDEX.findall(_text(path)) == []


def test_the_home_page_lists_every_guide() -> None:
    nav = re.findall(r"^\s*- [^:]+: (\S+\.md)$", _text(ROOT / "mkdocs.yml"), re.MULTILINE)
    index = _text(ROOT / "docs" / "index.md")
    missing = [page for page in nav if page != "index.md" and f"]({page})" not in index]
    assert missing == []


@pytest.mark.parametrize("path", [ROOT / "README.md", ROOT / "docs/index.md"])
def test_working_unchanged_is_said_with_its_condition(path: Path) -> None:
    """DEEPaaS plugins work without code changes only once installed as the migration
    guide says: where that is claimed, the guide is named."""
    text = _text(path)
    assert not re.search(r"\b(work|works|runs) unchanged\b", text)
    assert "migration.md" in text


def test_the_plugin_guide_says_it_too() -> None:
    text = _text(ROOT / "docs/plugin-guide.md")
    assert not re.search(r"\b(work|works|runs) unchanged\b", text)
    assert "(To check" not in text


def test_benchmark_flags_are_deepaas_run_options() -> None:
    from oslo_config import cfg

    from deepaas_lite import config

    opts = [opt for _, group in config.list_opts() for opt in group]
    options = {f"--{opt.name}" for opt in opts}
    options |= {f"--no{opt.name}" for opt in opts if isinstance(opt, cfg.BoolOpt)}
    for path in (ROOT / "benchmarks/README.md", ROOT / "benchmarks/bench.py"):
        for flags in re.findall(r"--server-flags '[^=']*=([^']*)'", _text(path)):
            for flag in re.findall(r"--[a-z][\w-]*", flags):
                assert flag in options, (path.name, flag)


def test_the_iris_example_has_a_real_home_page() -> None:
    project = tomllib.loads(_text(ROOT / "examples/iris_plugin/pyproject.toml"))["project"]
    url = project["urls"]["Homepage"]
    assert url.startswith("https://") and ".invalid" not in url


def test_allowed_host_is_said_to_replace_the_defaults() -> None:
    from deepaas_lite.web.hosts import allowed_hosts

    assert allowed_hosts("127.0.0.1", ["models.example.org"]) == ("models.example.org",)
    row = next(
        line
        for line in _text(ROOT / "docs/operators.md").splitlines()
        if line.startswith("| `--allowed-host")
    )
    assert "replace" in row
    assert "replaces that default list" in _text(ROOT / "docs/security.md")


def test_the_test_time_in_the_readme_has_its_conditions() -> None:
    text = _text(ROOT / "README.md")
    assert "about 7 minutes" not in text
    assert re.search(r"\d+ to \d+ minutes on a 2-core machine [^.]*\(measured in \w+ \d{4}\)", text)


def test_the_markdown_lints_clean() -> None:
    """What ``tox -e docs`` runs: pymarkdown, with a rule of ours for a fence that did
    not close (text after a closing fence swallowed a section of the plugin guide)."""
    lint = ROOT / ".ci" / "markdown"
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("pymarkdown")),
            "--strict-config",
            "--config",
            str(lint / "pymarkdown.json"),
            "--add-plugin",
            str(lint / "fence_in_code.py"),
            "scan",
            "README.md",
            "docs",
            "examples/iris_plugin/README.md",
            "benchmarks/README.md",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_fence_rule_finds_a_fence_that_did_not_close(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n```python\nx = 1\n``` More text, meant as prose.\n\n## Files\n\n"
        "```python\ny = 2\n```\n"
    )
    lint = ROOT / ".ci" / "markdown"
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("pymarkdown")),
            "--add-plugin",
            str(lint / "fence_in_code.py"),
            "-d",
            "md040",
            "scan",
            str(page),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "DL001" in proc.stdout


def test_ci_runs_the_test_command_of_the_readme() -> None:
    readme = _text(ROOT / "README.md")
    intro = readme.index("Install and run the whole test suite")
    fence = re.search(r"```bash\n(.+?)\n```", readme[intro:], re.S)
    assert fence is not None
    command = fence.group(1)
    assert "tox" in command
    assert command in _text(ROOT / ".ci/run").splitlines()
