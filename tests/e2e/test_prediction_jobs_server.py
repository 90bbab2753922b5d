"""Prediction jobs against a real ``deepaas-run``: a client that leaves, a server killed
with -9, cancelling in a worker process, and a proxy whose timeout a job outlasts."""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.server import Server, running, start, stop, wait_ready
from tests.e2e.test_reverse_proxy import NGINX, nginx
from tests.e2e.test_training_server import gone, read_pid, wait_gone

ASYNC = {"Prefer": "respond-async", "Content-Type": "application/json"}


def submit(server: Server, args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    status, headers, body = server.request(
        "POST", "/v2/models/slow/predict/", json.dumps(args).encode(), ASYNC
    )
    assert status == 202, body
    return json.loads(body), headers["Location"]


def record(server: Server, location: str) -> dict[str, Any]:
    status, body = server.json("GET", location)
    assert status == 200, body
    return dict(body)


def wait_ended(server: Server, location: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (job := record(server, location))["status"] in {"pending", "running"}:
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def args(state: Path, *extra: str) -> list[str]:
    return ["--model-name", "slow", "--state-dir", str(state), *extra]


def test_a_long_prediction_is_accepted_at_once_and_fetched_after_the_client_left(
    tmp_path: Path,
) -> None:
    with running(args(tmp_path / "state"), tmp_path / "server.log") as server:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        body = json.dumps({"tag": "five", "seconds": 5}).encode()
        began = time.monotonic()
        connection.request("POST", "/v2/models/slow/predict/", body, ASYNC)
        response = connection.getresponse()
        accepted = time.monotonic() - began
        submitted = json.loads(response.read())
        location = response.getheader("Location")
        connection.close()  # the client goes away while the prediction runs
        assert response.status == 202
        assert submitted["status"] in {"pending", "running"}
        print(f"202 after {accepted * 1000:.1f} ms for a 5 s prediction")
        done = wait_ended(server, location)
        assert done["status"] == "done", done
        assert done["result"]["output"]["tag"] == "five"
        status, _, output = server.request("GET", location + "/output")
        assert status == 200 and json.loads(output) == done["result"]["output"]


Submit = Callable[[Server, str, Path], str]
"""Submits the slow model's job ``tag`` (``marks`` its directory); its Location."""


def submit_predict(server: Server, tag: str, marks: Path) -> str:
    return submit(server, {"tag": tag, "marks": str(marks), "seconds": 60})[1]


def killed_mid_job(tmp_path: Path, submit_as: Submit) -> tuple[Path, str, str]:
    """A server with one job slot killed with -9 while a job runs ("held") and another
    waits ("after", released: it ends at once when it runs). The state directory, and
    the two jobs' Locations."""
    state = tmp_path / "state"
    marks = tmp_path / "marks"
    marks.mkdir()
    (marks / "release-after").touch()
    server = start(args(state, "--predict-jobs-workers", "1"), tmp_path / "server.log")
    try:
        wait_ready(server)
        running_at = submit_as(server, "held", marks)
        read_pid(marks / "started-held")
        pending_at = submit_as(server, "after", marks)
        assert record(server, pending_at)["status"] == "pending"
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    finally:
        stop(server)
    return state, running_at, pending_at


def test_kill_9_mid_job_interrupts_it_and_the_pending_ones_run_after_a_restart(
    tmp_path: Path,
) -> None:
    state, running_at, pending_at = killed_mid_job(tmp_path, submit_predict)
    with running(args(state), tmp_path / "again.log") as server:
        assert record(server, running_at)["status"] == "interrupted"
        done = wait_ended(server, pending_at)
        assert done["status"] == "done", done
        assert done["result"]["output"]["tag"] == "after"
        listed = server.json("GET", "/v2/models/slow/predictions/")[1]
        assert [job["uuid"] for job in listed] == [
            location.rsplit("/", 1)[1] for location in (running_at, pending_at)
        ]


def _infer_slow(tag: str, marks: Path) -> bytes:
    inputs = [
        {"name": "tag", "datatype": "BYTES", "shape": [1], "data": [tag]},
        {"name": "marks", "datatype": "BYTES", "shape": [1], "data": [str(marks)]},
        {"name": "seconds", "datatype": "FP64", "shape": [1], "data": [60.0]},
    ]
    return json.dumps({"id": f"infer-{tag}", "inputs": inputs}).encode()


def submit_infer(server: Server, tag: str, marks: Path) -> str:
    status, headers, body = server.request(
        "POST", "/v2/models/slow/infer", _infer_slow(tag, marks), ASYNC
    )
    assert status == 202, body
    assert json.loads(body)["call"] == "inference"
    return str(headers["Location"])


def test_infer_jobs_across_a_kill_9_and_a_restart_still_answer_v2(tmp_path: Path) -> None:
    """An infer job running at a kill -9 is interrupted; a pending one runs after the
    restart and its output is still the V2 answer (what makes it an infer job is on
    its record), equal to the synchronous infer's."""
    state, running_at, pending_at = killed_mid_job(tmp_path, submit_infer)
    marks = tmp_path / "marks"
    with running(args(state), tmp_path / "again.log") as server:
        assert record(server, running_at)["status"] == "interrupted"
        done = wait_ended(server, pending_at)
        assert done["status"] == "done", done
        status, _, output = server.request("GET", pending_at + "/output")
        assert status == 200 and json.loads(output) == done["result"]["output"]
        status, _, answer = server.request(
            "POST",
            "/v2/models/slow/infer",
            _infer_slow("after", marks),
            {"Content-Type": "application/json"},
        )
        assert status == 200
    job = json.loads(output)
    assert job == json.loads(answer)  # the same server process: the same pid too
    assert job["model_name"] == "slow" and job["id"] == "infer-after"
    (predictions,) = job["outputs"]
    assert predictions["name"] == "predictions" and predictions["datatype"] == "BYTES"
    assert json.loads(predictions["data"][0])["tag"] == "after"


@pytest.mark.parametrize("submit_as", [submit_predict, submit_infer], ids=["predict", "infer"])
def test_cancelling_a_job_in_a_worker_process_stops_the_call(
    tmp_path: Path, submit_as: Submit
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    extra = ("--predict-workers", "1")
    with running(args(tmp_path / "state", *extra), tmp_path / "server.log") as server:
        location = submit_as(server, "w", marks)
        pid = read_pid(marks / "started-w")
        assert not gone(pid)
        began = time.monotonic()
        status, body = server.json("DELETE", location)
        assert status == 200 and body["status"] == "cancelled", body
        wait_gone(pid, timeout=2)  # no more of the plugin's code runs
        print(f"worker {pid} gone {time.monotonic() - began:.2f} s after the DELETE")
        # A new worker serves the next call.
        status, _, answer = server.request(
            "POST",
            "/v2/models/slow/predict/",
            json.dumps({"tag": "next"}).encode(),
            {"Content-Type": "application/json"},
        )
        assert status == 200
        assert json.loads(answer)["predictions"]["pid"] != pid


@pytest.mark.skipif(
    NGINX is None,
    reason="nginx is not installed (.ci/run installs it: apt-get install nginx)",
)
def test_behind_a_proxy_that_times_out_a_job_outlasts_it(tmp_path: Path) -> None:
    proxy_dir = tmp_path / "nginx"
    proxy_dir.mkdir()
    extra = ("--base-path", "/deepaas")
    with (
        running(
            args(tmp_path / "state", *extra), tmp_path / "server.log", base_path="/deepaas"
        ) as server,
        nginx(proxy_dir, int(server.url.rsplit(":", 1)[1]), read_timeout="5s") as proxy,
    ):
        host, port = proxy.removeprefix("http://").split(":")
        body = json.dumps({"tag": "long", "seconds": 20}).encode()
        as_job = http.client.HTTPConnection(host, int(port), timeout=30)
        as_job.request("POST", "/deepaas/v2/models/slow/predict/", body, ASYNC)
        accepted = as_job.getresponse()
        assert accepted.status == 202, accepted.read()
        location = accepted.getheader("Location")
        accepted.read()
        as_job.close()
        assert location.startswith("/deepaas/v2/models/slow/predictions/")

        synchronous = http.client.HTTPConnection(host, int(port), timeout=30)
        synchronous.request(
            "POST", "/deepaas/v2/models/slow/predict/", body, {"Content-Type": "application/json"}
        )
        assert synchronous.getresponse().status == 504  # nginx gave up after 5 s
        synchronous.close()

        deadline = time.monotonic() + 60
        while True:
            poll = http.client.HTTPConnection(host, int(port), timeout=30)
            poll.request("GET", location)
            job = json.loads(poll.getresponse().read())
            poll.close()
            if job["status"] not in {"pending", "running"}:
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        assert job["status"] == "done", job
        assert job["result"]["output"]["tag"] == "long"


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: list[tuple[bytes, dict[str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((body, dict(self.headers)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_webhook_reaches_an_allowed_receiver_signed(tmp_path: Path) -> None:
    secret = "whsec_" + base64.b64encode(b"the webhook secret of this test!").decode()
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret + "\n")
    _Receiver.got = []
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    extra = ("--webhook-allowed-host", "127.0.0.1", "--webhook-secret-file", str(secret_file))
    try:
        with running(args(tmp_path / "state", *extra), tmp_path / "server.log") as server:
            body = json.dumps({"tag": "hooked"}).encode()
            status, _, answer = server.request(
                "POST",
                "/v2/models/slow/predict/",
                body,
                {**ASYNC, "Callback-URL": "http://localhost:1/elsewhere"},
            )
            assert status == 422 and b"callback" in answer  # localhost is not listed
            status, headers, _ = server.request(
                "POST", "/v2/models/slow/predict/", body, {**ASYNC, "Callback-URL": hook}
            )
            assert status == 202
            done = wait_ended(server, headers["Location"])
            deadline = time.monotonic() + 30
            while not _Receiver.got:
                assert time.monotonic() < deadline, server.output()
                time.sleep(0.05)
    finally:
        receiver.shutdown()
        receiver.server_close()
    [(sent, sent_headers)] = _Receiver.got
    assert Webhook(secret).verify(sent, sent_headers) == done
    assert done["callback"] == hook
