"""deepaas-run with --base-path behind a real nginx on loopback (the docs' config)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import free_port, running

NGINX = shutil.which("nginx") or (
    "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
)

# The location block of docs/operators.md, with the test's ports.
CONFIG = """
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{}}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location /deepaas/ {{
            proxy_pass http://127.0.0.1:{backend};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            client_max_body_size 100m;
            proxy_read_timeout {read_timeout};
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(tmp: Path, backend: int, read_timeout: str = "1h") -> Iterator[str]:
    assert NGINX
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(CONFIG.format(tmp=tmp, port=port, backend=backend, read_timeout=read_timeout))
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp / "error.log").read_text()
            try:
                urllib.request.urlopen(url + "/deepaas/v2/health/live", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp / "error.log").read_text()
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _call(
    url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, Any, bytes]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


@pytest.mark.skipif(
    NGINX is None and not os.environ.get("CI"),
    reason="nginx is not installed (.ci/run installs it: apt-get install nginx)",
)
def test_base_path_behind_nginx(tmp_path: Path) -> None:
    assert NGINX, "CI must have nginx: .ci/run installs it"
    proxy_dir = tmp_path / "nginx"
    proxy_dir.mkdir()
    args = [
        "--model-name",
        "echo",
        "--model-name",
        "train-sleeper",
        "--state-dir",
        str(tmp_path / "state"),
        "--base-path",
        "/deepaas",
    ]
    with (
        running(args, tmp_path / "server.log", base_path="/deepaas") as server,
        nginx(proxy_dir, int(server.url.rsplit(":", 1)[1])) as proxy,
    ):
        # The documents name the paths under the prefix.
        for document in ("/deepaas/openapi.json", "/deepaas/swagger.json"):
            status, _, body = _call(proxy + document)
            assert status == 200
            spec = json.loads(body)
            paths = {path.rstrip("/") for path in spec["paths"]}  # Swagger 2.0's end in /
            assert "/deepaas/v2/models/echo/predict" in paths
            assert all(path.startswith("/deepaas") for path in spec["paths"])
            for server_entry in spec.get("servers", []):
                assert server_entry["url"] in ("", "/")
        # The UI and its assets.
        status, headers, page = _call(proxy + "/deepaas/ui")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert b"/deepaas/ui/static/swagger-ui-bundle.js" in page
        assert _call(proxy + "/deepaas/ui/static/swagger-ui-bundle.js")[0] == 200
        # A prediction, posted as the UI's page would (same origin through the proxy).
        status, headers, body = _call(
            proxy + "/deepaas/v2/models/echo/predict?data=1",
            "POST",
            {"Origin": proxy, "X-Request-ID": "through-nginx"},
        )
        assert status == 200, body
        assert json.loads(body)["status"] == "OK"
        assert headers["X-Request-ID"] == "through-nginx"
        # A training: its Location works through the proxy.
        status, headers, body = _call(proxy + "/deepaas/v2/models/train-sleeper/train/", "POST")
        assert status == 200, body
        uuid = json.loads(body)["uuid"]
        location = headers["Location"]
        assert location == f"/deepaas/v2/models/train-sleeper/train/{uuid}"
        status, _, body = _call(proxy + location)
        assert status == 200 and json.loads(body)["uuid"] == uuid
        # Another site's page cannot post through the proxy either.
        status, _, _ = _call(
            proxy + "/deepaas/v2/models/echo/predict?data=1",
            "POST",
            {"Origin": "https://evil.example"},
        )
        assert status == 403
    assert "through-nginx" in server.output()
