"""``deepaas-run``'s work: load the models, print where things are, serve (``run.py`` is
its entry point)."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Mapping, Sequence

from oslo_config import cfg

from deepaas_lite import __version__, config, exceptions, logs
from deepaas_lite.cmd import serve
from deepaas_lite.compat import environment, model_variable, oslo_log
from deepaas_lite.engine import executors, heap
from deepaas_lite.engine.batching import policy_for
from deepaas_lite.model import loading, plugin_files
from deepaas_lite.model import store as model_store
from deepaas_lite.model.wrapper import ModelWrapper
from deepaas_lite.training import state as training_state
from deepaas_lite.web import webhooks
from deepaas_lite.web.authenticator import Authenticator

LOG = logging.getLogger("deepaas_lite")


def banner(
    host: str,
    port: int,
    base_path: str,
    model_ids: Sequence[str],
    *,
    scheme: str = "http",
    details: Sequence[tuple[str, str]] = (),
) -> str:
    """Where the app, the UI, the spec and the API are; ``details`` are (label, value) lines shown
    before them. The values start in one column."""
    shown = f"[{host}]" if ":" in host else host
    root = f"{scheme}://{shown}:{port}{base_path}"
    lines = [
        *details,
        ("app", f"{root}/app"),
        ("UI", f"{root}/ui"),
        ("spec", f"{root}/openapi.json (OpenAPI 3), {root}/swagger.json (Swagger 2.0)"),
        ("v2", f"{root}/v2/"),
    ]
    width = max(len(label) for label, _ in lines) + 1
    return "\n".join(
        [
            "deepaas-lite is serving " + (", ".join(model_ids) or "no models"),
            *(f"  {label + ':':<{width}} {value}" for label, value in lines),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    conf = config.parse(sys.argv[1:] if argv is None else argv)
    logs.setup(conf.log_format, conf.debug, access_log=conf.access_log)
    oslo_log.apply(conf)
    if not _environment_usable():
        return 2
    names = model_variable.model_names(conf)
    try:
        files = plugin_files.parse_all(conf.plugin)
    except exceptions.ModelLoadError as exc:
        print(f"deepaas-run: {exc.message}", file=sys.stderr)
        return 2
    if conf.reload:
        from deepaas_lite.cmd import reload  # watchfiles, only when asked

        return reload.supervise(
            sys.argv[1:] if argv is None else argv,
            conf.listen_ip,
            conf.listen_port,
            reload.watched(files, names),
        )
    # The port first: taken, it is one line and an exit before any plugin is imported.
    try:
        sock = serve.listening_socket(conf.listen_ip, conf.listen_port)
    except OSError as exc:
        print(serve.cannot_listen(conf.listen_ip, conf.listen_port, exc), file=sys.stderr)
        return serve.EXIT_BIND
    with sock:  # closed on every way out; serving closes it too
        return _serve(conf, files, [*names, *files], sock)


def _serve(
    conf: cfg.ConfigOpts,
    files: Mapping[str, plugin_files.PluginFile],
    names: list[str],
    sock: socket.socket,
) -> int:
    """Load the models, check the settings, serve on ``sock``."""
    from deepaas_lite.web import auth  # after the environment's check: they import webargs
    from deepaas_lite.web.app import create_app

    plugin_files.export(files)
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
    # Before joining a cluster: its tasks and actors are told where the store is.
    model_store.export(settings.model_store)
    if not _executors_connected(settings):
        return 2
    try:
        context = serve.ssl_context(conf.ssl_certfile, conf.ssl_keyfile)
        app = create_app(models, settings)
    except (serve.StartupError, auth.AuthSetupError, webhooks.WebhookSetupError) as exc:
        print(f"deepaas-run: {exc}", file=sys.stderr)
        return 2

    def startup_banner(port: int) -> str:
        return banner(
            conf.listen_ip,
            port,
            settings.base_path,
            list(models),
            scheme="https" if context is not None else "http",
            details=_details(settings, models, app.get(auth.AUTHENTICATOR)),
        )

    heap.enable()
    try:
        return serve.run(app, conf.listen_ip, conf.listen_port, context, startup_banner, sock)
    finally:
        for executor in executors.in_use(settings):
            executor.close()


def _details(
    settings: config.Settings,
    models: Mapping[str, ModelWrapper],
    authenticator: Authenticator | None,
) -> list[tuple[str, str]]:
    """The banner's facts: version, models and where they run, state, access."""
    executor = executors.get(settings.predict_executor)
    served = []
    for model_id, model in models.items():
        options = settings.options_for(model_id)
        where = executor.serving(options)
        if policy_for(model, options.max_batch_size, options.max_batch_delay) is not None:
            where += ", batched"
        served.append(f"{model_id} ({where})")
    access = "open (no --auth-token-file)" if authenticator is None else authenticator.describe()
    return [
        ("version", __version__),
        ("models", ", ".join(served) or "none"),
        ("state", str(settings.state_dir)),
        ("access", access),
    ]


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


def _executors_connected(settings: config.Settings) -> bool:
    """Connect the executors in use (Ray joins its cluster); one line when one cannot."""
    for executor in executors.in_use(settings):
        try:
            executor.connect(settings)
        except exceptions.DeepaasError as exc:
            print(f"deepaas-run: {exc.message}", file=sys.stderr)
            return False
    return True
