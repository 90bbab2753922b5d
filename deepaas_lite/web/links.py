"""Paths the API links to, under the configured base path."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from deepaas_lite.web.keys import SETTINGS


def path(request: web.Request, suffix: str) -> str:
    return request.app[SETTINGS].base_path + suffix


def link(
    request: web.Request, rel: str, suffix: str, type_: str = "application/json"
) -> dict[str, Any]:
    return {"rel": rel, "type": type_, "href": path(request, suffix)}
