"""The ``iris-deepaas`` plugin: train an SVC on the IRIS flowers, predict their species.

A module plugin: deepaas-lite (or DEEPaaS 2.x) calls the functions below.

- ``train(**args)`` fits a ``sklearn.svm.SVC`` on ``sklearn.datasets.load_iris`` and
  saves it to :func:`model_path` (atomically: a temporary file, then ``os.replace``).
- ``load(path)`` loads a version that became current, before it serves (deepaas-lite
  calls it in the background, in every process that predicts).
- ``predict(data=[...])`` classifies one flower. The saved model is loaded once, and
  loaded again when a newer training has replaced the file.

Where the model lives:

- ``$DEEPAAS_IRIS_MODEL_DIR`` when that is set (one file, replaced by each training);
- else, under deepaas-lite, its model store (``deepaas_lite.model_dir()``): each
  training writes a version of its own, which is served once the training has ended
  ``done``; an older one can be made current again;
- else (DEEPaaS 2.x) ``platformdirs.user_data_dir("deepaas-lite")/models/iris-deepaas/``.

Never in the current directory.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import platformdirs
from marshmallow import fields, validate

try:  # deepaas-lite shows a training's progress; DEEPaaS 2.x has no such hook.
    from deepaas_lite import ModelNotReady, report_progress
    from deepaas_lite import model_dir as _store_dir
except ImportError:  # pragma: no cover - only without deepaas-lite
    _store_dir = None

    def report_progress(fraction: float, message: str = "") -> None:
        """Do nothing: the server in use cannot show progress."""

    class ModelNotReady(RuntimeError):  # type: ignore[no-redef]
        """Without deepaas-lite: an ordinary error (DEEPaaS answers 500)."""


MODEL_ID = "iris-deepaas"
DISTRIBUTION = "deepaas-lite-iris"
MODEL_DIR_ENV = "DEEPAAS_IRIS_MODEL_DIR"
MODEL_FILE = "iris-svc.joblib"

SPECIES = ("setosa", "versicolor", "virginica")  # label 0, 1, 2


class ModelNotTrainedError(ModelNotReady):
    """``predict`` was called before any training saved a model.

    A ``deepaas_lite.ModelNotReady``: deepaas-lite answers 503 with the message, a state
    of the model that a client can fix (train it), not a failure of the server.
    """


# --- where the model lives --------------------------------------------------------


def model_dir() -> Path:
    """The directory of the saved model (see the module's doc), at every call."""
    configured = os.environ.get(MODEL_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    if _store_dir is not None:
        with contextlib.suppress(RuntimeError):  # outside a call made by deepaas-lite
            return _store_dir()
    return Path(platformdirs.user_data_dir("deepaas-lite")) / "models" / MODEL_ID


def model_path() -> Path:
    """The saved model's file."""
    return model_dir() / MODEL_FILE


def _save(model: Any, path: Path) -> None:
    """Write ``model`` to ``path``: readers see the old file or the new one, whole."""
    import joblib  # here, not at import: listing or describing the plugin needs no numpy

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            joblib.dump(model, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --- the loaded model, reloaded when a training replaced the file -----------------

_FileKey = tuple[str, int, int, int, int]

_lock = threading.Lock()
# The models loaded, by file: the one served and, while a new version loads, the next.
_loaded: dict[str, tuple[_FileKey, Any]] = {}
_KEEP = 2


def _key(path: Path, st: os.stat_result) -> _FileKey:
    return (str(path), st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def _current_model(path: Path | None = None) -> Any:
    """The saved model (of ``path``, default ``model_path()``), loaded again only when
    the file changed since the last load."""
    import joblib

    path = model_path() if path is None else path
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ModelNotTrainedError(
            f"No trained model yet (looked for {path}): train it first"
        ) from None
    with _lock:
        loaded = _loaded.get(str(path))
        if loaded is None or loaded[0] != _key(path, st):
            with path.open("rb") as f:
                # Key by the file actually read, in case it was replaced meanwhile.
                loaded = (_key(path, os.fstat(f.fileno())), joblib.load(f))
            _loaded.pop(str(path), None)
            _loaded[str(path)] = loaded
            while len(_loaded) > _KEEP:
                del _loaded[next(iter(_loaded))]
        return loaded[1]


# --- the plugin contract ----------------------------------------------------------


def get_metadata() -> dict[str, Any]:
    """Name, version, description, author, license and url, from the distribution."""
    try:
        meta = importlib.metadata.metadata(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return {"name": DISTRIBUTION, "description": "An SVM classifier of IRIS"}
    out = {
        "name": meta.get("Name"),
        "version": meta.get("Version"),
        "description": meta.get("Summary"),
        "author": meta.get("Author") or meta.get("Author-email"),
        "license": meta.get("License") or meta.get("License-Expression"),
        "url": meta.get("Home-page") or _homepage(meta.get_all("Project-URL") or []),
    }
    return {key: value for key, value in out.items() if value}


def _homepage(project_urls: list[str]) -> str | None:
    """The ``Homepage`` of the ``Project-URL`` fields (``label, url``), if there is one."""
    for entry in project_urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "homepage":
            return url.strip()
    return None


def warm() -> None:
    """Load the saved model ahead of the first prediction, if there is one yet.

    Without one, import what loading one needs (joblib, and scikit-learn's SVC with
    SciPy: about 0.8 s), so that the first prediction after the first training does
    not wait for it. The server warms a model once, in the background, in the process
    that will predict; listing or describing the plugin imports none of it.
    """
    try:
        _current_model()
    except ModelNotTrainedError:
        import joblib  # noqa: F401
        import sklearn.svm  # noqa: F401


def load(path: Path) -> None:
    """Load the version of the model store in ``path`` before it serves (deepaas-lite)."""
    _current_model(path / MODEL_FILE)


def get_train_args() -> dict[str, fields.Field]:
    return {
        "C": fields.Float(
            load_default=1.0,
            validate=validate.Range(min=0, min_inclusive=False),
            metadata={"description": "Regularisation, > 0; smaller is stronger."},
        ),
        "kernel": fields.Str(
            load_default="rbf",
            validate=validate.OneOf(["linear", "rbf", "poly"]),
            metadata={"description": "Kernel of the support vector machine."},
        ),
        "degree": fields.Int(
            load_default=3,
            validate=validate.Range(min=1, max=10),
            metadata={"description": "Degree of the polynomial kernel (poly only)."},
        ),
        "gamma": fields.Str(
            load_default="scale",
            validate=validate.OneOf(["scale", "auto"]),
            metadata={"description": "Kernel coefficient of rbf and poly."},
        ),
        "test_size": fields.Float(
            load_default=0.2,
            validate=validate.Range(min=0.1, max=0.5),
            metadata={"description": "Share of flowers held out to measure accuracy."},
        ),
        "random_state": fields.Int(
            load_default=42,
            validate=validate.Range(min=0),
            metadata={"description": "Seed of the train/test split."},
        ),
    }


def train(**args: Any) -> dict[str, Any]:
    """Fit an SVC on IRIS, save it, and answer its accuracy on the held-out flowers."""
    from sklearn import datasets, svm
    from sklearn.model_selection import train_test_split

    report_progress(0.0, "loading the IRIS data set")
    x, y = datasets.load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x,
        y,
        test_size=args.get("test_size", 0.2),
        random_state=args.get("random_state", 42),
        stratify=y,
    )
    report_progress(0.2, "fitting the SVC")
    model = svm.SVC(
        C=args.get("C", 1.0),
        kernel=args.get("kernel", "rbf"),
        degree=args.get("degree", 3),
        gamma=args.get("gamma", "scale"),
    )
    model.fit(x_train, y_train)
    accuracy = float(model.score(x_test, y_test))
    report_progress(0.8, "saving the model")
    path = model_path()
    _save(model, path)
    report_progress(1.0, f"accuracy {accuracy:.3f}")
    return {
        "accuracy": accuracy,
        "train_samples": len(y_train),
        "test_samples": len(y_test),
        "model_path": str(path),
    }


def get_predict_args() -> dict[str, fields.Field]:
    return {
        "data": fields.List(
            fields.Float(),
            required=True,
            validate=validate.Length(equal=4),
            metadata={
                "description": "One flower's measurements, in cm: sepal length, "
                "sepal width, petal length, petal width.",
                "example": [5.1, 3.5, 1.4, 0.2],
            },
        ),
    }


# What ``predict`` answers for the example above (a setosa): the document shows it.
predict_example = {"labels": [0]}


def predict(**args: Any) -> dict[str, list[int]]:
    """The flower's species as a label: 0 setosa, 1 versicolor, 2 virginica."""
    model = _current_model()
    labels = model.predict([args["data"]])
    return {"labels": [int(label) for label in labels]}
