"""Bearer tokens over HTTP: which routes need one, the 401, SIGHUP, the spec."""

from __future__ import annotations

import signal
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from openapi_spec_validator import validate

from deepaas_lite.web.routes import MODEL, ROUTES, VERSIONED
from deepaas_lite.web.tokens import TokenFileError, Tokens, read_tokens
from tests.conftest import ClientFactory
from tests.e2e.server import Server, running

Client = TestClient[web.Request, web.Application]

GOOD = {"Authorization": "Bearer s3cret-token"}


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text("# the team\ns3cret-token\n\n  other-token  # a comment\n")
    return path


@pytest.fixture
async def client(make_client: ClientFactory, token_file: Path) -> Client:
    return await make_client(auth_token_file=token_file)


def test_read_tokens_skips_comments_and_blanks(token_file: Path) -> None:
    assert read_tokens(token_file) == (b"s3cret-token", b"other-token")


def test_an_empty_or_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("# nothing\n\n")
    with pytest.raises(TokenFileError, match="holds no token"):
        read_tokens(tmp_path / "empty")
    with pytest.raises(TokenFileError, match="cannot read"):
        read_tokens(tmp_path / "missing")


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", "Bearer ", "Basic czNjcmV0LXRva2Vu", "s3cret-token", "Bearer s3cret"],
)
def test_only_a_listed_bearer_token_is_accepted(token_file: Path, header: str | None) -> None:
    tokens = Tokens(token_file)
    assert not tokens.accepts(header)
    assert tokens.accepts("Bearer s3cret-token")
    assert tokens.accepts("bearer other-token")


# Under a model, open on purpose like its description: readiness, a version's metadata.
OPEN_UNDER_A_MODEL = {("GET", MODEL + "/ready"), ("GET", VERSIONED), ("GET", VERSIONED + "/ready")}


def test_every_route_under_a_model_says_it_is_protected_but_the_descriptions() -> None:
    """A new route under /v2/models/{model_id}/ is open unless it says protected=True:
    this test makes it say so, or be listed here as open on purpose."""
    under = {(route.method, route.path) for route in ROUTES if route.path.startswith(MODEL + "/")}
    protected = {(route.method, route.path) for route in ROUTES if route.protected}
    assert under - protected == OPEN_UNDER_A_MODEL
    assert protected <= under


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/models/echo/predict/?data=1"),
        ("POST", "/v2/models/train-sleeper/train/"),
        ("GET", "/v2/models/train-sleeper/train/"),
        ("GET", "/v2/models/train-sleeper/train/0123"),
        ("DELETE", "/v2/models/train-sleeper/train/0123"),
        ("GET", "/v2/models/train-sleeper/train/0123/log"),
        ("POST", "/v2/models/nope/predict"),
    ],
)
async def test_model_routes_need_a_token(client: Client, method: str, path: str) -> None:
    resp = await client.request(method, path)
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    body = await resp.json()
    assert body["code"] == 401 and "bearer token" in body["message"]
    wrong = await client.request(method, path, headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401


async def test_a_token_opens_them(client: Client) -> None:
    resp = await client.post("/v2/models/echo/predict/?data=1", headers=GOOD)
    assert resp.status == 200
    resp = await client.post("/v2/models/nope/predict/", headers=GOOD)
    assert resp.status == 404
    resp = await client.get("/v2/models/train-sleeper/train/", headers=GOOD)
    assert resp.status == 200


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v2/",
        "/v2/models/",
        "/v2/models/echo/",
        "/v2/health/live",
        "/metrics",
        "/swagger.json",
        "/openapi.json",
        "/ui",
    ],
)
async def test_the_rest_stays_open(client: Client, path: str) -> None:
    assert (await client.get(path)).status == 200


async def test_metrics_auth_protects_metrics(make_client: ClientFactory, token_file: Path) -> None:
    client = await make_client(auth_token_file=token_file, metrics_auth=True)
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/metrics", headers=GOOD)).status == 200


async def test_under_a_base_path(make_client: ClientFactory, token_file: Path) -> None:
    client = await make_client(auth_token_file=token_file, base_path="/deepaas")
    assert (await client.post("/deepaas/v2/models/echo/predict?data=1")).status == 401
    resp = await client.post("/deepaas/v2/models/echo/predict?data=1", headers=GOOD)
    assert resp.status == 200


def _deepaas_run(token_file: Path, tmp_path: Path) -> AbstractContextManager[Server]:
    """A real deepaas-run with ``token_file``: SIGHUP goes to it, not to the test runner."""
    args = ["--model-name", "echo", "--state-dir", str(tmp_path / "state")]
    return running([*args, "--auth-token-file", str(token_file)], tmp_path / "server.log")


def _predict(server: Server, headers: dict[str, str]) -> int:
    return server.request("POST", "/v2/models/echo/predict/?data=1", headers=headers)[0]


def test_sighup_reads_the_file_again(token_file: Path, tmp_path: Path) -> None:
    with _deepaas_run(token_file, tmp_path) as server:
        token_file.write_text("fresh-token\n")
        server.process.send_signal(signal.SIGHUP)
        fresh = {"Authorization": "Bearer fresh-token"}
        for _ in range(200):  # the handler runs on the server's loop, soon after the signal
            if _predict(server, fresh) == 200:
                break
            time.sleep(0.05)
        assert _predict(server, fresh) == 200
        assert _predict(server, GOOD) == 401


def test_a_broken_file_on_sighup_keeps_the_tokens(token_file: Path, tmp_path: Path) -> None:
    with _deepaas_run(token_file, tmp_path) as server:
        token_file.write_text("# all gone\n")
        server.process.send_signal(signal.SIGHUP)
        for _ in range(200):
            if "not reloaded" in server.output():
                break
            time.sleep(0.05)
        assert "Tokens not reloaded, 2 kept" in server.output()
        assert _predict(server, GOOD) == 200


def _security(spec: dict[str, Any], path: str, method: str) -> Any:
    return spec["paths"][path][method].get("security")


async def test_the_documents_declare_the_bearer_scheme(client: Client) -> None:
    spec = await (await client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert _security(spec, "/v2/models/echo/predict", "post") == [{"bearer": []}]
    unauthorized = spec["paths"]["/v2/models/echo/predict"]["post"]["responses"]["401"]
    assert unauthorized["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert _security(spec, "/v2/models/echo", "get") is None
    assert _security(spec, "/v2/health/ready", "get") is None
    validate(spec)
    swagger = await (await client.get("/swagger.json")).json()
    assert swagger["securityDefinitions"]["bearer"]["in"] == "header"
    secured = [
        path
        for path, item in swagger["paths"].items()
        if any("security" in op for op in item.values() if isinstance(op, dict))
    ]
    assert secured and all("/v2/models/" in path for path in secured)
    validate(swagger)


async def test_without_tokens_the_documents_declare_none(make_client: ClientFactory) -> None:
    client = await make_client()
    spec = await (await client.get("/openapi.json")).json()
    assert "securitySchemes" not in spec.get("components", {})
    assert (await client.post("/v2/models/echo/predict/?data=1")).status == 200
