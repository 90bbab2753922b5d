"""deepaas-lite: any installed machine-learning model as a documented REST API."""

from __future__ import annotations

__version__ = "0.1.0"

from deepaas_lite.exceptions import ModelNotReady
from deepaas_lite.model.progress import report_progress
from deepaas_lite.model.store import model_dir
from deepaas_lite.model.uploads import UploadedFile

__all__ = ["ModelNotReady", "UploadedFile", "__version__", "model_dir", "report_progress"]
