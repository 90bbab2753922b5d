"""Executor options: where trainings and predictions run; the Ray cluster (docs/ray.md)."""

from __future__ import annotations

from dataclasses import dataclass

from oslo_config import cfg

from deepaas_lite.config.setting import nested, setting
from deepaas_lite.engine import executors

TRAIN_EXECUTOR = cfg.StrOpt(
    "train-executor",
    default=executors.DEFAULT,
    choices=list(executors.NAMES),
    help="Where trainings run: local (a process of their own on this machine) or "
    "ray (a task on the Ray cluster of --ray-address).",
)
PREDICT_EXECUTOR = cfg.StrOpt(
    "predict-executor",
    default=executors.DEFAULT,
    choices=list(executors.NAMES),
    help="Where predictions run: local (threads, or --predict-workers processes) or "
    "ray (--predict-workers Ray actors per model, at least one, spread over the "
    "cluster).",
)
# Executors on a Ray cluster (needs the deepaas-lite[ray] extra).
RAY_ADDRESS = cfg.StrOpt(
    "ray-address",
    help="The Ray cluster to use: the head node's address (HOST:PORT, as 'ray start "
    "--head' prints it) or auto. Default: a Ray instance of this server's own.",
)
RAY_NODE_IP_ADDRESS = cfg.StrOpt(
    "ray-node-ip-address",
    help="The IP address of the Ray node on this machine (its 'ray start "
    "--node-ip-address'), which this server joins. Default: Ray's choice.",
)
RAY_NAMESPACE = cfg.StrOpt(
    "ray-namespace",
    help="The Ray namespace of this server's tasks and actors. Default: one of its "
    "own, so that servers sharing a cluster never see each other's.",
)
RAY_TRAIN_RESOURCES = cfg.StrOpt(
    "ray-train-resources",
    help='What each training asks of the Ray cluster, as JSON, e.g. {"num_cpus": 2, '
    '"num_gpus": 1} (other keys are custom resources). Default: the plugin\'s '
    'get_metadata()["resources"], else {"num_cpus": 1}.',
)
RAY_PREDICT_RESOURCES = cfg.StrOpt(
    "ray-predict-resources",
    default='{"num_cpus": 1}',
    help="What each predict actor asks of the Ray cluster, as JSON.",
)

OPTS: list[cfg.Opt] = [
    TRAIN_EXECUTOR,
    PREDICT_EXECUTOR,
    RAY_ADDRESS,
    RAY_NODE_IP_ADDRESS,
    RAY_NAMESPACE,
    RAY_TRAIN_RESOURCES,
    RAY_PREDICT_RESOURCES,
]


@dataclass(frozen=True)
class RayOptions:
    """The Ray cluster and what this server asks of it (``deepaas_lite/engine/ray``)."""

    address: str | None = setting(RAY_ADDRESS)
    node_ip_address: str | None = setting(RAY_NODE_IP_ADDRESS)
    namespace: str | None = setting(RAY_NAMESPACE)
    train_resources: str | None = setting(RAY_TRAIN_RESOURCES)  # JSON, checked when connecting
    predict_resources: str | None = setting(RAY_PREDICT_RESOURCES)


@dataclass(frozen=True)
class ExecutorSettings:
    train_executor: str = setting(TRAIN_EXECUTOR)
    predict_executor: str = setting(PREDICT_EXECUTOR)
    ray: RayOptions = nested(RayOptions)
