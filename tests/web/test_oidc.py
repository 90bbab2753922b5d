"""JWTs of an OpenID Connect provider (--auth-oidc-issuer): which tokens open the routes.

The provider is a real HTTP server on a loopback port, in a thread (the server under
test reads the keys at start, before its loop serves): its discovery document and its
JWKS, with keys made here and tokens signed by PyJWT.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from deepaas_lite.config import Settings
from deepaas_lite.web import auth, oidc
from deepaas_lite.web.authenticator import AuthSetupError
from tests.conftest import ClientFactory

Client = TestClient[web.Request, web.Application]
AUDIENCE = "deepaas-api"
PREDICT = "/v2/models/echo/predict/?data=1"


class Provider:
    """An issuer: its URL, the keys it publishes (by kid), and tokens signed with them."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {"k1": _new_key()}
        self.reads = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/realms/ai"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def token(self, kid: str = "k1", **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": AUDIENCE, "sub": "someone", "exp": now + 300, **claims}
        body = {key: value for key, value in body.items() if value is not None}
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def _jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.keys.items():
            public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**public, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/realms/ai/.well-known/openid-configuration":
                    body = {"issuer": provider.url, "jwks_uri": provider.url + "/certs"}
                elif self.path == "/realms/ai/certs":
                    provider.reads += 1
                    body = provider._jwks()
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def provider() -> Iterator[Provider]:
    found = Provider()
    yield found
    found.close()


@pytest.fixture
async def client(make_client: ClientFactory, provider: Provider) -> Client:
    return await make_client(auth_oidc_issuer=provider.url, auth_oidc_audience=AUDIENCE)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_of_the_issuer_opens_the_protected_routes(
    client: Client, provider: Provider
) -> None:
    assert (await client.post(PREDICT, headers=_bearer(provider.token()))).status == 200
    refused = await client.post(PREDICT)
    assert refused.status == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "bearer token" in (await refused.json())["message"]
    assert (await client.get("/v2/models/")).status == 200  # open routes stay open
    spec = await (await client.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert scheme["description"] == "A JWT of the server's --auth-oidc-issuer"


def _alg_confusion(provider: Provider) -> str:
    """HS256, its secret the issuer's public key: a token anyone could forge."""
    public = (
        provider.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    body = {"iss": provider.url, "aud": AUDIENCE, "exp": int(time.time()) + 300}
    header = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    signing = jwt.api_jws.PyJWS()
    signing._algorithms["HS256"].prepare_key = lambda key: key  # type: ignore[method-assign]
    return signing.encode(json.dumps(body).encode(), public, algorithm="HS256", headers=header)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda p: p.token(exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda p: p.token(exp=None), id="no-expiry"),
        pytest.param(lambda p: p.token(aud="another-api"), id="another-audience"),
        pytest.param(lambda p: p.token(iss="http://127.0.0.1:9/realms/other"), id="another-issuer"),
        pytest.param(
            lambda p: jwt.encode(
                {"iss": p.url, "aud": AUDIENCE, "exp": int(time.time()) + 300},
                _new_key(),
                algorithm="RS256",
                headers={"kid": "k1"},
            ),
            id="another-key-same-kid",
        ),
        pytest.param(_alg_confusion, id="hs256-with-the-public-key"),
        pytest.param(lambda p: "not.a.jwt", id="garbage"),
    ],
)
async def test_tokens_the_server_refuses(client: Client, provider: Provider, make: Any) -> None:
    resp = await client.post(PREDICT, headers=_bearer(make(provider)))
    assert resp.status == 401


async def test_a_rotated_key_is_read_again_at_most_once_a_while(
    client: Client, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = provider.reads
    provider.keys["k2"] = _new_key()
    # Read just now: a token of an unknown key does not make the server read them again.
    assert (await client.post(PREDICT, headers=_bearer(provider.token("k2")))).status == 401
    assert provider.reads == reads
    monkeypatch.setattr(oidc, "REFRESH_AFTER", 0.0)
    assert (await client.post(PREDICT, headers=_bearer(provider.token("k2")))).status == 200
    assert provider.reads == reads + 1


def test_the_start_needs_the_issuer_and_an_audience(provider: Provider, tmp_path: Path) -> None:
    with pytest.raises(AuthSetupError, match="needs --auth-oidc-audience"):
        auth.from_settings(Settings(auth_oidc_issuer=provider.url))
    gone = Provider()
    gone.close()
    unreachable = Settings(auth_oidc_issuer=gone.url, auth_oidc_audience=AUDIENCE)
    with pytest.raises(AuthSetupError, match="cannot read the signing keys"):
        auth.from_settings(unreachable)
    tokens = tmp_path / "tokens"
    tokens.write_text("a-token\n")
    both = Settings(
        auth_token_file=tokens, auth_oidc_issuer=provider.url, auth_oidc_audience=AUDIENCE
    )
    with pytest.raises(AuthSetupError, match="more than one way"):
        auth.from_settings(both)
