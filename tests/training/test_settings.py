"""Training options: flags, ``[DEFAULT]`` and ``[model:<id>]`` sections."""

from __future__ import annotations

from pathlib import Path

from deepaas_lite import config


def test_training_limits_globally_and_per_model(tmp_path: Path) -> None:
    conf_file = tmp_path / "deepaas.conf"
    conf_file.write_text(
        "[DEFAULT]\ntrain_timeout = 3600\n\n"
        "[model:echo]\ntrain_timeout = 0\n\n"
        "[model:slow]\ntrain_timeout = 7200\n"
    )
    argv = ["--config-file", str(conf_file), "--train-queue-max", "5", "--reset-state"]
    conf = config.parse([*argv, "--train-log-max-bytes", "0"])
    ids = ["echo", "slow", "iris"]
    config.register_model_groups(conf, ids)

    settings = config.Settings.from_conf(conf, ids)

    assert settings.train_timeouts(ids) == {"echo": 0, "slow": 7200, "iris": 3600}
    assert (settings.train_queue_max, settings.train_log_max_bytes) == (5, 0)
    assert settings.reset_state is True


def test_training_limit_defaults() -> None:
    settings = config.Settings.from_conf(config.parse([]), ["echo"])

    assert settings.train_timeouts(["echo"]) == {"echo": 0}  # no limit
    assert settings.train_queue_max == 100
    assert settings.train_log_max_bytes == 50 * 1024 * 1024
    assert settings.reset_state is False
