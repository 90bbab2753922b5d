"""Server options: where it listens, which models it serves, what it answers."""

from __future__ import annotations

from dataclasses import dataclass

from oslo_config import cfg, types

from deepaas_lite.config.setting import MIB, setting


def normalise_base_path(path: str) -> str:
    """``"deepaas/"`` -> ``"/deepaas"``; ``""`` and ``"/"`` -> ``""``."""
    path = path.strip().strip("/")
    return f"/{path}" if path else ""


LISTEN_IP = cfg.HostAddressOpt(
    "listen-ip", default="127.0.0.1", help="IP address the server listens on."
)
LISTEN_PORT = cfg.PortOpt("listen-port", default=5000, help="TCP port the server listens on.")
MODEL_NAME = cfg.MultiStrOpt(
    "model-name",
    default=[],
    help="Serve only this model (an entry-point name of the deepaas.v2.model "
    "group). Repeat it to serve several. Default: every installed model.",
)
PLUGIN = cfg.MultiStrOpt(
    "plugin",
    default=[],
    metavar="[ID=]PATH[:OBJECT]",
    help="Serve the plugin in this Python file, with no packaging: the module, or "
    "its OBJECT (a class or an object); its id is ID, else the file's name. Repeat it "
    "to serve several. With it, installed models are served only when named by "
    "--model-name.",
)
RELOAD = cfg.BoolOpt(
    "reload",
    default=False,
    help="Restart serving when a source file of the served plugins changes (for "
    "development). Trainings running then end as interrupted, as at any restart.",
)
CLIENT_MAX_SIZE = cfg.IntOpt(
    "client-max-size",
    default=100 * MIB,
    min=0,
    help="Largest request body accepted, in bytes; larger ones get 413. 0 means no limit.",
)


class _BasePath(types.String):
    """Path segments of URL characters; no empty, ``.`` or ``..`` segment, no space."""

    def __init__(self) -> None:
        super().__init__(regex=r"^/?(?:(?!\.\.?(?:/|$))[A-Za-z0-9._~!$&'()*+,;=:@%-]+/?)*$")

    def __repr__(self) -> str:  # how oslo.config names the type in its error
        return "path (segments of letters, digits and -._~; no space, no . or .. segment)"


BASE_PATH = cfg.Opt(
    "base-path",
    type=_BasePath(),
    default="",
    help="Serve everything (API, spec, UI) under this path prefix, e.g. "
    "/deepaas behind a reverse proxy: letters, digits and -._~ in segments, no . or .. "
    "segment, no space.",
)
WARM = cfg.BoolOpt(
    "warm",
    default=True,
    help="Call each model's warm() before reporting ready.",
)
# DEEPaaS's endpoint switches (docs/migration.md).
PREDICT_ENDPOINT = cfg.BoolOpt(
    "predict-endpoint",
    default=True,
    help="Serve the predict endpoint. Off: POST .../predict/ answers 404 and the "
    "API documents leave it out.",
)
TRAIN_ENDPOINT = cfg.BoolOpt(
    "train-endpoint",
    default=True,
    help="Serve the train endpoints (start, list, get, cancel, log). Off: they "
    "answer 404 and the API documents leave them out.",
)
DOC_ENDPOINT = cfg.BoolOpt(
    "doc-endpoint",
    default=True,
    help="Serve the API documents and the UI (/swagger.json, /openapi.json, /ui, "
    "/api). Off: they answer 404.",
)

OPTS: list[cfg.Opt] = [
    LISTEN_IP,
    LISTEN_PORT,
    MODEL_NAME,
    PLUGIN,
    RELOAD,
    CLIENT_MAX_SIZE,
    BASE_PATH,
    WARM,
    PREDICT_ENDPOINT,
    TRAIN_ENDPOINT,
    DOC_ENDPOINT,
]


@dataclass(frozen=True)
class ServerSettings:
    listen_ip: str = setting(LISTEN_IP)
    listen_port: int = setting(LISTEN_PORT)
    client_max_size: int = setting(CLIENT_MAX_SIZE)
    base_path: str = setting(BASE_PATH, normalise_base_path)
    warm: bool = setting(WARM)
    predict_endpoint: bool = setting(PREDICT_ENDPOINT)
    train_endpoint: bool = setting(TRAIN_ENDPOINT)
    doc_endpoint: bool = setting(DOC_ENDPOINT)
