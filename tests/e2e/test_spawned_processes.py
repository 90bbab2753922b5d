"""What a process that ``deepaas-run`` spawns imports: multiprocessing's spawn imports
the main module again in each predict worker and training process, and they need none
of the server (oslo.config, aiohttp, the web layer: time and memory a process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from deepaas_lite_test_plugins.process_modules import SERVER_MODULES

from tests.e2e.server import running
from tests.e2e.test_training_server import submit, wait_status

MODEL = "process-modules"


def test_a_predict_worker_and_a_training_process_import_none_of_the_server(
    tmp_path: Path,
) -> None:
    args = ["--model-name", MODEL, "--state-dir", str(tmp_path / "state")]
    with running(args, tmp_path / "server.log") as server:
        status, answer = server.json("POST", f"/v2/models/{MODEL}/predict/")
        assert status == 200, answer
        predicted = answer["predictions"]
        assert predicted["pid"] != server.process.pid  # run in a worker process
        assert predicted["imported"] == []
        record = submit(server, MODEL, {})
        done = wait_status(server, MODEL, record["uuid"], {"done", "error"})
        assert done["status"] == "done", done
        assert done["result"]["output"]["pid"] not in (server.process.pid, predicted["pid"])
        assert done["result"]["output"]["imported"] == []


@pytest.mark.parametrize(
    "spawned",
    [
        "import deepaas_lite.cmd.run",  # under the console script
        "import runpy; runpy.run_module('deepaas_lite.cmd.run', run_name='__mp_main__')",
    ],
    ids=["deepaas-run", "python -m"],
)
def test_deepaas_runs_main_module_imports_none_of_the_server(spawned: str) -> None:
    # What spawn does in each child to the main module of ``deepaas-run`` (imported) or
    # of ``python -m deepaas_lite.cmd.run`` (run again by name, as ``__mp_main__``).
    code = f"{spawned}\nimport sys\nprint([m for m in {SERVER_MODULES!r} if m in sys.modules])\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr
