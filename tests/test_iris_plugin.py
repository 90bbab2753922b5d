"""The example plugin ``examples/iris_plugin``, called directly (no server)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import platformdirs
import pytest
from marshmallow import Schema, ValidationError

import deepaas_lite
from deepaas_lite.model import progress
from deepaas_lite.model.loading import load_models
from deepaas_lite.model.store import ModelStore, bound

plugin = pytest.importorskip("iris_deepaas.plugin", reason="pip install -e examples/iris_plugin")

SETOSA = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "models"
    monkeypatch.setenv(plugin.MODEL_DIR_ENV, str(directory))
    monkeypatch.setattr(plugin, "_loaded", {})
    yield directory


def _schema(fields: dict[str, Any]) -> Schema:
    return Schema.from_dict(fields)()


def test_predict_before_training_says_to_train(model_dir: Path) -> None:
    with pytest.raises(plugin.ModelNotTrainedError, match="train it first"):
        plugin.predict(data=SETOSA)
    assert isinstance(plugin.ModelNotTrainedError("x"), deepaas_lite.ModelNotReady)


def test_warm_without_a_model_is_quiet(model_dir: Path) -> None:
    plugin.warm()
    assert not model_dir.exists()


def test_warm_without_a_model_imports_what_loading_one_needs(tmp_path: Path) -> None:
    """So the first prediction after the first training does not wait for scikit-learn;
    importing the plugin (to list or describe it) still imports none of it."""
    check = (
        "import sys, iris_deepaas.plugin as p\n"
        "before = {m for m in ('joblib', 'sklearn.svm', 'numpy') if m in sys.modules}\n"
        "p.warm()\n"
        "print(sorted(before), 'sklearn.svm' in sys.modules, 'joblib' in sys.modules)\n"
    )
    env = {**os.environ, plugin.MODEL_DIR_ENV: str(tmp_path / "models")}
    out = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "True", "True"]
    assert not (tmp_path / "models").exists()


def test_train_saves_into_the_model_dir_atomically(model_dir: Path) -> None:
    result = plugin.train(**_schema(plugin.get_train_args()).load({}))

    assert result["model_path"] == str(model_dir / "iris-svc.joblib")
    assert Path(result["model_path"]).is_file()
    assert result["accuracy"] > 0.9
    assert result["train_samples"] + result["test_samples"] == 150
    assert os.listdir(model_dir) == ["iris-svc.joblib"]  # no temporary file left


def test_predict_after_training(model_dir: Path) -> None:
    plugin.train()
    args = _schema(plugin.get_predict_args()).load({"data": [str(v) for v in SETOSA]})

    assert plugin.predict(**args) == {"labels": [0]}
    assert plugin.predict(data=[6.7, 3.0, 5.2, 2.3]) == {"labels": [2]}


def test_predict_uses_a_newer_model_without_restart(model_dir: Path) -> None:
    from sklearn.dummy import DummyClassifier

    plugin.train()
    assert plugin.predict(data=SETOSA) == {"labels": [0]}

    # Another process (a training) replaces the file: the next predict must see it.
    always_two = DummyClassifier(strategy="constant", constant=2).fit([SETOSA], [2])
    tmp = model_dir / "replacement.tmp"
    joblib.dump(always_two, tmp)
    os.replace(tmp, model_dir / "iris-svc.joblib")

    assert plugin.predict(data=SETOSA) == {"labels": [2]}

    plugin.train(kernel="linear")
    assert plugin.predict(data=SETOSA) == {"labels": [0]}


def test_the_model_is_loaded_once(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin.train()
    plugin.warm()
    calls: list[Any] = []
    real_load = joblib.load
    monkeypatch.setattr(joblib, "load", lambda f: calls.append(f) or real_load(f))
    for _ in range(3):
        plugin.predict(data=SETOSA)
    assert calls == []


def test_under_deepaas_lite_each_training_writes_a_version_loaded_before_it_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(plugin.MODEL_DIR_ENV, raising=False)
    monkeypatch.setattr(plugin, "_loaded", {})
    store = ModelStore(tmp_path, "iris-deepaas")
    for version, kernel in [("one", "linear"), ("two", "rbf")]:
        with bound(store, version, training=True):
            result = plugin.train(kernel=kernel)
        assert result["model_path"] == str(store.path(version) / "iris-svc.joblib")
        assert store.add(version)
    plugin.load(store.path("one"))
    plugin.load(store.path("two"))
    calls: list[Any] = []
    real_load = joblib.load
    monkeypatch.setattr(joblib, "load", lambda f: calls.append(f) or real_load(f))
    for version in ("one", "two", "one"):
        with bound(store, version):
            assert plugin.predict(data=SETOSA) == {"labels": [0]}
    assert calls == []  # both versions were loaded by load(), none on a request


def test_train_reports_progress(model_dir: Path) -> None:
    seen: list[tuple[float, str]] = []
    progress.set_reporter(lambda fraction, message: seen.append((fraction, message)))
    try:
        plugin.train()
    finally:
        progress.set_reporter(None)
    fractions = [fraction for fraction, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)


def test_default_model_dir_is_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(plugin.MODEL_DIR_ENV, raising=False)
    expected = Path(platformdirs.user_data_dir("deepaas-lite")) / "models"
    assert plugin.model_dir() == expected / "iris-deepaas"


def test_train_args_defaults_and_validation() -> None:
    schema = _schema(plugin.get_train_args())
    assert schema.load({}) == {
        "C": 1.0,
        "kernel": "rbf",
        "degree": 3,
        "gamma": "scale",
        "test_size": 0.2,
        "random_state": 42,
    }
    for bad in ({"C": 0}, {"kernel": "sigmoid"}, {"test_size": 0.9}, {"degree": 0}):
        with pytest.raises(ValidationError):
            schema.load(bad)


def test_predict_args_want_four_numbers() -> None:
    schema = _schema(plugin.get_predict_args())
    for bad in ({}, {"data": [1.0, 2.0, 3.0]}, {"data": ["a", 1, 2, 3]}):
        with pytest.raises(ValidationError):
            schema.load(bad)
    assert "sepal length" in schema.fields["data"].metadata["description"]


def test_metadata_comes_from_the_distribution() -> None:
    meta = plugin.get_metadata()
    assert meta["name"] == "deepaas-lite-iris"
    assert meta["version"]
    assert meta["license"] == "Apache-2.0"
    assert {"description", "author", "url"} <= set(meta)


def test_registered_as_entry_point() -> None:
    model = load_models(["iris-deepaas"])["iris-deepaas"]
    assert model.plugin is plugin
    assert model.can_predict and model.can_train
    assert set(model.train_schema.fields) >= {"C", "kernel", "test_size"}


async def test_predict_before_training_is_503_and_not_logged_as_an_error(
    model_dir: Path, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A model that cannot answer yet is a state the client sees, not a server fault."""
    client = await make_client(models=load_models(["iris-deepaas"]))
    caplog.set_level("DEBUG")

    response = await client.post("/v2/models/iris-deepaas/predict/", json={"data": SETOSA})

    body = await response.json()
    assert response.status == 503
    assert body["code"] == 503
    assert "train it first" in body["message"]
    mine = [r for r in caplog.records if "train it first" in r.getMessage()]
    assert mine, "the refusal is logged"
    assert all(r.levelno < logging.ERROR and not r.exc_info for r in mine), [
        (r.levelname, r.getMessage()) for r in mine
    ]
