"""The IRIS SVC shared by ``svc`` and ``svc_batch``: trained once per process."""

from __future__ import annotations

import functools
from typing import Any

from marshmallow import fields, validate


@functools.cache
def model() -> Any:
    """An SVC fitted on the IRIS data set that scikit-learn ships (no download)."""
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    iris = load_iris()
    return SVC(gamma="scale").fit(iris.data, iris.target)


@functools.cache
def class_names() -> list[str]:
    from sklearn.datasets import load_iris

    return [str(name) for name in load_iris().target_names]


def predict_args() -> dict[str, fields.Field]:
    """``data``: the four measurements of one flower."""
    return {
        "data": fields.List(
            fields.Float(),
            required=True,
            validate=validate.Length(equal=4),
            metadata={
                "description": "sepal length, sepal width, petal length and petal width, in cm"
            },
        )
    }


def classify(rows: list[list[float]]) -> list[dict[str, Any]]:
    """One ``{"label", "class"}`` per row, in a single vectorised call."""
    labels = model().predict(rows)
    names = class_names()
    return [{"label": int(label), "class": names[int(label)]} for label in labels]
