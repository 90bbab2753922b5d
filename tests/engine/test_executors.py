"""The executors by name: what each registered one says of itself, the options'
choices, and readiness asking every executor in use."""

from __future__ import annotations

import pytest

from deepaas_lite import config
from deepaas_lite.config import ModelOptions, Settings
from deepaas_lite.engine import executors
from deepaas_lite.engine.elastic import ElasticThreads
from deepaas_lite.engine.processes.jobs import LocalJobs
from deepaas_lite.engine.protocol import JobExecutor, Predictor
from deepaas_lite.model.wrapper import ModelWrapper
from tests.conftest import ClientFactory


class Watched:
    """An executor whose health the test decides; it runs like the local one."""

    name = "watched"

    def __init__(self) -> None:
        self.trouble: str | None = None
        self.local = executors.get("local")

    def connect(self, settings: Settings) -> None:
        pass

    def close(self) -> None:
        pass

    def problem(self) -> str | None:
        return self.trouble

    def predictor(
        self, model: ModelWrapper, options: ModelOptions, threads: ElasticThreads
    ) -> Predictor:
        return self.local.predictor(model, options, threads)

    def serving(self, options: ModelOptions) -> str:
        return "watched threads"

    def jobs(self, settings: Settings) -> JobExecutor:
        return LocalJobs()


EXECUTOR = Watched()


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> Watched:
    monkeypatch.setitem(executors._MODULES, "watched", __name__)
    EXECUTOR.trouble = None
    return EXECUTOR


def test_each_name_gives_its_executor() -> None:
    assert executors.NAMES == ("local", "ray")
    for name in executors.NAMES:
        assert executors.get(name).name == name


def test_an_unknown_name_says_the_known_ones() -> None:
    with pytest.raises(KeyError, match="no executor 'k8s' \\(known: local, ray\\)"):
        executors.get("k8s")


def test_the_options_offer_the_registered_names() -> None:
    for name in executors.NAMES:
        conf = config.parse(["--train-executor", name, "--predict-executor", name])
        assert (conf.train_executor, conf.predict_executor) == (name, name)
    with pytest.raises(SystemExit):
        config.parse(["--train-executor", "k8s"])


def test_the_executors_in_use_each_once() -> None:
    assert [e.name for e in executors.in_use(Settings())] == ["local"]
    both = Settings(predict_executor="local", train_executor="ray")
    assert [e.name for e in executors.in_use(both)] == ["local", "ray"]
    ray = Settings(predict_executor="ray", train_executor="ray")
    assert [e.name for e in executors.in_use(ray)] == ["ray"]


@pytest.mark.parametrize(
    ("name", "workers", "line"),
    [
        ("local", None, "threads"),
        ("local", 1, "1 worker process"),
        ("local", 3, "3 worker processes"),
        ("ray", None, "1 Ray actor"),
        ("ray", 2, "2 Ray actors"),
    ],
)
def test_where_predictions_run_as_the_banner_says(
    name: str, workers: int | None, line: str
) -> None:
    assert executors.get(name).serving(ModelOptions(predict_workers=workers)) == line


async def test_readiness_asks_each_executor_in_use(
    make_client: ClientFactory, models: dict[str, ModelWrapper], watched: Watched
) -> None:
    client = await make_client(models={"echo": models["echo"]}, predict_executor="watched")
    while (resp := await client.get("/v2/health/ready")).status != 200:
        assert (await resp.json())["models"] == ["echo"]  # warming, not the executor

    watched.trouble = "the cluster has no live node"
    resp = await client.get("/v2/health/ready")
    assert resp.status == 503
    body = await resp.json()
    assert body["ready"] is False
    assert body["message"] == "Not ready: the cluster has no live node"

    watched.trouble = None
    assert (await client.get("/v2/health/ready")).status == 200
