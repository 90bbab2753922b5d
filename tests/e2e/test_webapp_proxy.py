"""The web app with tokens, under --base-path, behind a real nginx (the docs' config).

A person opens the proxy's ``/deepaas/``, lands on the app, tries a prediction without
a token (401, told to enter one), enters it, and predicts and trains; every request
the page makes goes through the proxy to a documented route under the prefix.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PageErrors, needs_chromium
from tests.e2e.server import running
from tests.e2e.test_reverse_proxy import NGINX, nginx
from tests.e2e.webapp import RequestLog, overflows, unexpected

TOKEN = "app-token-4567"
BASE = "/deepaas"

pytestmark = [
    needs_chromium,
    pytest.mark.skipif(
        NGINX is None and not os.environ.get("CI"),
        reason="nginx is not installed (.ci/run installs it: apt-get install nginx)",
    ),
]


def test_token_then_predict_and_train_behind_nginx(
    tmp_path: Path, page: Page, page_errors: PageErrors, shots: Path
) -> None:
    (tmp_path / "tokens").write_text(f"{TOKEN}\n")
    proxy_dir = tmp_path / "nginx"
    proxy_dir.mkdir()
    args = ["--model-name", "gallery", "--model-name", "steps"]
    args += ["--state-dir", str(tmp_path / "state"), "--base-path", BASE]
    args += ["--auth-token-file", str(tmp_path / "tokens")]
    with (
        running(args, tmp_path / "server.log", base_path=BASE) as server,
        nginx(proxy_dir, int(server.url.rsplit(":", 1)[1])) as proxy,
    ):
        requests = RequestLog(proxy).watch(page)
        page.goto(f"{proxy}{BASE}/")
        expect(page).to_have_url(f"{proxy}{BASE}/app")
        expect(page.locator("li.card")).to_have_count(2)  # the model list needs no token

        page.locator("li.card[data-model=gallery]").get_by_role("link", name="Predict").click()
        predict = page.get_by_role("button", name="Predict", exact=True)
        predict.click()
        alert = page.locator("section.result .alert")
        expect(alert).to_contain_text("401")
        expect(alert).to_contain_text("Enter a token")
        token = page.get_by_label("API token")
        expect(token).to_be_focused()
        page.screenshot(path=shots / "predict-401.png", full_page=True)

        token.fill(TOKEN)
        page.get_by_role("button", name="Use").click()
        predict.click()
        expect(page.locator("section.result table.scores tbody tr")).to_have_count(2)
        assert page.evaluate("sessionStorage.getItem('deepaas-lite-token')") == TOKEN
        page.get_by_text("This request as curl or Python").click()
        curl = page.locator(".snippet-curl").inner_text()
        assert f"'{proxy}{BASE}/v2/models/gallery/predict/'" in curl
        assert 'Authorization: Bearer $DEEPAAS_TOKEN"' in curl and TOKEN not in curl

        # The token holds for the trainings too (the tab reads their list with it).
        page.goto(f"{proxy}{BASE}/app#/models/steps/train")
        page.get_by_label("epochs").fill("2")
        page.get_by_role("button", name="Start training").click()
        card = page.locator("li.training").last
        expect(card.locator(".state")).to_have_text("done")
        expect(card.locator("pre.log")).to_contain_text("epoch 2/2")
        page.set_viewport_size({"width": 390, "height": 844})
        assert not overflows(page)
        page.screenshot(path=shots / "trainings-phone.png", full_page=True)

        status, document = server.json("GET", f"{BASE}/openapi.json")
        assert status == 200
    assert requests.seen, "the page's requests went through the proxy"
    assert requests.undocumented(document, BASE) == []
    assert unexpected(page_errors, 401) == []
    # The refused prediction and the accepted one (a job: 202) reached the server via nginx.
    predicted = [
        line
        for line in server.output().splitlines()
        if "POST /deepaas/v2/models/gallery/predict" in line
    ]
    assert [line.split("predict/ ")[1].split()[0] for line in predicted] == ["401", "202"]
