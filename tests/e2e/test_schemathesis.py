"""schemathesis against a real ``deepaas-run``: the server does what its document says.

Every check, in the examples, coverage, fuzzing and stateful phases (the last follows
the trainings it creates into GET, DELETE and the log), on every operation, against
the iris example (trained first, so that predict answers) and the ``kinds`` test plugin
(every kind of argument). A failure is printed with schemathesis's ``curl`` to replay it.

Trainings are real: POST /train starts processes, so the server keeps at most a few
waiting (``--train-queue-max``; beyond it 429, which the document states) and a short
history, and its state lives in the test's directory. ``DEEPAAS_ST_MAX_EXAMPLES``,
``DEEPAAS_ST_PHASES`` and ``DEEPAAS_ST_SEED`` change the run's size, phases and seed
(fixed, so that CI is repeatable). ``schemathesis_hooks.py`` drops two kinds of report
that are not the server's fault, each only after checking it; they are printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.server import Server, installed, running

ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = os.environ.get("DEEPAAS_ST_MAX_EXAMPLES", "50")
PHASES = os.environ.get("DEEPAAS_ST_PHASES", "examples,coverage,fuzzing,stateful")
SEED = os.environ.get("DEEPAAS_ST_SEED", "20261201")


def schemathesis() -> str:
    return installed("st")  # schemathesis, of the test extra


def document_url(server: Server) -> str:
    """The OpenAPI 3 document: /openapi.json, or /swagger.json where that is still it."""
    for path in ("/openapi.json", "/swagger.json"):
        status, _, body = server.request("GET", path)
        if status == 200 and str(json.loads(body).get("openapi", "")).startswith("3"):
            return server.url + path
    raise AssertionError("the server serves no OpenAPI 3 document")


def train_iris(server: Server, timeout: float = 120) -> None:
    status, record = server.json(
        "POST",
        "/v2/models/iris-deepaas/train/",
        body=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert status == 200, record
    deadline = time.monotonic() + timeout
    while record["status"] not in {"done", "error", "cancelled", "interrupted"}:
        assert time.monotonic() < deadline, record
        time.sleep(0.2)
        status, record = server.json("GET", f"/v2/models/iris-deepaas/train/{record['uuid']}")
    assert record["status"] == "done", record


def run_schemathesis(server: Server, workdir: Path) -> subprocess.CompletedProcess[str]:
    command = [
        schemathesis(),
        "run",
        document_url(server),
        "--checks=all",
        f"--phases={PHASES}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        # One worker: hypothesis describes its strategies with ast.parse, and two
        # threads doing so at once met CPython 3.11.7's "AST constructor recursion
        # depth mismatch" (see python/cpython gh-106905): a Runtime Error of
        # schemathesis's own, not a finding, in about one run in two here.
        "--workers=1",
        "--request-timeout=60",
        "--max-failures=50",
    ]
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "COLUMNS": "120",
        # The one false positive of schemathesis that the hook drops (see its docstring).
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "DEEPAAS_ST_DROPPED": str(workdir / "dropped.txt"),
    }
    result = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=900
    )
    print(" ".join(command))
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    dropped = workdir / "dropped.txt"
    if dropped.exists():
        print("Dropped by schemathesis_hooks.py, each checked:\n" + dropped.read_text())
    return result


def _serve(tmp_path: Path, *models: str) -> list[str]:
    return [
        *(f"--model-name={model}" for model in models),
        f"--state-dir={tmp_path / 'state'}",
        "--train-workers=1",
        "--train-queue-max=3",
        "--train-history=5",
    ]


@pytest.mark.timeout(1200)
def test_iris_and_every_kind_of_argument(tmp_path: Path) -> None:
    env = {"DEEPAAS_IRIS_MODEL_DIR": str(tmp_path / "iris")}
    with running(_serve(tmp_path, "iris-deepaas", "kinds"), tmp_path / "server.log", env) as server:
        train_iris(server)
        result = run_schemathesis(server, tmp_path)
        assert server.process.poll() is None, server.output()
    assert result.returncode == 0, result.stdout[-8000:]


@pytest.mark.timeout(600)
def test_every_shape_of_plugin(tmp_path: Path) -> None:
    """A class, an object and modules, one with no arguments and one with no predict.

    The test plugins that fail on purpose (``raising``, ``schema-output`` with an invalid
    output, the broken ones) are not served here: their 500s are what their own tests in
    tests/web check.
    """
    models = ("class-plugin", "object-plugin", "bare", "bare-predict")
    with running(_serve(tmp_path, *models), tmp_path / "server.log") as server:
        result = run_schemathesis(server, tmp_path)
        assert server.process.poll() is None, server.output()
    assert result.returncode == 0, result.stdout[-8000:]
