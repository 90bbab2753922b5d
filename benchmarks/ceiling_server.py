"""The ceiling: a bare aiohttp server answering the no-op predict with constant JSON.

Run by bench.py with the deepaas-lite virtualenv's Python (same aiohttp):
``python ceiling_server.py PORT``. It serves the same paths as the real servers so
that the same wrk script and readiness probe work unchanged.
"""

from __future__ import annotations

import sys

from aiohttp import web

_MODELS = {"models": [{"id": "bench-noop", "links": []}]}
_PREDICTION = {"status": "OK", "predictions": {"ok": True}}


async def models(request: web.Request) -> web.Response:
    return web.json_response(_MODELS)


async def predict(request: web.Request) -> web.Response:
    return web.json_response(_PREDICTION)


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/v2/models/", models)
    app.router.add_post("/v2/models/{model}/predict/", predict)
    return app


def main() -> None:
    port = int(sys.argv[1])
    web.run_app(make_app(), host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
