"""Typed keys of the application's state."""

from __future__ import annotations

from aiohttp import web

from deepaas_lite.config import Settings
from deepaas_lite.engine.protocol import Predictor
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.predictions.manager import PredictionJobManager
from deepaas_lite.training.manager import TrainingManager

SETTINGS = web.AppKey("settings", Settings)
MODELS = web.AppKey("models", dict[str, ModelWrapper])
PREDICTORS = web.AppKey("predictors", dict[str, Predictor])
TRAININGS = web.AppKey("trainings", TrainingManager)
PREDICTION_JOBS = web.AppKey("prediction_jobs", PredictionJobManager)
SPEC = web.AppKey("spec", bytes)
SWAGGER = web.AppKey("swagger", bytes)
OPEN_INFERENCE = web.AppKey("open_inference_paths", frozenset[str])
"""The paths of the Open Inference Protocol's routes (their errors carry ``"error"``)."""
