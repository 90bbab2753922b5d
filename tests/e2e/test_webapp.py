"""The web app at /app in a real headless Chromium, against one real deepaas-run.

One server for the module serves iris, ``gallery`` (every kind of argument, every kind
of output) and ``steps`` (a training that reports progress one gated step at a time).
Each test checks that the page logged no error and that every request it made is a
documented API route (or the app's own page and assets). Screenshots are saved under
``$DEEPAAS_UI_SHOTS`` (default: the test's temporary directory).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.e2e.conftest import PageErrors, needs_chromium
from tests.e2e.server import Server, running
from tests.e2e.webapp import RequestLog, overflows, unexpected, unlabelled

pytestmark = needs_chromium

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("webapp")
    args = ["--state-dir", str(tmp / "state")]
    for model in ("gallery", "iris-deepaas", "steps"):
        args += ["--model-name", model]
    env = {"DEEPAAS_IRIS_MODEL_DIR": str(tmp / "iris")}
    with running(args, tmp / "server.log", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def document(server: Server) -> dict[str, Any]:
    status, body = server.json("GET", "/openapi.json")
    assert status == 200
    return dict(body)


@pytest.fixture
def requests(page: Page, server: Server) -> RequestLog:
    return RequestLog(server.url).watch(page)


def field(page: Page, name: str) -> Locator:
    return page.locator(f".field[data-field={json.dumps(name)}]")


def open_model(page: Page, server: Server, model: str, tab: str) -> None:
    page.goto(f"{server.url}/app#/models/{model}/{tab}")
    page.locator("form.args").wait_for()


def test_a_browser_at_the_root_lands_on_the_models(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
    shots: Path,
) -> None:
    page.goto(server.url + "/")
    expect(page).to_have_url(f"{server.url}/app")
    cards = page.locator("li.card")
    expect(cards).to_have_count(3)
    gallery = page.locator("li.card[data-model=gallery]")
    for text in ("2.0.1", "The deepaas-lite tests", "MIT", "ready"):
        expect(gallery).to_contain_text(text)
    expect(gallery.get_by_role("link", name="Home page")).to_have_attribute(
        "href", "https://example.invalid/gallery"
    )
    iris = page.locator("li.card[data-model=iris-deepaas]")
    expect(iris.get_by_role("link", name="Train")).to_be_visible()
    expect(
        page.locator("li.card[data-model=steps]").get_by_role("link", name="Predict")
    ).to_have_count(0)
    page.screenshot(path=shots / "models.png", full_page=True)
    assert not overflows(page)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.screenshot(path=shots / "models-phone.png", full_page=True)
    assert not overflows(page)
    # A client's JSON stays DEEPaaS's.
    status, body = server.json("GET", "/")
    assert status == 200 and body["versions"][0]["id"] == "v2"
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []


def test_every_kind_of_argument_and_output(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
    shots: Path,
    tmp_path: Path,
) -> None:
    open_model(page, server, "gallery", "predict")
    assert unlabelled(page) == []
    picture = tmp_path / "picture.png"
    from deepaas_lite_test_plugins.gallery import png, wav

    picture.write_bytes(png(40, 30))
    sound = tmp_path / "sound.wav"
    sound.write_bytes(wav())
    notes = tmp_path / "notes.txt"
    notes.write_text("some notes")

    numbers = field(page, "numbers")
    expect(numbers.locator("input")).to_have_count(2)  # the example, [1.5, 2]
    numbers.locator("input").nth(0).fill("3")
    numbers.locator("input").nth(1).fill("1")
    numbers.get_by_role("button", name="Add an item to numbers").click()
    numbers.locator("input").nth(2).fill("4")
    field(page, "words").get_by_role("button", name="Add an item to words").click()
    field(page, "words").locator("input").fill("hello")
    page.get_by_label("colour").select_option("blue")
    page.get_by_label("flag").check()
    page.get_by_label("level").fill("3")
    page.get_by_label("ratio").fill("0.5")
    page.get_by_label("point").fill('{"x": 1.5}')
    page.get_by_label("tags").fill('{"a": 2}')
    page.get_by_label("größe").fill("7")
    page.get_by_label("upload", exact=True).set_input_files(picture)
    thumbnail = field(page, "upload").locator("img")
    expect(thumbnail).to_have_attribute("alt", "Preview of picture.png")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 40", arg=thumbnail.element_handle()
    )
    page.get_by_label("uploads", exact=True).set_input_files([sound, notes])
    expect(field(page, "uploads").locator("audio")).to_have_count(1)
    expect(field(page, "uploads").locator("figcaption")).to_have_text(
        [f"sound.wav ({sound.stat().st_size / 1024:.1f} kB)", "notes.txt (10 B)"]
    )

    # JSON: the scores as a table (one row a number) and bars, and the whole as a tree.
    page.get_by_role("button", name="Predict", exact=True).click()
    result = page.locator("section.result")
    scores = result.locator("table.scores")
    expect(scores.locator("tbody tr")).to_have_count(3)
    expect(scores.locator("tbody tr").first).to_contain_text("class 2")  # 4 of 8: the top
    expect(scores.locator(".bar")).to_have_count(3)
    tree = result.locator(".tree")
    for text in ('"blue"', '"hello"', '"picture.png"', '"sound.wav"', '"notes.txt"', "größe"):
        expect(tree).to_contain_text(text)
    received = tree.locator("details", has=page.locator("summary", has_text="received")).first
    expect(received).to_contain_text("flag: true")
    expect(received).to_contain_text("ratio: 0.5")
    page.screenshot(path=shots / "predict-json.png", full_page=True)
    result.get_by_text("This request as curl or Python").click()
    curl = result.locator(".snippet-curl").inner_text()
    assert "-X POST" in curl and "/v2/models/gallery/predict/" in curl
    for part in (
        "-F 'colour=blue'",
        "-F 'numbers=3'",
        "-F 'numbers=4'",
        "-F 'upload=@picture.png'",
        "-F 'uploads=@sound.wav'",
        "-F 'point={\"x\":1.5}'",
        "Accept: application/json",
    ):
        assert part in curl, (part, curl)
    python = result.locator(".snippet-python").inner_text()
    assert "requests.post(" in python and '("upload", ("picture.png"' in python

    # An image inline, decoded by the browser (its size is the plugin's: 16 x 12 a level).
    page.get_by_label("Answer as").select_option("image/png")
    page.get_by_role("button", name="Predict", exact=True).click()
    image = result.locator("img.output-image")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [48, 36]
    page.screenshot(path=shots / "predict-image.png", full_page=True)
    # Sound in a player, PDF as a download, text as text.
    page.get_by_label("Answer as").select_option("audio/wav")
    page.get_by_role("button", name="Predict", exact=True).click()
    audio = result.locator("audio.output-audio")
    page.wait_for_function("a => a.duration > 0.4", arg=audio.element_handle())
    page.get_by_label("Answer as").select_option("application/pdf")
    page.get_by_role("button", name="Predict", exact=True).click()
    download = result.locator("a.download", has_text="Download (application/pdf")
    expect(download).to_have_attribute("download", "prediction.pdf")
    with page.expect_download() as saved:
        download.click()
    assert Path(saved.value.path()).read_bytes().startswith(b"%PDF-")
    page.get_by_label("Answer as").select_option("text/plain")
    page.get_by_role("button", name="Predict", exact=True).click()
    text = json.loads(result.locator("pre.output-text").inner_text())
    assert text["colour"] == "blue" and text["numbers"] == [3.0, 1.0, 4.0]
    assert text["upload"]["original_filename"] == "picture.png"
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []


def test_invalid_arguments_are_shown_next_to_their_fields(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
    shots: Path,
) -> None:
    open_model(page, server, "gallery", "predict")
    numbers = field(page, "numbers")
    for _ in range(2):
        numbers.get_by_role("button", name=re.compile("Remove item 1")).click()
    page.get_by_label("level").fill("9")
    page.get_by_label("ratio").fill("1")
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(page.locator("section.result .alert")).to_contain_text("422")
    expect(numbers.locator(".field-error")).to_have_text("Missing data for required field.")
    expect(field(page, "level").locator(".field-error")).to_contain_text("less than or equal to 5")
    expect(field(page, "ratio").locator(".field-error")).not_to_be_empty()
    expect(page.get_by_label("level")).to_have_attribute("aria-invalid", "true")
    expect(field(page, "colour").locator(".field-error")).to_be_empty()
    # The first field in error has the focus.
    expect(numbers.get_by_role("button", name="Add an item to numbers")).to_be_focused()
    page.screenshot(path=shots / "predict-422.png", full_page=True)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert not overflows(page)
    page.screenshot(path=shots / "predict-422-phone.png", full_page=True)
    # A JSON editor says when its text is not an object, before anything is sent.
    page.get_by_label("point").fill('{"x": ')
    expect(field(page, "point").locator(".field-error")).to_contain_text("Not a valid JSON object")
    assert requests.undocumented(document) == []
    assert unexpected(page_errors, 422) == []


def test_the_form_works_from_the_keyboard(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
) -> None:
    open_model(page, server, "gallery", "predict")
    page.get_by_label("level").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    for _ in range(40):  # Tab on to the Predict button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Predict":
            break
    expect(page.get_by_role("button", name="Predict", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    tree = page.locator("section.result .tree")
    expect(tree).to_contain_text("level: 2")
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []


def test_iris_trains_then_predicts(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
    shots: Path,
) -> None:
    open_model(page, server, "iris-deepaas", "predict")
    expect(field(page, "data").locator("input")).to_have_count(4)  # the example flower
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(page.locator("section.result .alert")).to_contain_text("No trained model yet")

    page.get_by_role("link", name="Trainings").click()
    page.get_by_role("button", name="Start training").click()
    card = page.locator("li.training").last
    expect(card.locator(".state")).to_have_text("done", timeout=120_000)
    rows = card.locator("table.result-table tbody tr")
    expect(rows.filter(has_text="accuracy")).to_have_count(1)
    accuracy = float(rows.filter(has_text="accuracy").locator("td").inner_text())
    assert accuracy > 0.8
    expect(card.locator("progress")).to_have_attribute("data-fraction", "1")

    page.get_by_role("link", name="Predict").click()
    page.get_by_role("button", name="Predict", exact=True).click()
    tree = page.locator("section.result .tree")
    expect(tree).to_contain_text("labels: [1]")
    expect(tree.locator(".leaf")).to_have_count(1)
    expect(tree.locator(".leaf .value")).to_have_text("0")
    page.screenshot(path=shots / "iris-predict.png", full_page=True)
    assert requests.undocumented(document) == []
    assert unexpected(page_errors, 503) == []


def _start(page: Page, server: Server, epochs: int, gate: Path | None) -> Locator:
    """Start a ``steps`` training from the form; its card."""
    # The page lists the trainings the server has (earlier tests' too) once it has read
    # them: counted before that read, a card that appears later would look new.
    status, records = server.json("GET", "/v2/models/steps/train/")
    assert status == 200, records
    before = len(records)
    expect(page.locator("li.training")).to_have_count(before)
    page.get_by_label("epochs").fill(str(epochs))
    page.get_by_label("gate").fill(str(gate) if gate else "")
    page.get_by_role("button", name="Start training").click()
    expect(page.locator("li.training")).to_have_count(before + 1)
    uuid = page.locator("li.training").last.get_attribute("data-uuid")
    return page.locator(f"li.training[data-uuid='{uuid}']")


def test_a_training_shows_its_progress_and_log_while_it_runs(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
    shots: Path,
    tmp_path: Path,
) -> None:
    open_model(page, server, "steps", "train")
    gate = tmp_path / "gate"
    card = _start(page, server, 3, gate)
    badge, bar, log = card.locator(".state"), card.locator("progress"), card.locator("pre.log")
    expect(badge).to_have_text("running")
    expect(log).to_be_visible()  # a training started here shows its log
    seen = []
    for step in (1, 2, 3):
        (tmp_path / f"gate.{step}").touch()
        expect(log).to_contain_text(f"epoch {step}/3")
        fraction = f"{step / 3}" if step < 3 else "1"
        expect(bar).to_have_attribute("data-fraction", re.compile("^" + re.escape(fraction[:6])))
        seen.append((badge.inner_text(), bar.get_attribute("data-fraction")))
        if step == 2:
            page.screenshot(path=shots / "training-running.png", full_page=True)
    # The bar moved twice while the training ran (the third step ends it).
    assert [status for status, _ in seen[:2]] == ["running", "running"], seen
    assert len({fraction for _, fraction in seen}) == 3
    expect(badge).to_have_text("done")
    rows = card.locator("table.result-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="epochs").locator("td")).to_have_text("3")
    expect(card.locator(".elapsed")).to_contain_text("took")
    assert log.inner_text().count("epoch ") == 3  # read incrementally, each line once
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []


def test_a_log_read_while_another_is_on_its_way_shows_each_line_once(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
    tmp_path: Path,
) -> None:
    # Slow log reads (a busy machine): the card's last read, when the training ends,
    # starts while the one before is still on its way. Each line still shows once.
    open_model(page, server, "steps", "train")
    gate = tmp_path / "gate"
    card = _start(page, server, 3, gate)
    log = card.locator("pre.log")
    (tmp_path / "gate.1").touch()
    expect(log).to_contain_text("epoch 1/3")

    def slowly(route: Route) -> None:
        time.sleep(1.0)
        route.continue_()

    page.route(re.compile(r".*/train/[0-9a-f]+/log$"), slowly)
    (tmp_path / "gate.2").touch()
    (tmp_path / "gate.3").touch()
    expect(card.locator(".state")).to_have_text("done")
    expect(log).to_contain_text("epoch 3/3")
    page.wait_for_timeout(3000)  # every read on its way has answered
    assert [line for line in log.inner_text().splitlines() if line] == [
        "epoch 1/3: loss 1.000",
        "epoch 2/3: loss 0.500",
        "epoch 3/3: loss 0.333",
    ]
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []


def test_cancel_delete_and_compare(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
    shots: Path,
    tmp_path: Path,
) -> None:
    open_model(page, server, "steps", "train")
    stuck = _start(page, server, 2, tmp_path / "never")
    expect(stuck.locator(".state")).to_have_text("running")
    uuid = stuck.get_attribute("data-uuid")
    stuck.get_by_role("button", name=re.compile("^Cancel training")).click()
    expect(stuck.locator(".state")).to_have_text("cancelled")
    assert server.json("GET", f"/v2/models/steps/train/{uuid}")[1]["status"] == "cancelled"
    stuck.get_by_role("button", name=re.compile("^Delete training")).click()
    expect(page.locator(f"li.training[data-uuid='{uuid}']")).to_have_count(0)
    assert server.json("GET", f"/v2/models/steps/train/{uuid}")[0] == 404

    first = _start(page, server, 2, None)
    expect(first.locator(".state")).to_have_text("done")
    second = _start(page, server, 4, None)
    expect(second.locator(".state")).to_have_text("done")
    # Each training wrote a version to the model store: the last one done is served,
    # and an older one can be made current again.
    expect(second.locator(".version .badge")).to_have_text("current")
    first.get_by_role("button", name=re.compile("^Serve the version")).click()
    expect(first.locator(".version .badge")).to_have_text("current")
    expect(second.get_by_role("button", name=re.compile("^Serve the version"))).to_be_visible()
    first_uuid = first.get_attribute("data-uuid") or ""
    expect(page.locator(".store-line")).to_contain_text(first_uuid[:8])
    assert server.json("GET", "/v2/models/steps/")[1]["store"]["current"] == first_uuid
    first.get_by_label("Compare").check()
    second.get_by_label("Compare").check()
    table = page.locator("table.compare-table")
    rows = table.locator("tbody tr")
    expect(rows.filter(has_text="argument: epochs").locator("td")).to_have_text(["2", "4"])
    expect(rows.filter(has_text="loss").locator("td")).to_have_text(["0.5", "0.25"])
    expect(rows.filter(has_text="status").locator("td")).to_have_text(["done", "done"])
    page.screenshot(path=shots / "trainings.png", full_page=True)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    assert not overflows(page)
    page.screenshot(path=shots / "trainings-phone.png", full_page=True)
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []


def test_a_training_that_ends_before_the_page_sees_it_run_still_makes_its_version_current(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
) -> None:
    # A quick training on a busy machine: it has ended by the time the page first lists
    # it, so its card never sees it running. The page still shows its version current.
    open_model(page, server, "steps", "train")
    held: list[str] = []

    def after_the_end(route: Route) -> None:
        if route.request.method == "GET" and not held:
            held.append(route.request.url)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                _, records = server.json("GET", "/v2/models/steps/train/")
                if records and all(r["status"] not in ("pending", "running") for r in records):
                    break
                time.sleep(0.05)
        route.continue_()

    page.route(re.compile(r".*/v2/models/steps/train/$"), after_the_end)
    card = _start(page, server, 1, None)
    assert held, "the page did not list the trainings after starting one"
    expect(card.locator(".state")).to_have_text("done")
    uuid = card.get_attribute("data-uuid")
    assert server.json("GET", "/v2/models/steps/")[1]["store"]["current"] == uuid
    expect(card.locator(".version .badge")).to_have_text("current")
    expect(page.locator(".store-line")).to_contain_text((uuid or "")[:8])
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []


def _jobs(server: Server) -> list[dict[str, Any]]:
    status, jobs = server.json("GET", "/v2/models/gallery/predictions/")
    assert status == 200
    return list(jobs)


def test_a_long_prediction_is_a_job_that_can_be_cancelled(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
    tmp_path: Path,
) -> None:
    open_model(page, server, "gallery", "predict")
    before = len(_jobs(server))
    page.get_by_label("wait_for").fill(str(tmp_path / "never"))
    page.get_by_role("button", name="Predict", exact=True).click()
    cancel = page.get_by_role("button", name="Cancel", exact=True)
    expect(cancel).to_be_visible()
    expect(page.locator(".busy .spinner")).to_be_visible()
    for _ in range(600):  # the job reaches the plugin
        jobs = _jobs(server)
        if len(jobs) > before and jobs[-1]["status"] == "running":
            break
        time.sleep(0.05)
    assert jobs[-1]["status"] == "running", jobs
    cancel.click()
    expect(page.locator("section.result .alert")).to_have_text("Cancelled.")
    expect(cancel).to_be_hidden()
    for _ in range(600):
        if _jobs(server)[-1]["status"] == "cancelled":
            break
        time.sleep(0.05)
    assert _jobs(server)[-1]["status"] == "cancelled"
    (tmp_path / "never").touch()  # let the plugin's thread go

    # One that ends: its output, read from the job, is rendered as a direct answer is.
    gate = tmp_path / "gate"
    page.get_by_label("wait_for").fill(str(gate))
    page.get_by_role("button", name="Predict", exact=True).click()
    expect(cancel).to_be_visible()
    gate.touch()
    expect(page.locator("section.result table.scores tbody tr")).to_have_count(2)
    expect(cancel).to_be_hidden()
    paths = [path for _, path in requests.seen]
    assert any(re.fullmatch(r"/v2/models/gallery/predictions/\w+/output", p) for p in paths)
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []


def test_many_models_can_be_filtered(
    page: Page, page_errors: PageErrors, tmp_path: Path, shots: Path
) -> None:
    names = ["echo", "kinds", "bare", "bare-predict", "schema-output", "gallery", "steps"]
    args = ["--state-dir", str(tmp_path / "state")]
    for name in names:
        args += ["--model-name", name]
    with running(args, tmp_path / "server.log") as server:
        requests = RequestLog(server.url).watch(page)
        page.goto(server.url + "/app")
        cards = page.locator("li.card")
        expect(cards).to_have_count(len(names))
        page.get_by_label("Filter the models").fill("every kind")  # their descriptions
        expect(cards.locator("visible=true")).to_have_count(2)  # kinds, gallery
        expect(page.locator("li.card[data-model=kinds]")).to_be_visible()
        page.get_by_label("Filter the models").fill("")
        expect(cards.locator("visible=true")).to_have_count(len(names))
        page.screenshot(path=shots / "many-models.png", full_page=True)
        assert unlabelled(page) == []
        document = server.json("GET", "/openapi.json")[1]
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []


def test_a_file_dropped_on_its_field(
    page: Page,
    page_errors: PageErrors,
    server: Server,
    requests: RequestLog,
    document: dict[str, Any],
) -> None:
    open_model(page, server, "gallery", "predict")
    # What the browser hands the page when a file is dropped on it.
    dropped = page.evaluate_handle(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File(['dropped text'], 'dropped.txt', {type: 'text/plain'}));
            return transfer;
        }"""
    )
    zone = field(page, "upload").locator(".drop")
    zone.dispatch_event("dragover", {"dataTransfer": dropped})
    zone.dispatch_event("drop", {"dataTransfer": dropped})
    expect(field(page, "upload").locator("figcaption")).to_have_text("dropped.txt (12 B)")
    page.get_by_role("button", name="Predict", exact=True).click()
    upload = page.locator("section.result .tree details", has_text="original_filename").first
    expect(upload).to_contain_text('"dropped.txt"')
    expect(upload).to_contain_text("size: 12")
    assert requests.undocumented(document) == []
    assert unexpected(page_errors) == []
