"""The web app's page and assets, and where a browser opening / is sent (in-process)."""

from __future__ import annotations

import pytest

from deepaas_lite.web.webapp import wants_html
from tests.conftest import ClientFactory

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("application/json, text/html", False),
        ("text/html;q=0.5, application/json", False),
        ("application/json;q=0.5, text/html", True),
        ("text/html;q=bad", False),
    ],
)
def test_wants_html(accept: str, html: bool) -> None:
    assert wants_html(accept) is html


async def test_a_browser_at_the_root_goes_to_the_app(make_client: ClientFactory) -> None:
    client = await make_client(base_path="/deepaas")
    resp = await client.get("/deepaas/", headers={"Accept": BROWSER}, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/deepaas/app"
    for accept in ("*/*", "application/json"):
        resp = await client.get("/deepaas/", headers={"Accept": accept})
        assert resp.status == 200 and (await resp.json())["versions"][0]["id"] == "v2"


async def test_the_page_names_its_assets_under_the_base_path(make_client: ClientFactory) -> None:
    client = await make_client(base_path="/deepaas")
    for path in ("/deepaas/app", "/deepaas/app/"):
        resp = await client.get(path)
        assert resp.status == 200 and resp.content_type == "text/html"
        page = await resp.text()
        assert '<script src="/deepaas/app/static/app.js" defer></script>' in page
        assert 'href="/deepaas/app/static/app.css"' in page
        assert '<label for="token">API token</label>' in page
    resp = await client.get("/deepaas/app/static/app.js")
    assert resp.status == 200 and resp.content_type == "text/javascript"
    assert "ROOT" in await resp.text()
    resp = await client.get("/deepaas/app/static/app.css")
    assert resp.status == 200 and resp.content_type == "text/css"


async def test_only_the_apps_assets_are_served(make_client: ClientFactory) -> None:
    client = await make_client()
    for name in ("nope.js", "..%2Fwebapp.py", "%2E%2E%2F%2E%2E%2Fconfig.py"):
        resp = await client.get(f"/app/static/{name}")
        assert resp.status == 404, name
        body = await resp.json()
        assert body["code"] == 404
