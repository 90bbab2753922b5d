"""A plugin whose argument schema cannot be built."""

from __future__ import annotations


def get_predict_args() -> dict[str, object]:
    raise RuntimeError("cannot describe my arguments")


def predict(**kwargs: object) -> None:
    return None
