"""DEEPaaS's (oslo.log's) logging options."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from deepaas_lite import config
from deepaas_lite.compat import oslo_log


def test_log_file_and_dir_as_oslo_log_reads_them(tmp_path: Path) -> None:
    assert oslo_log.log_path(config.parse([])) is None
    assert oslo_log.log_path(config.parse(["--log-file", str(tmp_path / "a.log")])) == (
        tmp_path / "a.log"
    )
    both = config.parse(["--log-dir", str(tmp_path), "--logfile", "b.log"])
    assert oslo_log.log_path(both) == tmp_path / "b.log"
    alone = config.parse(["--logdir", str(tmp_path)])
    assert oslo_log.log_path(alone) == tmp_path / "deepaas-run.log"


def test_the_log_goes_to_the_file_too(tmp_path: Path) -> None:
    conf = config.parse(["--log-dir", str(tmp_path / "logs")])
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        oslo_log.apply(conf)
        logging.getLogger("deepaas_lite.test").warning("written to the file")
        added = [h for h in root.handlers if h not in before]
        assert len(added) == 1
        added[0].flush()
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()
    assert "written to the file" in (tmp_path / "logs" / "deepaas-run.log").read_text()


def test_ignored_options_are_accepted_and_named(caplog: pytest.LogCaptureFixture) -> None:
    conf = config.parse(["--use-syslog", "--log-config-append", "/etc/x.conf", "--nouse-journal"])
    assert oslo_log.ignored_options(conf) == ["--log-config-append", "--use-syslog"]
    with caplog.at_level(logging.WARNING):
        oslo_log.apply(conf)
    assert "--use-syslog is a DEEPaaS (oslo.log) option that deepaas-lite ignores" in caplog.text


def test_use_json_is_log_format_json() -> None:
    conf = config.parse(["--use-json"])
    if "log_format" in conf:
        assert conf.log_format == "json"
    assert conf.use_json


def test_config_file_spelling(tmp_path: Path) -> None:
    conf_file = tmp_path / "deepaas.conf"
    conf_file.write_text(f"[DEFAULT]\nlog_dir = {tmp_path}\ndebug = true\nuse_stderr = true\n")
    conf = config.parse(["--config-file", str(conf_file)])
    assert oslo_log.log_path(conf) == tmp_path / "deepaas-run.log"
    assert conf.debug and oslo_log.ignored_options(conf) == ["--use-stderr"]
