"""DEEPaaS's DEEPAAS_V2_MODEL variable names the model when --model-name does not."""

from __future__ import annotations

import pytest

from deepaas_lite import config
from deepaas_lite.compat import model_variable


def test_deepaas_v2_model_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPAAS_V2_MODEL", "echo")
    assert model_variable.model_names(config.parse([])) == ["echo"]
    assert model_variable.model_names(config.parse(["--model-name", "bare"])) == ["bare"]
    monkeypatch.delenv("DEEPAAS_V2_MODEL")
    assert model_variable.model_names(config.parse([])) == []
    assert config.parse(["-d"]).debug
