"""Plugins served from a file (``--plugin [ID=]PATH[:OBJECT]``), loaded in this process."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from deepaas_lite import exceptions
from deepaas_lite.model import loading, plugin_files

SOURCE = '''
"""A plugin in a file: a module, a class and an object."""
from marshmallow import fields

from {helper} import FACTOR

INSTANCES = []


def get_predict_args():
    return {{"x": fields.Int(load_default=1)}}


def predict(x=1):
    return {{"module": x * FACTOR}}


class Tripler:
    def __init__(self):
        INSTANCES.append(self)

    def get_predict_args(self):
        return {{"x": fields.Int(load_default=1)}}

    def predict(self, x=1):
        return {{"class": 3 * x}}


class Holder:
    class Inner:
        @staticmethod
        def predict():
            return "nested"


OBJECT = Tripler()
'''


@pytest.fixture
def plugin_file(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A plugin file importing a neighbour module, both with names of their own."""
    stem = f"file_plugin_{request.node.name}".replace("[", "_").replace("]", "")
    helper = f"{stem}_helper"
    (tmp_path / f"{helper}.py").write_text("FACTOR = 10\n")
    path = tmp_path / f"{stem}.py"
    path.write_text(textwrap.dedent(SOURCE.format(helper=helper)))
    yield path
    for name in (stem, helper):
        sys.modules.pop(name, None)
    if str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))


@pytest.fixture(autouse=True)
def _no_exported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(plugin_files.ENV, raising=False)


def test_parse_id_path_and_object(plugin_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(plugin_file.parent)
    plain = plugin_files.parse(plugin_file.name)
    assert (plain.id, plain.path, plain.object) == (plugin_file.stem, plugin_file, None)
    named = plugin_files.parse(f"my-model={plugin_file.name}:Holder.Inner")
    assert (named.id, named.path, named.object) == ("my-model", plugin_file, "Holder.Inner")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("missing.py", "is not a Python file"),
        ("README", "is not a Python file"),
        ("bad id!={file}", "is not a Python file"),
    ],
)
def test_parse_refuses_what_it_cannot_serve(plugin_file: Path, value: str, message: str) -> None:
    with pytest.raises(exceptions.ModelLoadError, match=message):
        plugin_files.parse(value.format(file=plugin_file), base=plugin_file.parent)


def test_two_plugins_with_one_id_are_refused(plugin_file: Path) -> None:
    with pytest.raises(exceptions.ModelLoadError, match="taken by"):
        plugin_files.parse_all([str(plugin_file), f"{plugin_file}:OBJECT"])


def test_module_class_and_object_are_served(plugin_file: Path) -> None:
    files = plugin_files.parse_all(
        [
            str(plugin_file),
            f"tripler={plugin_file}:Tripler",
            f"object={plugin_file}:OBJECT",
            f"nested={plugin_file}:Holder.Inner",
        ]
    )
    plugin_files.export(files)
    models = loading.load_models(list(files))
    assert list(models) == sorted(files)
    assert models[plugin_file.stem].predict({"x": 2}) == {"module": 20}
    assert models["tripler"].predict({"x": 2}) == {"class": 6}
    assert models["object"].predict({"x": 4}) == {"class": 12}
    assert models["nested"].predict({}) == "nested"
    module = sys.modules[plugin_file.stem]
    assert models["object"].plugin is module.OBJECT
    assert type(models["tripler"].plugin) is module.Tripler
    assert models["tripler"].metadata()["name"] == "tripler"
    assert str(plugin_file) in models["tripler"].metadata()["description"]


def test_exported_files_are_the_default_and_mix_with_entry_points(plugin_file: Path) -> None:
    plugin_files.export(plugin_files.parse_all([f"mine={plugin_file}"]))
    assert list(loading.load_models()) == ["mine"]
    assert list(loading.load_models(["echo", "mine"])) == ["echo", "mine"]
    assert loading.load_model("mine").predict({"x": 1}) == {"module": 10}


def test_a_file_that_fails_is_left_out_with_its_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "file_plugin_broken.py"
    broken.write_text("import not_installed_anywhere\n")
    missing = tmp_path / "file_plugin_no_object.py"
    missing.write_text("x = 1\n")
    plugin_files.export(plugin_files.parse_all([str(broken), f"{missing}:Nope"]))
    assert loading.load_models() == {}
    assert "not_installed_anywhere" in caplog.text
    assert "has no attribute 'Nope'" in caplog.text
    assert "file_plugin_broken" not in sys.modules
    sys.modules.pop("file_plugin_no_object", None)
