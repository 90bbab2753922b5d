"""Browser origins: cross-site form posts, DNS rebinding and CORS, over HTTP."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from deepaas_lite.web.hosts import allowed_hosts
from deepaas_lite.web.origins import host_allowed, same_origin
from tests.conftest import ClientFactory

Client = TestClient[web.Request, web.Application]

LOOPBACK = allowed_hosts("127.0.0.1", [])


def test_default_hosts() -> None:
    assert LOOPBACK == ("127.0.0.1", "localhost", "[::1]")
    assert allowed_hosts("::1", []) == ("[::1]", "localhost", "127.0.0.1")
    assert allowed_hosts("10.1.2.3", []) == ("10.1.2.3",)
    assert allowed_hosts("0.0.0.0", []) == ()  # any: the names are unknown
    assert allowed_hosts("127.0.0.1", ["api.example.org"]) == ("api.example.org",)
    assert allowed_hosts("127.0.0.1", ["*"]) == ()


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:5000", True),
        ("LOCALHOST:5000", True),
        ("localhost", True),
        ("[::1]:5000", True),
        ("evil.example", False),
        ("evil.example:5000", False),
        ("127.0.0.1.evil.example", False),
    ],
)
def test_host_allowed(host: str, allowed: bool) -> None:
    assert host_allowed(host, LOOPBACK) is allowed


def test_an_entry_with_a_port_matches_that_port_only() -> None:
    assert host_allowed("api.example.org:8443", ["api.example.org:8443"])
    assert not host_allowed("api.example.org:9999", ["api.example.org:8443"])


@pytest.mark.parametrize(
    ("origin", "host", "same"),
    [
        ("http://127.0.0.1:5000", "127.0.0.1:5000", True),
        ("https://api.example.org", "api.example.org", True),
        ("https://api.example.org", "api.example.org:443", True),
        ("http://localhost:5000", "127.0.0.1:5000", False),
        ("http://127.0.0.1:3000", "127.0.0.1:5000", False),
        ("https://evil.example", "127.0.0.1:5000", False),
        ("null", "127.0.0.1:5000", False),
        ("http://[::1]:5000", "[::1]:5000", True),
    ],
)
def test_same_origin(origin: str, host: str, same: bool) -> None:
    assert same_origin(origin, host) is same


async def test_a_cross_site_form_post_is_refused(client: Client) -> None:
    # What a page on another site can make a browser send: a simple form POST with
    # the arguments in the query string, no preflight.
    resp = await client.post(
        "/v2/models/train-sleeper/train/?tag=csrf",
        data="x=1",
        headers={
            "Origin": "https://evil.example",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert resp.status == 403
    body = await resp.json()
    assert body["code"] == 403 and "evil.example" in body["message"]
    assert await (await client.get("/v2/models/train-sleeper/train/")).json() == []
    resp = await client.delete(
        "/v2/models/train-sleeper/train/0123", headers={"Origin": "https://evil.example"}
    )
    assert resp.status == 403


async def test_same_origin_and_non_browser_posts_pass(client: Client) -> None:
    host = f"{client.host}:{client.port}"
    resp = await client.post("/v2/models/echo/predict?data=1", headers={"Origin": f"http://{host}"})
    assert resp.status == 200
    assert (await client.post("/v2/models/echo/predict?data=1")).status == 200
    # Reading is not refused: the browser keeps the answer from the other page.
    resp = await client.get("/v2/models/", headers={"Origin": "https://evil.example"})
    assert resp.status == 200
    assert "Access-Control-Allow-Origin" not in resp.headers


async def test_a_rebound_host_is_refused(make_client: ClientFactory) -> None:
    client = await make_client(allowed_hosts=LOOPBACK)
    # DNS rebinding: evil.example now resolves to 127.0.0.1; the browser sends its name.
    for method, path in [("GET", "/v2/models/"), ("POST", "/v2/models/echo/predict?data=1")]:
        resp = await client.request(method, path, headers={"Host": "evil.example"})
        assert resp.status == 403
        assert "evil.example" in (await resp.json())["message"]
    assert (await client.get("/v2/models/", headers={"Host": "localhost:5000"})).status == 200
    assert (await client.get("/v2/models/")).status == 200
    # Probes reach health by any name.
    resp = await client.get("/v2/health/live", headers={"Host": "10.0.0.7:5000"})
    assert resp.status == 200


async def test_cors_for_a_named_origin(make_client: ClientFactory) -> None:
    app_origin = "https://app.example.org"
    client = await make_client(cors_origins=(app_origin,))
    preflight = await client.options(
        "/v2/models/echo/predict",
        headers={
            "Origin": app_origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == app_origin
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    resp = await client.post("/v2/models/echo/predict?data=1", headers={"Origin": app_origin})
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == app_origin
    assert "X-Request-ID" in resp.headers["Access-Control-Expose-Headers"]
    # Error answers carry the headers too, so the page can read them.
    resp = await client.post("/v2/models/nope/predict", headers={"Origin": app_origin})
    assert resp.status == 404 and resp.headers["Access-Control-Allow-Origin"] == app_origin
    # Another origin: no CORS headers, and its POSTs are refused.
    other = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    assert (await client.options("/v2/models/echo/predict", headers=other)).status == 403
    resp = await client.post(
        "/v2/models/echo/predict?data=1", headers={"Origin": "https://evil.example"}
    )
    assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers


async def test_cors_for_every_origin(make_client: ClientFactory) -> None:
    client = await make_client(cors_origins=("*",))
    resp = await client.post(
        "/v2/models/echo/predict?data=1", headers={"Origin": "https://a.example"}
    )
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
