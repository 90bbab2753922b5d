"""Shared fixtures: the fake plugins (real entry points of tests/plugins) and apps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from deepaas_lite.config import Settings
from deepaas_lite.model import loading
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.web.app import create_app


def marshmallow_major() -> int:
    from importlib.metadata import version

    return int(version("marshmallow").split(".")[0])


@pytest.fixture(scope="session")
def models() -> dict[str, ModelWrapper]:
    """Every loadable fake plugin (the broken ones are left out)."""
    return loading.load_models()


ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
def make_client(
    aiohttp_client: Any, models: dict[str, ModelWrapper], tmp_path: Path
) -> ClientFactory:
    """Start an app on a loopback port and return a client for it."""

    async def make(**settings: Any) -> TestClient[web.Request, web.Application]:
        settings.setdefault("state_dir", tmp_path / "state")
        # Threads: these apps serve every fake plugin at once, and a worker process each
        # would start dozens of interpreters a test. Worker processes, the default, have
        # their own tests (test_predict_workers.py, the end-to-end servers).
        settings.setdefault("predict_workers", 0)
        served = settings.pop("models", models)
        app = create_app(served, Settings(**settings))
        client: TestClient[web.Request, web.Application] = await aiohttp_client(app)
        return client

    return make


@pytest.fixture
async def client(
    make_client: ClientFactory,
) -> TestClient[web.Request, web.Application]:
    return await make_client()
