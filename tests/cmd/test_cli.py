from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from marshmallow import Schema, fields, validate

from deepaas_lite.cmd import cli
from deepaas_lite.openapi.jsonschema import arguments_json_schema


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


def test_options_named_like_a_prefix_of_the_cli_own_reach_the_plugin(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--model-name", "cli-names", "predict", "--mode", "slow", "--model", "big"]
    assert cli.main([*argv, "--mod", "3"]) == 0
    assert json.loads(capsys.readouterr().out) == {"mode": "slow", "model": "big", "mod": 3}


def test_an_abbreviated_option_is_never_taken_for_another(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # --mod is the plugin's own; it is not --model (required) nor --model-name.
    assert cli.main(["--model-name", "cli-names", "predict", "--mod", "3"]) == 2
    assert set(json.loads(capsys.readouterr().err)["errors"]) == {"model"}
    with pytest.raises(SystemExit):
        cli.main(["--model-name", "cli-names", "predict", "--mo", "x", "--model", "m"])
    assert "unrecognized arguments: --mo" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["--model-n", "cli-names", "get_metadata"])


def test_text_output_is_written_raw(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--model-name", "cli-names", "predict", "--model", "m", "--accept", "text/plain"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == "mode=fast model=m mod=7\n"


def test_raw_outputs_go_to_the_output_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, png, js = tmp_path / "out.txt", tmp_path / "out.png", tmp_path / "out.json"
    base = ["--model-name", "cli-names"]
    assert (
        cli.main(
            [*base, "--output", str(text), "predict", "--model", "m", "--accept", "text/plain"]
        )
        == 0
    )
    assert text.read_text() == "mode=fast model=m mod=7\n"
    argv = ["--model-name", "echo", "--output", str(png), "predict", "--data", "1"]
    assert cli.main([*argv, "--accept", "image/png"]) == 0
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert cli.main(["--model-name", "echo", "--output", str(js), "predict", "--data", "1"]) == 0
    assert json.loads(js.read_text())["data"] == [1.0]
    assert capsys.readouterr().out == ""


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--help"])
    assert exit_info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def test_help_shows_each_argument_type_default_choices_and_required(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _help(capsys, "--model-name", "echo", "predict")
    assert "--data FLOAT Numbers to echo [float; repeat for a list; required]" in text
    assert "--mode {plain,upper} How to echo [str; one of: plain, upper; default: plain]" in text
    assert "--count INT Repetitions [int; 1 <= value <= 10; default: 1]" in text
    assert "--label STR A label [str; 1 to 20 characters]" in text
    assert "--upload PATH A file [file path]" in text
    text = _help(capsys, "--model-name", "kinds", "predict")
    assert "--flag {true,false} A boolean [bool; default: false]" in text
    assert "--point JSON A nested object [JSON object]" in text
    assert "--uploads PATH Files [file path; repeat for a list]" in text
    assert "--ratio FLOAT A number range [float; 0 <= value < 1]" in text
    text = _help(capsys, "--model-name", "echo", "train")
    assert "--epochs INT Epochs [int; default: 1]" in text
    assert "--input-json" in _help(capsys) and "--output" in _help(capsys)


def test_input_json_from_a_file_and_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upload = tmp_path / "in.txt"
    upload.write_text("from disk")
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"data": [1, 2.5], "count": 2, "upload": str(upload)}))
    assert cli.main(["--model-name", "echo", "--input-json", str(args), "predict"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data"] == [1.0, 2.5] and out["count"] == 2
    assert out["upload"]["content"] == "from disk"
    # Options on the command line win over the JSON object.
    monkeypatch.setattr("sys.stdin", io.StringIO(args.read_text()))
    assert cli.main(["--model-name", "echo", "--input-json", "-", "predict", "--count", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 3


def test_input_json_mistakes_are_clear_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    for content, expected in [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
    ]:
        bad.write_text(content)
        assert cli.main(["--model-name", "echo", "--input-json", str(bad), "predict"]) == 2
        assert expected in capsys.readouterr().err
    bad.write_text(json.dumps({"data": [1], "count": 2.5}))
    assert cli.main(["--model-name", "echo", "--input-json", str(bad), "predict"]) == 2
    assert set(json.loads(capsys.readouterr().err)["errors"]) == {"count"}
    bad.write_text(json.dumps({"data": [1], "nope": 1, "upload": str(tmp_path / "missing")}))
    assert cli.main(["--model-name", "echo", "--input-json", str(bad), "predict"]) == 2
    assert set(json.loads(capsys.readouterr().err)["errors"]) == {"nope", "upload"}


def test_every_kind_of_argument_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.png"
    a.write_text("aaa")
    b.write_bytes(b"bb")
    argv = ["--model-name", "kinds", "predict", "--numbers", "1", "--numbers", "2"]
    argv += ["--words", "x", "--words", "y", "--colour", "blue", "--flag", "true"]
    argv += ["--level", "5", "--ratio", "0.5", "--point", '{"x": 1}', "--tags", '{"k": 2}']
    argv += ["--upload", str(a), "--uploads", str(a), "--uploads", str(b)]
    assert cli.main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["numbers"] == [1.0, 2.0] and out["words"] == ["x", "y"]
    assert out["colour"] == "blue" and out["flag"] is True and out["level"] == 5
    assert out["point"] == {"x": 1.0, "y": 0.0} and out["tags"] == {"k": 2}
    assert out["upload"]["original_filename"] == "a.txt"
    assert [u["size"] for u in out["uploads"]] == [3, 2]
    assert out["uploads"][1]["content_type"] == "image/png"
    assert cli.main(["--model-name", "kinds", "predict", "--numbers", "1", "--point", "{x"]) == 2
    assert set(json.loads(capsys.readouterr().err)["errors"]) == {"point"}
    assert cli.main(["--model-name", "kinds", "predict", "--numbers", "1", "--flag", "maybe"]) == 2
    assert set(json.loads(capsys.readouterr().err)["errors"]) == {"flag"}


def test_schema_prints_the_arguments_as_json_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--model-name", "kinds", "schema", "predict"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = {
        "numbers": [1, 2],
        "colour": "red",
        "point": {"x": 1},
        "upload": "/some/path.png",
        "uploads": ["a", "b"],
        "accept": "text/plain",
    }
    assert list(validator.iter_errors(good)) == []
    for bad in [
        {},
        {"numbers": ["a"]},
        {"numbers": [1], "colour": "pink"},
        {"numbers": [1], "point": {"y": 1}},
        {"numbers": [1], "level": 9},
    ]:
        assert list(validator.iter_errors(bad)), bad
    assert schema["properties"]["upload"]["type"] == "string"
    assert "path" in schema["properties"]["upload"]["description"]
    assert cli.main(["--model-name", "echo", "schema"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert set(both) == {"predict", "train"}
    assert both["predict"]["required"] == ["data"]
    assert both["train"]["properties"]["epochs"]["type"] == "integer"


def test_train_reports_progress_on_stderr_and_its_result_as_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--model-name", "cli-names", "train", "--model", "big"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"model": "big", "text": "a result"}
    assert "50% training big" in captured.err and "100% done" in captured.err


def test_a_cli_call_imports_no_web_code() -> None:
    code = (
        "import sys; from deepaas_lite.cmd import cli; "
        "cli.main(['--model-name', 'echo', 'predict', '--data', '1']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'aiohttp', 'apispec', 'prometheus_client', 'webargs', 'yarl', 'multidict'} "
        "or m.startswith(('deepaas_lite.web', 'deepaas_lite.openapi'))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.splitlines()[-1] == "[]"


def test_json_schema_bounds_and_nullable_are_json_schema_s() -> None:
    schema = Schema.from_dict(
        {
            "ratio": fields.Float(validate=validate.Range(min=0, max=1, max_inclusive=False)),
            "low": fields.Float(validate=validate.Range(min=0, min_inclusive=False)),
            "maybe": fields.Int(allow_none=True),
        }
    )()
    out = arguments_json_schema(schema)
    jsonschema.Draft202012Validator.check_schema(out)
    validator = jsonschema.Draft202012Validator(out)
    assert list(validator.iter_errors({"ratio": 0.5, "low": 0.1, "maybe": None})) == []
    for bad in [{"ratio": 1}, {"low": 0}, {"maybe": "x"}]:
        assert list(validator.iter_errors(bad)), bad


def _at_a_terminal(*argv: str) -> str:
    """deepaas-cli run with its standard output on a terminal (a pseudo-terminal), as a
    person sees it; the terminal's CR LF read back as LF."""
    import os
    import pty

    main, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "deepaas_lite.cmd.cli", *argv],
            stdout=follower,
            stderr=subprocess.PIPE,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    finally:
        os.close(main)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def _piped(*argv: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "deepaas_lite.cmd.cli", *argv],
        capture_output=True,
        timeout=60,
        check=True,
    )
    return proc.stdout.decode()


def test_json_is_pretty_utf8_at_a_terminal_and_one_line_when_piped() -> None:
    argv = ["--model-name", "echo", "predict", "--data", "1", "--label", "größe"]
    shown = _at_a_terminal(*argv)
    assert '\n  "label": "größe",\n' in shown, shown
    assert json.loads(shown)["label"] == "größe"
    piped = _piped(*argv)
    assert piped.count("\n") == 1 and piped.endswith("\n")
    assert json.loads(piped) == json.loads(shown)


def test_raw_text_ends_with_a_newline_at_a_terminal_only() -> None:
    argv = ["--model-name", "echo", "predict", "--data", "1", "--accept", "text/plain"]
    shown = _at_a_terminal(*argv)
    assert shown.endswith("}\n") and json.loads(shown)["data"] == [1.0]
    assert _piped(*argv).endswith("}")  # as the model returned it


def test_not_trained_yet_names_the_cli_command(tmp_path: Path) -> None:
    plugin = tmp_path / "untrained.py"
    plugin.write_text(
        "import deepaas_lite\n"
        "def train(): return {}\n"
        "def predict(): raise deepaas_lite.ModelNotReady('not trained yet: train it first')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "deepaas_lite.cmd.cli", "--plugin", str(plugin), "predict"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "deepaas-cli: not trained yet: train it first",
        f"deepaas-cli: train it with: deepaas-cli --plugin {plugin} train",
    ]


def test_iris_not_trained_yet_names_the_cli_command(tmp_path: Path) -> None:
    argv = ["--model-name", "iris-deepaas", "--state-dir", str(tmp_path)]
    proc = subprocess.run(
        [sys.executable, "-m", "deepaas_lite.cmd.cli", *argv, "predict", *["--data", "1"] * 4],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "POST" not in proc.stderr and "train it first" in proc.stderr, proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        f"deepaas-cli: train it with: deepaas-cli --model-name iris-deepaas "
        f"--state-dir {tmp_path} train"
    )


def test_required_arguments_show_as_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--model-name", "echo", "predict", "--help"])
    text = capsys.readouterr().out
    usage = " ".join(text.split("\n\n")[0].split())
    assert "--data FLOAT" in usage and "[--data FLOAT]" not in usage, usage
    assert "[--mode {plain,upper}]" in usage
    required = text.split("required arguments (here or in --input-json):\n")[1]
    assert required.split("\n\n")[0].split()[0:2] == ["--data", "FLOAT"], text
    # Still given by --input-json, or reported with the other invalid ones.
    assert cli.main(["--model-name", "echo", "predict", "--count", "99"]) == 2
    assert set(json.loads(capsys.readouterr().err)["errors"]) == {"data", "count"}


def test_output_after_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.json"
    argv = ["--model-name", "echo", "predict", "--data", "1", "--output", str(out)]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text())["data"] == [1.0]


def test_an_empty_string_default_is_shown_quoted(capsys: pytest.CaptureFixture[str]) -> None:
    from deepaas_lite.cmd import schema_arguments

    text = schema_arguments.help_text(fields.Str(load_default=""))
    assert text == '[str; default: ""]'
