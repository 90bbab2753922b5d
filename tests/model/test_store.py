"""The model store and a plugin's versions, without a server."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from deepaas_lite import exceptions, model_dir
from deepaas_lite.model.store import ModelStore, bound
from deepaas_lite.model.wrapper import ModelWrapper


def written(store: ModelStore, version: str, text: str = "") -> None:
    with bound(store, version, training=True):
        (model_dir() / "model.txt").write_text(text or version)


def test_a_version_is_current_once_added(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    assert store.current() is None and store.versions() == []
    assert not store.add("never-written")  # a training that wrote nothing
    written(store, "one")
    assert store.current() is None  # written is not current
    assert store.add("one")
    written(store, "two")
    assert store.add("two")
    assert store.current() == "two"
    assert [v.version for v in store.versions()] == ["one", "two"]
    described = store.describe()
    assert described["current"] == "two"
    assert [(v["version"], v["current"]) for v in described["versions"]] == [
        ("one", False),
        ("two", True),
    ]
    assert sorted(p.name for p in store.directory.iterdir()) == ["store.json", "versions"]


def test_make_current_and_discard(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    for version in ("one", "two"):
        written(store, version)
        store.add(version)
    store.make_current("one")
    assert store.current() == "one"
    with pytest.raises(exceptions.VersionNotFound):
        store.make_current("nope")
    with pytest.raises(exceptions.VersionInUse):
        store.discard("one")
    store.discard("two")
    assert [v.version for v in store.versions()] == ["one"]
    assert not store.path("two").exists()


def test_remove_unfinished_keeps_finished_and_kept_versions(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    for version in ("done", "interrupted", "pending"):
        written(store, version)
    store.add("done")
    store.remove_unfinished(keep={"pending"})
    assert sorted(p.name for p in (store.directory / "versions").iterdir()) == ["done", "pending"]


def test_model_dir_is_known_only_inside_a_plugin_call(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def outside() -> None:  # a thread of its own: no plugin call ever ran in it
        try:
            model_dir()
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=outside)
    thread.start()
    thread.join()
    assert "only known inside a plugin call" in str(errors[0])
    store = ModelStore(tmp_path, "m")
    with bound(store, None):
        assert not model_dir().exists()  # untrained: a directory that does not exist
    with bound(None, "v"), pytest.raises(RuntimeError, match="no model store"):
        model_dir()


class Versioned:
    """Loads ``model.txt`` of a version; its load waits for ``release`` when set."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.release: threading.Event | None = None
        self.fail = False
        self.loading = threading.Event()

    def load(self, path: Path) -> None:
        self.loading.set()
        if self.release is not None:
            assert self.release.wait(30)
        if self.fail:
            raise RuntimeError("cannot load")
        self.text = (path / "model.txt").read_text()

    def warm(self) -> None:
        path = model_dir()
        if path.exists():
            self.load(path)

    def predict(self) -> Any:
        return {"text": self.text, "dir": str(model_dir())}


def until_loaded(model: ModelWrapper, version: str | None) -> str:
    state = "loading"
    for _ in range(600):
        _, state = model.start_loading(version)
        if state != "loading":
            return state
        threading.Event().wait(0.05)
    return state


def test_the_previous_version_serves_while_the_new_one_loads(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    written(store, "one")
    store.add("one")
    plugin = Versioned()
    model = ModelWrapper("m", plugin)
    model.attach(store)
    model.warm()
    assert model.version == "one" and model.predict({})["text"] == "one"

    written(store, "two")
    store.add("two")
    plugin.release = threading.Event()
    plugin.loading.clear()
    _, state = model.start_loading("two")
    assert state == "loading"
    assert plugin.loading.wait(30)
    # Loading: the previous version answers, from its own directory.
    assert model.predict({}) == {"text": "one", "dir": str(store.path("one"))}
    assert model.start_loading("two")[1] == "loading"  # asking again starts nothing new
    plugin.release.set()
    assert until_loaded(model, "two") == "loaded"
    assert model.version == "two"
    assert model.predict({}) == {"text": "two", "dir": str(store.path("two"))}


def test_a_version_that_fails_to_load_leaves_the_previous_one(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    for version in ("one", "two"):
        written(store, version)
        store.add(version)
    store.make_current("one")
    plugin = Versioned()
    model = ModelWrapper("m", plugin)
    model.attach(store)
    model.warm()
    plugin.fail = True
    assert until_loaded(model, "two").startswith("failed: RuntimeError('cannot load')")
    assert until_loaded(model, "two").startswith("failed")  # not tried again meanwhile
    assert model.version == "one" and model.predict({})["text"] == "one"
    # Asked for again after another version (a rollback, then forward), it is retried.
    plugin.fail = False
    assert until_loaded(model, "one") == "loaded"
    assert until_loaded(model, "two") == "loaded"
    assert model.predict({})["text"] == "two"


def test_without_load_warm_is_called_again(tmp_path: Path) -> None:
    class WarmOnly:
        def __init__(self) -> None:
            self.dirs: list[Path] = []

        def warm(self) -> None:
            self.dirs.append(model_dir())

    store = ModelStore(tmp_path, "m")
    plugin = WarmOnly()
    model = ModelWrapper("m", plugin)
    model.attach(store)
    model.warm()
    written(store, "one")
    store.add("one")
    assert until_loaded(model, "one") == "loaded"
    assert plugin.dirs == [store.path(None), store.path("one")]


class NeedsAVersion(Versioned):
    """Refuses to predict as not ready until a version is loaded, as iris does."""

    def predict(self) -> Any:
        if self.text is None:
            raise exceptions.ModelNotReady("No trained model yet")
        return super().predict()


def test_the_first_version_is_waited_for_instead_of_a_503(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    plugin = NeedsAVersion()
    model = ModelWrapper("m", plugin)
    model.attach(store)
    with pytest.raises(exceptions.ModelNotReady):
        model.predict({})  # nothing loading: refused at once
    written(store, "one")
    store.add("one")
    plugin.release = threading.Event()
    assert model.start_loading("one")[1] == "loading"
    assert plugin.loading.wait(30)
    answers: list[Any] = []
    waiting = threading.Thread(target=lambda: answers.append(model.predict({})))
    waiting.start()
    waiting.join(0.2)
    assert waiting.is_alive() and answers == []  # held while the first version loads
    plugin.release.set()
    waiting.join(30)
    assert answers == [{"text": "one", "dir": str(store.path("one"))}]


async def test_on_the_event_loop_a_refused_prediction_does_not_wait(tmp_path: Path) -> None:
    store = ModelStore(tmp_path, "m")
    written(store, "one")
    store.add("one")
    plugin = NeedsAVersion()
    plugin.release = threading.Event()
    model = ModelWrapper("m", plugin)
    model.attach(store)
    assert model.start_loading("one")[1] == "loading"
    try:
        with pytest.raises(exceptions.ModelNotReady):
            model.predict({})  # the loop's thread must never block on a load
    finally:
        plugin.release.set()
    assert until_loaded(model, "one") == "loaded"
