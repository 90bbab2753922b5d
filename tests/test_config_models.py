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
    echo, iris = settings.options_for("echo"), settings.options_for("iris")
    assert (echo.predict_workers, echo.max_batch_size, echo.max_batch_delay) == (2, 16, 0.01)
    assert (iris.predict_workers, iris.max_batch_size, iris.max_batch_delay) == (1, 16, 0.002)


def test_defaults_one_worker_process_and_batching_left_to_the_plugin() -> None:
    settings = config.Settings.from_conf(config.parse([]))
    echo = settings.options_for("echo")
    assert (echo.predict_workers, echo.max_batch_size, echo.max_batch_delay) == (1, None, None)
    threads = config.Settings.from_conf(config.parse(["--predict-workers", "0"]))
    assert threads.options_for("echo").predict_workers == 0


def test_predict_limits_globally_and_per_model(tmp_path: Path) -> None:
    conf_file = tmp_path / "deepaas.conf"
    conf_file.write_text(
        "[DEFAULT]\npredict_timeout = 30\n\n"
        "[model:echo]\npredict_concurrency = 2\npredict_queue_max = 0\npredict_timeout = 0\n"
    )
    conf = config.parse(["--config-file", str(conf_file), "--predict-queue-max", "5"])
    config.register_model_groups(conf, ["echo", "iris"])
    settings = config.Settings.from_conf(conf, ["echo", "iris"])
    echo, iris = settings.options_for("echo"), settings.options_for("iris")
    assert (echo.predict_concurrency, echo.predict_queue_max, echo.predict_timeout) == (2, 0, 0)
    assert (iris.predict_concurrency, iris.predict_queue_max, iris.predict_timeout) == (32, 5, 30)
    defaults = config.Settings.from_conf(config.parse([])).options_for("echo")
    assert (defaults.predict_concurrency, defaults.predict_queue_max) == (32, 128)
    assert defaults.predict_timeout == 0  # no limit
