from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deepaas_lite.cmd import cli


def test_predict_with_generated_options(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(
        [
            "--model-name",
            "echo",
            "predict",
            "--data",
            "1",
            "--data",
            "2.5",
            "--count",
            "2",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data"] == [1.0, 2.5] and out["count"] == 2


def test_invalid_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--model-name", "echo", "predict", "--count", "99"]) == 2
    err = json.loads(capsys.readouterr().err)
    assert set(err["errors"]) == {"data", "count"}


def test_file_argument(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "in.txt"
    path.write_text("from disk")
    assert cli.main(["--model-name", "echo", "predict", "--data", "1", "--upload", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["upload"]["content"] == "from disk"
    assert out["upload"]["original_filename"] == "in.txt"
    assert path.exists()


def test_train_and_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--model-name", "echo", "train", "--epochs", "3"]) == 0
    assert json.loads(capsys.readouterr().out) == {"trained": {"epochs": 3, "sleep": 0.0}}
    assert cli.main(["--model-name", "bare", "get_metadata"]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["id"] == "bare" and meta["version"] == "1.2.3"


def test_plugin_error_is_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--model-name", "raising", "predict", "--kind", "value"]) == 1
    err = capsys.readouterr().err
    assert "the plugin says no" in err and "Traceback" not in err


def test_unknown_model_and_console_script() -> None:
    exe = shutil.which("deepaas-cli", path=str(Path(sys.executable).parent))
    assert exe
    proc = subprocess.run(
        [exe, "--model-name", "zzz", "get_metadata"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "zzz" in proc.stderr
