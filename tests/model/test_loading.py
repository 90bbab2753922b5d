from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from deepaas_lite import exceptions
from deepaas_lite.model import loading
from deepaas_lite.model.wrapper import ModelWrapper
from tests.conftest import marshmallow_major


def test_loads_module_class_and_object_plugins(models: dict[str, ModelWrapper]) -> None:
    assert {"echo", "class-plugin", "object-plugin", "bare"} <= set(models)
    from deepaas_lite_test_plugins import shapes

    assert isinstance(models["class-plugin"].plugin, shapes.ClassPlugin)
    assert models["object-plugin"].plugin is shapes.OBJECT_PLUGIN


def test_class_plugin_is_instantiated_once() -> None:
    from deepaas_lite_test_plugins import shapes

    before = len(shapes.INSTANCES)
    model = loading.load_model("class-plugin")
    assert len(shapes.INSTANCES) == before + 1
    model.predict({"x": 1})
    model.predict({"x": 2})
    assert len(shapes.INSTANCES) == before + 1


def test_broken_plugins_are_logged_and_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        models = loading.load_models()
    assert "broken-import" not in models
    assert "broken-args" not in models
    assert "echo" in models
    text = caplog.text
    assert "broken-import" in text and "library that is not installed" in text
    assert "broken-args" in text and "cannot describe my arguments" in text


def test_selected_names_only() -> None:
    models = loading.load_models(["echo", "bare"])
    assert sorted(models) == ["bare", "echo"]


def test_unknown_name_is_named() -> None:
    with pytest.raises(exceptions.UnknownModelNames, match="no-such-model"):
        loading.load_models(["echo", "no-such-model"])


def test_metadata_from_distribution_when_plugin_has_none(
    models: dict[str, ModelWrapper],
) -> None:
    meta = models["bare"].metadata()
    assert meta["name"] == "deepaas-lite-test-plugins"
    assert meta["version"] == "1.2.3"
    assert meta["description"].startswith("Fake plugins")
    assert meta["author"] == "The deepaas-lite tests"
    assert meta["license"] == "Apache-2.0"
    assert meta["url"] == "https://example.invalid/test-plugins"


def test_plugin_metadata_wins(models: dict[str, ModelWrapper]) -> None:
    assert models["echo"].metadata()["description"] == "Echoes its arguments"


def test_missing_attributes_have_defaults(models: dict[str, ModelWrapper]) -> None:
    bare = models["bare"]
    assert not bare.can_predict and not bare.can_train
    assert bare.predict_schema.fields == {}
    assert bare.response_schema is None
    with pytest.raises(exceptions.NotImplementedByModel):
        bare.predict({})
    bare.warm()


def test_marshmallow_3_keyword_plugin(models: dict[str, ModelWrapper]) -> None:
    if marshmallow_major() >= 4:
        assert "mm3-keywords" not in models  # marshmallow 4 rejects keyword metadata
        return
    model = models["mm3-keywords"]
    data = model.predict_schema.fields["data"]
    assert data.metadata["type"] == "file"
    assert data.metadata["description"] == "Data file to process"


def test_a_missing_file_is_named_with_the_remedy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """AI4OS-template plugins read files of their source tree at import (ai4os-demo-app:
    ``ai4-metadata.yml``); installed without ``-e`` the file is not there, and the log
    line must say which file, and what to do."""
    from deepaas_lite.model import plugin_files

    monkeypatch.chdir(tmp_path)
    plugin = tmp_path / "reads_its_tree.py"
    plugin.write_text("open('ai4-metadata.yml')\n")
    plugin_files.export(plugin_files.parse_all([str(plugin)]))
    try:
        with caplog.at_level(logging.ERROR):
            assert loading.load_models() == {}
    finally:
        sys.modules.pop("reads_its_tree", None)
        monkeypatch.delenv(plugin_files.ENV, raising=False)
    (line,) = [r.getMessage() for r in caplog.records if "reads_its_tree" in r.getMessage()]
    assert f"'{tmp_path / 'ai4-metadata.yml'}'" in line, line
    assert "pip install --no-deps -e" in line, line
