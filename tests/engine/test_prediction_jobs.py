"""What a prediction job's output is (``encode``), without HTTP: a prediction's as the
synchronous predict answers it, an inference's as its V2 answer, in JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from marshmallow import fields

from deepaas_lite import exceptions
from deepaas_lite.engine.prediction_jobs import INFERENCE, PREDICTION, calls_of, encode
from deepaas_lite.engine.protocol import Job
from deepaas_lite.model.inference import Inference, Signature
from deepaas_lite.model.wrapper import ModelWrapper


class Plugin:
    """A plugin whose outputs the tests give (encode never calls it)."""

    def get_predict_args(self) -> dict[str, fields.Field]:
        return {"text": fields.Bool(load_default=True)}

    def predict(self, **kwargs: Any) -> Any:
        return {"scores": [0.5, 1.5], "label": "cat"}


def test_an_inference_job_is_its_v2_answer_as_json() -> None:
    model = ModelWrapper("m", Plugin())
    inference = Inference([{"text": True}, {"text": False}], True, "r-1", (("scores", True),))
    job = Job("u", "m", INFERENCE, inference.job_args())
    assert calls_of(job) == [{"text": True}, {"text": False}]
    output = {"scores": [0.5, 1.5], "label": "cat"}
    produced = encode(model, job, [output, output])
    assert produced.content_type == "application/json"
    expected = {
        "model_name": "m",
        "id": "r-1",
        "outputs": [
            {"name": "scores", "datatype": "FP64", "shape": [2, 2], "data": [0.5, 1.5, 0.5, 1.5]}
        ],
    }
    assert produced.value == expected and json.loads(produced.body) == expected
    # The same answer as the synchronous infer's when it asks for JSON (binary data aside).
    synchronous = Signature.of(model).answer(Inference(inference.calls, True, "r-1"), [output] * 2)
    assert synchronous.header["outputs"][0] == expected["outputs"][0]


def test_bytes_that_are_not_text_cannot_be_a_jobs_json() -> None:
    model = ModelWrapper("m", Plugin())
    job = Job("u", "m", INFERENCE, Inference([{}], False, "").job_args())
    with pytest.raises(exceptions.InvalidResponse, match="not UTF-8 text"):
        encode(model, job, [b"\x89PNG\xff\x00"])
    text = encode(model, job, [b"plain text"]).value
    assert text["outputs"] == [
        {"name": "predictions", "datatype": "BYTES", "shape": [1], "data": ["plain text"]}
    ]


def test_a_prediction_job_is_predicts_answer() -> None:
    model = ModelWrapper("m", Plugin())
    job = Job("u", "m", PREDICTION, {"text": True})
    assert calls_of(job) == [{"text": True}]
    produced = encode(model, job, [{"label": "cat"}])
    assert produced.value == {"label": "cat"} and produced.content_type == "application/json"
