"""Record what DEEPaaS 2.6.0 answers to CASES, for ``test_against_deepaas.py``.

The plugin is ``deepaas-style`` (tests/plugins), a module plugin written as AI4OS
plugins are. Run once, in an environment with the real DEEPaaS and the test plugins::

    python3 -m venv /tmp/deepaas-2.6.0
    /tmp/deepaas-2.6.0/bin/pip install 'deepaas==2.6.0'
    /tmp/deepaas-2.6.0/bin/pip install --no-deps ./tests/plugins
    /tmp/deepaas-2.6.0/bin/python tests/compat/record_deepaas.py /tmp/deepaas-2.6.0/bin/deepaas-run

It starts that ``deepaas-run --model-name deepaas-style`` on a free loopback port,
sends every case, and writes the answers (uuids and dates replaced by placeholders) to
``tests/compat/deepaas-2.6.0.json``. Standard library only: it runs beside DEEPaaS.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

MODEL = "deepaas-style"
BASE = f"/v2/models/{MODEL}"
FIXTURES = Path(__file__).with_name("deepaas-2.6.0.json")
BIG = b"0123456789abc"

# name, method, path, file to upload (field, bytes) or None, extra headers.
# "{uuid}" is the training started by "train_start".
CASES: list[tuple[str, str, str, tuple[str, bytes] | None, dict[str, str]]] = [
    ("versions", "GET", "/", None, {}),
    ("v2", "GET", "/v2/", None, {}),
    ("models", "GET", "/v2/models/", None, {}),
    ("model", "GET", f"{BASE}/", None, {}),
    ("predict", "POST", f"{BASE}/predict/", ("image", BIG), {"Accept": "application/json"}),
    ("predict_threshold", "POST", f"{BASE}/predict/?threshold=0.2", ("image", b"01"), {}),
    ("predict_text", "POST", f"{BASE}/predict/", ("image", b"01"), {"Accept": "text/plain"}),
    ("predict_missing_image", "POST", f"{BASE}/predict/", None, {}),
    ("predict_bad_threshold", "POST", f"{BASE}/predict/?threshold=2", ("image", b"1"), {}),
    ("predict_bad_accept", "POST", f"{BASE}/predict/", ("image", b"1"), {"Accept": "image/png"}),
    ("predict_no_slash", "POST", f"{BASE}/predict", ("image", BIG), {}),
    ("predict_unknown_model", "POST", "/v2/models/nope/predict/", ("image", b"1"), {}),
    ("train_start", "POST", f"{BASE}/train/?epochs=3", None, {}),
    ("train_get", "GET", f"{BASE}/train/{{uuid}}", None, {}),
    ("train_list", "GET", f"{BASE}/train/", None, {}),
    ("train_delete", "DELETE", f"{BASE}/train/{{uuid}}", None, {}),
    ("train_get_deleted", "GET", f"{BASE}/train/{{uuid}}", None, {}),
    ("train_unknown", "GET", f"{BASE}/train/0123456789abcdef0123456789abcdef", None, {}),
    # Last: DEEPaaS 2.6.0 never answers it, and its pools are broken after it.
    ("predict_plugin_400", "POST", f"{BASE}/predict/", ("image", b""), {}),
]

_UUID = re.compile(r"\b[0-9a-f]{32}\b")
_DATE = re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?\b")
_DURATION = re.compile(r"^\d+:\d\d:\d\d(\.\d+)?$")


def normalise(value: Any) -> Any:
    """Answers without what changes from run to run (uuids, dates, durations)."""
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    if isinstance(value, str):
        if _DURATION.match(value):
            return "<duration>"
        return _DATE.sub("<date>", _UUID.sub("<uuid>", value))
    return value


def multipart(field: str, content: bytes) -> tuple[bytes, str]:
    boundary = "deepaas-compat-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{field}.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


NO_ANSWER_AFTER = 10.0
"""Seconds after which a case is recorded as unanswered (DEEPaaS 2.6.0 hangs on some)."""


def send(
    url: str, method: str, upload: tuple[str, bytes] | None, headers: dict[str, str]
) -> dict[str, Any]:
    """One request; its status, media type and (normalised) body, or that none came."""
    body = None
    headers = dict(headers)
    if upload is not None:
        body, headers["Content-Type"] = multipart(*upload)
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=NO_ANSWER_AFTER) as response:
            status, raw = response.status, response.read()
            media = response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        status, media, raw = error.code, error.headers.get_content_type(), error.read()
    except TimeoutError:
        return {"status": None, "no_answer_after": NO_ANSWER_AFTER}
    text = raw.decode("utf-8", "replace")
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    return {"status": status, "content_type": media, "body": normalise(parsed)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def record(deepaas_run: str) -> dict[str, Any]:
    port = _free_port()
    root = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [deepaas_run, "--model-name", MODEL, "--listen-port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its pool's processes are stopped with it
        )
        try:
            _wait_up(root)
            answers: dict[str, Any] = {}
            uuid = ""
            for name, method, path, upload, headers in CASES:
                url = root + path.replace("{uuid}", uuid)
                if name == "train_get":
                    _wait_ended(url)
                answer = send(url, method, upload, headers)
                if name == "train_start":
                    listed = urllib.request.urlopen(root + f"{BASE}/train/").read()
                    uuid = json.loads(listed)[0]["uuid"]
                answers[name] = answer
            spec = json.loads(urllib.request.urlopen(root + "/swagger.json").read())
            predict = spec["paths"][f"{BASE}/predict/"]["post"]
            answers["swagger"] = {
                "swagger": spec["swagger"],
                "paths": sorted(spec["paths"]),
                "predict_parameters": predict["parameters"],
                "predict_produces": predict.get("produces"),
                "definitions": sorted(spec.get("definitions", {})),
            }
            return answers
        finally:
            os.killpg(server.pid, signal.SIGKILL)  # DEEPaaS may hang on SIGTERM
            server.wait(timeout=30)


def _wait_up(root: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(root + "/v2/", timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _wait_ended(url: str) -> None:
    deadline = time.monotonic() + 60
    while json.loads(urllib.request.urlopen(url).read())["status"] == "running":
        if time.monotonic() > deadline:
            raise TimeoutError(url)
        time.sleep(0.2)


if __name__ == "__main__":
    answers = record(sys.argv[1])
    FIXTURES.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURES}")
