"""Batching and worker options: global flags and ``[model:<id>]`` config sections."""

from __future__ import annotations

from pathlib import Path

from deepaas_lite import config
from deepaas_lite.config import ModelOptions


def test_model_sections_override_the_global_options(tmp_path: Path) -> None:
    conf_file = tmp_path / "deepaas.conf"
    conf_file.write_text(
        "[DEFAULT]\nmax_batch_size = 16\n\n"
        "[model:echo]\npredict_workers = 2\nmax_batch_delay = 0.01\n\n"
        "[model:absent]\npredict_workers = 9\n"
    )
    conf = config.parse(["--config-file", str(conf_file), "--max-batch-delay", "0.002"])
    config.register_model_groups(conf, ["echo", "iris"])
    settings = config.Settings.from_conf(conf, ["echo", "iris"])
    assert settings.model_options == {"echo": ModelOptions(predict_workers=2, max_batch_delay=0.01)}
    assert settings.options_for("echo") == ModelOptions(2, 16, 0.01)
    assert settings.options_for("iris") == ModelOptions(0, 16, 0.002)


def test_defaults_leave_batching_to_the_plugin() -> None:
    settings = config.Settings.from_conf(config.parse([]))
    assert settings.options_for("echo") == ModelOptions(predict_workers=0)
