"""Options, as oslo.config options: flags, ``--config-file`` and the generated sample."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs
from oslo_config import cfg

from deepaas_lite import __version__
from deepaas_lite.compat import options as deepaas_options

MIB = 1024 * 1024

DEFAULT_STATE_DIR = platformdirs.user_data_dir("deepaas-lite")

OPTS: list[cfg.Opt] = [
    cfg.HostAddressOpt("listen-ip", default="127.0.0.1", help="IP address the server listens on."),
    cfg.PortOpt("listen-port", default=5000, help="TCP port the server listens on."),
    cfg.MultiStrOpt(
        "model-name",
        default=[],
        help="Serve only this model (an entry-point name of the deepaas.v2.model "
        "group). Repeat it to serve several. Default: every installed model.",
    ),
    cfg.MultiStrOpt(
        "plugin",
        default=[],
        metavar="[ID=]PATH[:OBJECT]",
        help="Serve the plugin in this Python file, with no packaging: the module, or "
        "its OBJECT (a class or an object); its id is ID, else the file's name. Repeat it "
        "to serve several. With it, installed models are served only when named by "
        "--model-name.",
    ),
    cfg.BoolOpt(
        "reload",
        default=False,
        help="Restart serving when a source file of the served plugins changes (for "
        "development). Trainings running then end as interrupted, as at any restart.",
    ),
    cfg.StrOpt(
        "state-dir",
        default=DEFAULT_STATE_DIR,
        sample_default="~/.local/share/deepaas-lite",
        help="Directory for training records, logs and training inputs.",
    ),
    cfg.IntOpt(
        "client-max-size",
        default=100 * MIB,
        min=0,
        help="Largest request body accepted, in bytes; larger ones get 413. 0 means no limit.",
    ),
    cfg.IntOpt(
        "train-workers",
        default=1,
        min=1,
        help="How many trainings run at once; more wait as pending, in order.",
    ),
    cfg.IntOpt(
        "train-history",
        default=100,
        min=1,
        help="Finished training records kept per model; older ones are pruned with their logs.",
    ),
    cfg.FloatOpt(
        "train-timeout",
        default=0,
        min=0,
        help="Seconds a training may run; past them its processes are killed and it "
        "ends in error. 0 means no limit.",
    ),
    cfg.IntOpt(
        "train-queue-max",
        default=100,
        min=0,
        help="Trainings that may wait as pending, over all models; beyond them a new "
        "training is refused with 429 and Retry-After. 0 means no limit.",
    ),
    cfg.IntOpt(
        "train-log-max-bytes",
        default=50 * MIB,
        min=0,
        help="Largest training log, in bytes: beyond it the log keeps its beginning and "
        "its latest output, with a line saying how much was cut. 0 means no limit.",
    ),
    cfg.BoolOpt(
        "reset-state",
        default=False,
        help="At startup, when the training records database cannot be read, move it "
        "aside (trainings.sqlite3.corrupt-<time>) and start a new one, instead of "
        "refusing to start.",
    ),
    cfg.IntOpt(
        "predict-workers",
        default=0,
        min=0,
        help="Run predictions in a pool of this many warmed worker processes per "
        "model (for CPU-bound models). 0 runs them in threads of the server "
        "process.",
    ),
    cfg.IntOpt(
        "max-batch-size",
        min=1,
        help="For models with predict_batch: group up to this many concurrent "
        "requests into one call. 1 turns batching off. Default: the plugin's "
        "max_batch_size attribute, else 32.",
    ),
    cfg.FloatOpt(
        "max-batch-delay",
        min=0,
        help="For models with predict_batch: seconds a batch waits for more "
        "requests after its first one arrives. Default: the plugin's "
        "max_batch_delay attribute, else 0.005.",
    ),
    cfg.IntOpt(
        "predict-concurrency",
        default=32,
        min=1,
        help="Predictions of one model that run at once in threads of the server "
        "(calls whose client has gone count until they end), so that one model's "
        "slow calls cannot take every thread. With predict_workers, the workers are "
        "the limit.",
    ),
    cfg.IntOpt(
        "predict-queue-max",
        default=128,
        min=0,
        help="Predictions of one model that may wait for a free thread or worker; "
        "beyond them the answer is 503 with Retry-After.",
    ),
    cfg.FloatOpt(
        "predict-timeout",
        default=0,
        min=0,
        help="Seconds a prediction may take, waiting included; past them the answer "
        "is 504 and the call's result is discarded (a worker process running it is "
        "replaced). 0 means no limit.",
    ),
    cfg.StrOpt(
        "base-path",
        default="",
        help="Serve everything (API, spec, UI) under this path prefix, e.g. "
        "/deepaas behind a reverse proxy.",
    ),
    cfg.BoolOpt(
        "warm",
        default=True,
        help="Call each model's warm() before reporting ready.",
    ),
    cfg.BoolOpt("debug", short="d", default=False, help="Log at debug level."),
    # DEEPaaS's endpoint switches (docs/migration.md).
    cfg.BoolOpt(
        "predict-endpoint",
        default=True,
        help="Serve the predict endpoint. Off: POST .../predict/ answers 404 and the "
        "API documents leave it out.",
    ),
    cfg.BoolOpt(
        "train-endpoint",
        default=True,
        help="Serve the train endpoints (start, list, get, cancel, log). Off: they "
        "answer 404 and the API documents leave them out.",
    ),
    cfg.BoolOpt(
        "doc-endpoint",
        default=True,
        help="Serve the API documents and the UI (/swagger.json, /openapi.json, /ui, "
        "/api). Off: they answer 404.",
    ),
    # Access control, TLS and browser origins (docs/security.md).
    cfg.StrOpt(
        "auth-token-file",
        help="File of bearer tokens, one a line (# starts a comment). When set, every "
        "model route (predict, train, trainings, logs) needs 'Authorization: Bearer "
        "<token>'. Read again on SIGHUP.",
    ),
    cfg.BoolOpt(
        "metrics-auth",
        default=False,
        help="With --auth-token-file, /metrics needs a token too.",
    ),
    cfg.StrOpt("ssl-certfile", help="Serve HTTPS with this PEM certificate (chain)."),
    cfg.StrOpt("ssl-keyfile", help="The private key of --ssl-certfile (PEM)."),
    cfg.MultiStrOpt(
        "cors-origin",
        default=[],
        help="A browser origin (e.g. https://app.example.org) allowed to call the API "
        "from its pages; repeat for several; * allows every origin. Default: none, and "
        "state-changing requests from other origins are refused.",
    ),
    cfg.MultiStrOpt(
        "allowed-host",
        default=[],
        help="A Host header value the server answers (a name, with or without :port); "
        "repeat for several; * allows any. Default: the listen address, plus localhost, "
        "127.0.0.1 and [::1] when listening on loopback; any Host when listening on "
        "all addresses.",
    ),
    cfg.StrOpt(
        "log-format",
        default="text",
        choices=["text", "json"],
        help="How log lines are written to stderr: text, or JSON objects one a line.",
    ),
    cfg.BoolOpt(
        "access-log",
        default=True,
        help="Log one line per request (method, path, status, duration, model, request "
        "id). --noaccess-log leaves it out (it costs about 10-20 us a request).",
    ),
    # Executors on a Ray cluster (docs/ray.md; needs the deepaas-lite[ray] extra).
    cfg.StrOpt(
        "train-executor",
        default="local",
        choices=["local", "ray"],
        help="Where trainings run: local (a process of their own on this machine) or "
        "ray (a task on the Ray cluster of --ray-address).",
    ),
    cfg.StrOpt(
        "predict-executor",
        default="local",
        choices=["local", "ray"],
        help="Where predictions run: local (threads, or --predict-workers processes) or "
        "ray (--predict-workers Ray actors per model, at least one, spread over the "
        "cluster).",
    ),
    cfg.StrOpt(
        "ray-address",
        help="The Ray cluster to use: the head node's address (HOST:PORT, as 'ray start "
        "--head' prints it) or auto. Default: a Ray instance of this server's own.",
    ),
    cfg.StrOpt(
        "ray-node-ip-address",
        help="The IP address of the Ray node on this machine (its 'ray start "
        "--node-ip-address'), which this server joins. Default: Ray's choice.",
    ),
    cfg.StrOpt(
        "ray-namespace",
        help="The Ray namespace of this server's tasks and actors. Default: one of its "
        "own, so that servers sharing a cluster never see each other's.",
    ),
    cfg.StrOpt(
        "ray-train-resources",
        help='What each training asks of the Ray cluster, as JSON, e.g. {"num_cpus": 2, '
        '"num_gpus": 1} (other keys are custom resources). Default: the plugin\'s '
        'get_metadata()["resources"], else {"num_cpus": 1}.',
    ),
    cfg.StrOpt(
        "ray-predict-resources",
        default='{"num_cpus": 1}',
        help="What each predict actor asks of the Ray cluster, as JSON.",
    ),
]


MODEL_GROUP_PREFIX = "model:"

MODEL_OPTS: list[cfg.Opt] = [
    cfg.FloatOpt(
        "train-timeout",
        min=0,
        help="This model's training time limit in seconds, 0 for none (overrides "
        "[DEFAULT] train_timeout).",
    ),
    cfg.IntOpt(
        "predict-workers",
        min=0,
        help="This model's worker processes (overrides [DEFAULT] predict_workers).",
    ),
    cfg.IntOpt(
        "max-batch-size",
        min=1,
        help="This model's largest batch (overrides [DEFAULT] max_batch_size).",
    ),
    cfg.FloatOpt(
        "max-batch-delay",
        min=0,
        help="This model's batch delay in seconds (overrides [DEFAULT] max_batch_delay).",
    ),
    cfg.IntOpt(
        "predict-concurrency",
        min=1,
        help="This model's predictions running at once (overrides [DEFAULT] predict_concurrency).",
    ),
    cfg.IntOpt(
        "predict-queue-max",
        min=0,
        help="This model's waiting predictions (overrides [DEFAULT] predict_queue_max).",
    ),
    cfg.FloatOpt(
        "predict-timeout",
        min=0,
        help="This model's prediction time limit in seconds, 0 for none (overrides "
        "[DEFAULT] predict_timeout).",
    ),
]


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The options, for ``oslo-config-generator`` (entry point ``oslo.config.opts``).

    ``[model:<id>]`` stands for one section per model, e.g. ``[model:iris-deepaas]``.
    """
    return [("DEFAULT", OPTS + deepaas_options.OPTS), (MODEL_GROUP_PREFIX + "<id>", MODEL_OPTS)]


def register_model_groups(conf: cfg.ConfigOpts, model_ids: Iterable[str]) -> None:
    """Register a ``[model:<id>]`` section for each model (config-file options only)."""
    for model_id in model_ids:
        conf.register_opts(MODEL_OPTS, group=cfg.OptGroup(MODEL_GROUP_PREFIX + model_id))


def parse(argv: Sequence[str] | None = None, prog: str = "deepaas-run") -> cfg.ConfigOpts:
    """Parse flags and config files into a fresh ``ConfigOpts``."""
    conf = cfg.ConfigOpts()
    conf.register_cli_opts([_with_default_in_help(opt) for opt in OPTS])
    conf.register_cli_opts(deepaas_options.OPTS)
    conf(
        list(argv) if argv is not None else None,
        project="deepaas-lite",
        prog=prog,
        version=__version__,
        default_config_files=[],
        default_config_dirs=[],
    )
    deepaas_options.normalise(conf)
    return conf


def _with_default_in_help(opt: cfg.Opt) -> cfg.Opt:
    """``opt`` for ``--help``: its help ends with its default, unless it says it already."""
    default = opt.sample_default if opt.sample_default is not None else opt.default
    if default in (None, "", []) or "Default:" in (opt.help or ""):
        return opt
    shown = default if not isinstance(default, bool) else str(default).lower()
    described = copy.copy(opt)
    described.help = f"{opt.help} (default: {shown})"
    return described


def normalise_base_path(path: str) -> str:
    """``"deepaas/"`` -> ``"/deepaas"``; ``""`` and ``"/"`` -> ``""``."""
    path = path.strip().strip("/")
    return f"/{path}" if path else ""


@dataclass(frozen=True)
class RayOptions:
    """The Ray cluster and what this server asks of it (``deepaas_lite/ray``)."""

    address: str | None = None
    node_ip_address: str | None = None
    namespace: str | None = None
    train_resources: str | None = None  # JSON objects, checked when connecting
    predict_resources: str | None = None


@dataclass(frozen=True)
class ModelOptions:
    """How one model's predictions run; ``None`` is "not set here"."""

    train_timeout: float | None = None  # 0 is no limit
    predict_workers: int | None = None
    max_batch_size: int | None = None
    max_batch_delay: float | None = None
    predict_concurrency: int | None = None
    predict_queue_max: int | None = None
    predict_timeout: float | None = None  # 0 is no limit


@dataclass(frozen=True)
class Settings:
    """What the server needs from the options, free of oslo.config."""

    state_dir: Path = Path(DEFAULT_STATE_DIR)
    base_path: str = ""
    client_max_size: int = 100 * MIB
    train_workers: int = 1
    train_history: int = 100
    train_timeout: float = 0.0
    train_queue_max: int = 100
    train_log_max_bytes: int = 50 * MIB
    reset_state: bool = False
    predict_workers: int = 0
    max_batch_size: int | None = None
    max_batch_delay: float | None = None
    predict_concurrency: int = 32
    predict_queue_max: int = 128
    predict_timeout: float = 0.0
    model_options: Mapping[str, ModelOptions] = field(default_factory=dict)
    warm: bool = True
    predict_endpoint: bool = True
    train_endpoint: bool = True
    doc_endpoint: bool = True
    auth_token_file: Path | None = None
    metrics_auth: bool = False
    cors_origins: tuple[str, ...] = ()
    # Host header values answered; empty answers any (see allowed_hosts()).
    allowed_hosts: tuple[str, ...] = ()
    train_executor: str = "local"
    predict_executor: str = "local"
    ray: RayOptions = field(default_factory=RayOptions)

    @property
    def uses_ray(self) -> bool:
        return "ray" in (self.train_executor, self.predict_executor)

    def options_for(self, model_id: str) -> ModelOptions:
        """A model's options: its own section first, then the global ones.

        The predict options are always set; the batch options stay ``None`` when the
        operator set neither (the plugin's attributes decide then).
        """
        own = self.model_options.get(model_id, ModelOptions())
        return replace(
            own,
            predict_workers=(
                self.predict_workers if own.predict_workers is None else own.predict_workers
            ),
            max_batch_size=(
                self.max_batch_size if own.max_batch_size is None else own.max_batch_size
            ),
            max_batch_delay=(
                self.max_batch_delay if own.max_batch_delay is None else own.max_batch_delay
            ),
            predict_concurrency=(
                self.predict_concurrency
                if own.predict_concurrency is None
                else own.predict_concurrency
            ),
            predict_queue_max=(
                self.predict_queue_max if own.predict_queue_max is None else own.predict_queue_max
            ),
            predict_timeout=(
                self.predict_timeout if own.predict_timeout is None else own.predict_timeout
            ),
        )

    def train_timeouts(self, model_ids: Iterable[str]) -> dict[str, float]:
        """Each model's training time limit in seconds (0: none), its section first."""
        out = {}
        for model_id in model_ids:
            own = self.model_options.get(model_id, ModelOptions()).train_timeout
            out[model_id] = self.train_timeout if own is None else own
        return out

    @classmethod
    def from_conf(cls, conf: cfg.ConfigOpts, model_ids: Iterable[str] = ()) -> Settings:
        """Settings from parsed options; ``[model:<id>]`` sections of ``model_ids`` too."""
        return cls(
            state_dir=Path(conf.state_dir).expanduser(),
            base_path=normalise_base_path(conf.base_path),
            client_max_size=conf.client_max_size,
            train_workers=conf.train_workers,
            train_history=conf.train_history,
            train_timeout=conf.train_timeout,
            train_queue_max=conf.train_queue_max,
            train_log_max_bytes=conf.train_log_max_bytes,
            reset_state=conf.reset_state,
            predict_workers=conf.predict_workers,
            max_batch_size=conf.max_batch_size,
            max_batch_delay=conf.max_batch_delay,
            predict_concurrency=conf.predict_concurrency,
            predict_queue_max=conf.predict_queue_max,
            predict_timeout=conf.predict_timeout,
            model_options=_model_options(conf, model_ids),
            warm=conf.warm,
            predict_endpoint=conf.predict_endpoint,
            train_endpoint=conf.train_endpoint,
            doc_endpoint=conf.doc_endpoint,
            auth_token_file=Path(conf.auth_token_file) if conf.auth_token_file else None,
            metrics_auth=conf.metrics_auth,
            cors_origins=tuple(conf.cors_origin),
            allowed_hosts=allowed_hosts(conf.listen_ip, conf.allowed_host),
            train_executor=conf.train_executor,
            predict_executor=conf.predict_executor,
            ray=RayOptions(
                address=conf.ray_address,
                node_ip_address=conf.ray_node_ip_address,
                namespace=conf.ray_namespace,
                train_resources=conf.ray_train_resources,
                predict_resources=conf.ray_predict_resources,
            ),
        )


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(listen_ip: str, configured: Sequence[str]) -> tuple[str, ...]:
    """The Host header values to answer; ``()`` answers any.

    A name without a port matches any port. Default: the listen address, and the loopback names
    when listening on loopback. Listening on every address (``0.0.0.0``, ``::``), the
    server cannot know the names it is reached by, so any Host is answered.
    """
    if configured:
        return () if "*" in configured else tuple(configured)
    try:
        if ipaddress.ip_address(listen_ip).is_unspecified:
            return ()
    except ValueError:
        pass
    shown = f"[{listen_ip}]" if ":" in listen_ip else listen_ip
    hosts = [shown, *LOOPBACK_NAMES] if is_loopback(listen_ip) else [shown]
    return tuple(dict.fromkeys(hosts))


def _model_options(conf: cfg.ConfigOpts, model_ids: Iterable[str]) -> dict[str, ModelOptions]:
    out: dict[str, ModelOptions] = {}
    for model_id in model_ids:
        name = MODEL_GROUP_PREFIX + model_id
        if name not in conf:
            continue
        group = conf[name]
        options = ModelOptions(
            predict_workers=group.predict_workers,
            train_timeout=group.train_timeout,
            max_batch_size=group.max_batch_size,
            max_batch_delay=group.max_batch_delay,
            predict_concurrency=group.predict_concurrency,
            predict_queue_max=group.predict_queue_max,
            predict_timeout=group.predict_timeout,
        )
        if options != ModelOptions():
            out[model_id] = options
    return out
