"""``deepaas-run``: load the models, print where things are, serve."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from aiohttp import web

from deepaas_lite import config, exceptions
from deepaas_lite.compat import environment
from deepaas_lite.compat import options as deepaas_options
from deepaas_lite.model import loading
from deepaas_lite.training import state as training_state

LOG = logging.getLogger("deepaas_lite")


def banner(host: str, port: int, base_path: str, model_ids: Sequence[str]) -> str:
    shown = f"[{host}]" if ":" in host else host
    root = f"http://{shown}:{port}{base_path}"
    return "\n".join(
        [
            "deepaas-lite is serving " + (", ".join(model_ids) or "no models"),
            f"  UI:   {root}/ui",
            f"  spec: {root}/openapi.json (OpenAPI 3), {root}/swagger.json (Swagger 2.0)",
            f"  v2:   {root}/v2/",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    conf = config.parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if conf.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    deepaas_options.apply(conf)
    if not _environment_usable():
        return 2
    from deepaas_lite.web.app import create_app  # after the check: it imports webargs

    names = deepaas_options.model_names(conf)
    try:
        models = loading.load_models(names or None)
    except exceptions.UnknownModelNames as exc:
        print(f"deepaas-run: {exc.message}", file=sys.stderr)
        return 2
    missing = [name for name in names if name not in models]
    if missing:
        print(
            f"deepaas-run: could not load model(s): {', '.join(missing)} (see the log)",
            file=sys.stderr,
        )
        return 2
    config.register_model_groups(conf, models)
    settings = config.Settings.from_conf(conf, models)
    if not _state_usable(settings):
        return 2
    app = create_app(models, settings)
    print(
        banner(conf.listen_ip, conf.listen_port, settings.base_path, list(models)),
        flush=True,
    )
    web.run_app(
        app,
        host=conf.listen_ip,
        port=conf.listen_port,
        print=None,
        access_log=LOG if conf.debug else None,
        handle_signals=True,
    )
    return 0


def _environment_usable() -> bool:
    """Log what a DEEPaaS-era install broke; ``False`` when deepaas-lite cannot run."""
    found = environment.problems()
    for problem in found:
        if problem.fatal:
            print(f"deepaas-run: {problem.message}", file=sys.stderr)
        else:
            LOG.warning("%s", problem.message)
    return not any(problem.fatal for problem in found)


def _state_usable(settings: config.Settings) -> bool:
    """Check the state directory and the records database; one line when unusable."""
    try:
        training_state.check(settings.state_dir, reset=settings.reset_state)
    except exceptions.StateUnusable as exc:
        print(f"deepaas-run: {exc.message}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
