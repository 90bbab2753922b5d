"""The ceiling: a bare aiohttp server answering the no-op predict with constant JSON.

Run by bench.py with the deepaas-lite virtualenv's Python (same aiohttp):
``python ceiling_server.py PORT``. It serves the same paths as the real servers so
that the same wrk script and readiness probe work unchanged.

``python ceiling_server.py PORT --floor`` is the floor: the same server with the least
that the defaults issue 17 keeps on must do on aiohttp, in one middleware. It takes
the request id (or makes one) and puts it on the answer; it checks the Host header;
it keeps the access line's fields as a tuple. It never formats or writes that line,
and it answers the predict in-process, with no worker process, no metrics, no error
mapping and no security headers. deepaas-lite with its defaults does all of that and
more, so the floor's throughput is more than it can reach on aiohttp.
"""

from __future__ import annotations

import collections
import random
import sys
import time

from aiohttp import web
from aiohttp.typedefs import Handler

_MODELS = {"models": [{"id": "bench-noop", "links": []}]}
_PREDICTION = {"status": "OK", "predictions": {"ok": True}}

_HOSTS = ("127.0.0.1", "localhost")
_ACCESS: collections.deque[tuple[object, ...]] = collections.deque(maxlen=10_000)


async def models(request: web.Request) -> web.Response:
    return web.json_response(_MODELS)


async def predict(request: web.Request) -> web.Response:
    return web.json_response(_PREDICTION)


@web.middleware
async def floor(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id, Host check, access line fields: no more."""
    request_id = request.headers.get("X-Request-ID") or f"{random.getrandbits(128):032x}"
    host = request.headers.get("Host", "")
    if host.rsplit(":", 1)[0] not in _HOSTS:
        raise web.HTTPForbidden()
    start = time.perf_counter()
    response = await handler(request)
    _ACCESS.append(
        (time.time(), request_id, request.method, request.path, response.status,
         time.perf_counter() - start)
    )  # fmt: skip
    response.headers["X-Request-ID"] = request_id
    return response


def make_app(with_floor: bool = False) -> web.Application:
    app = web.Application(middlewares=[floor] if with_floor else [])
    app.router.add_get("/v2/models/", models)
    app.router.add_post("/v2/models/{model}/predict/", predict)
    return app


def main() -> None:
    port = int(sys.argv[1])
    app = make_app(with_floor="--floor" in sys.argv[2:])
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
