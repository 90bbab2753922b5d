from __future__ import annotations

from pathlib import Path

from oslo_config import generator

from deepaas_lite import config

ROOT = Path(__file__).resolve().parent.parent


def test_sample_config_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "sample.conf"
    generator.main(
        [
            "--config-file",
            str(ROOT / "etc" / "deepaas-lite-config-generator.conf"),
            "--output-file",
            str(fresh),
        ]
    )
    committed = (ROOT / "etc" / "deepaas_lite.conf.sample").read_text()
    assert fresh.read_text() == committed, (
        "etc/deepaas_lite.conf.sample is stale: run "
        "oslo-config-generator --config-file etc/deepaas-lite-config-generator.conf"
    )


def test_defaults() -> None:
    conf = config.parse([])
    assert conf.listen_ip == "127.0.0.1"
    assert conf.listen_port == 5000
    assert conf.model_name == []
    assert conf.client_max_size == 100 * 1024 * 1024
    assert conf.train_workers == 1
    assert conf.warm is True
    settings = config.Settings.from_conf(conf)
    assert settings.state_dir == Path(config.DEFAULT_STATE_DIR)
    assert settings.base_path == ""


def test_flags() -> None:
    conf = config.parse(
        [
            "--listen-port",
            "6001",
            "--model-name",
            "a",
            "--model-name",
            "b",
            "--nowarm",
            "--base-path",
            "deepaas/",
            "--client-max-size",
            "0",
            "--train-workers",
            "3",
        ]
    )
    assert conf.listen_port == 6001
    assert conf.model_name == ["a", "b"]
    settings = config.Settings.from_conf(conf)
    assert settings.warm is False
    assert settings.base_path == "/deepaas"
    assert settings.client_max_size == 0
    assert settings.train_workers == 3


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "deepaas.conf"
    path.write_text("[DEFAULT]\nlisten_port = 7001\nstate_dir = ~/st\nmodel_name = echo\n")
    conf = config.parse(["--config-file", str(path)])
    assert conf.listen_port == 7001
    assert conf.model_name == ["echo"]
    assert config.Settings.from_conf(conf).state_dir == Path("~/st").expanduser()


def test_settings_defaults_are_the_options_defaults() -> None:
    """Each default is stated once, in its option: Settings() is what no flag gives."""
    assert config.Settings() == config.Settings.from_conf(config.parse([]))
