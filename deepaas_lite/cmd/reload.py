"""``deepaas-run --reload``: serve in a child process, start it again when a source changes.

The supervisor binds the port once and hands the socket down to each server it starts
(``serve.LISTEN_FD_ENV``), so that clients wait in the backlog during a restart instead
of being refused. A change to a Python file under a watched directory (the
directories of the ``--plugin`` files, and the source directories of the named
installed plugins when they are not in site-packages, as with ``pip install -e``) stops
the server as SIGTERM stops it (trainings running end as ``interrupted``, pending ones
are resumed) and starts a new one. A server that fails to start is started again at
the next change.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import FrameType

import watchfiles

from deepaas_lite.cmd import serve
from deepaas_lite.model import loading
from deepaas_lite.model.plugin_files import PluginFile

LOG = logging.getLogger("deepaas_lite")

# How long a server may take to stop (its trainings included) before it is killed.
STOP_TIMEOUT = 30.0


def watched(files: Mapping[str, PluginFile], names: Sequence[str]) -> list[Path]:
    """The directories to watch: the plugin files' and the named plugins' sources.

    Without files or names, every installed plugin is served, and its sources watched.
    Sources inside site-packages are not watched (an installed release does not change
    under a developer's hands).
    """
    directories = {plugin.path.parent for plugin in files.values()}
    if not names and not files:
        names = loading.installed_names()
    installed = {Path(sysconfig.get_path(key)).resolve() for key in ("purelib", "platlib")}
    for directory in _sources(names):
        if not any(directory.is_relative_to(site) for site in installed):
            directories.add(directory)
    return sorted(directories)


def _sources(names: Iterable[str]) -> set[Path]:
    """The directories of the top-level packages that ship the named entry points."""
    wanted = set(names)
    out: set[Path] = set()
    for ep in importlib.metadata.entry_points(group=loading.NAMESPACE):
        if ep.name not in wanted:
            continue
        top = ep.module.split(".")[0]
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            out.update(Path(p).resolve() for p in spec.submodule_search_locations)
        elif spec.origin:
            out.add(Path(spec.origin).resolve().parent)
    return out


def supervise(argv: Sequence[str], host: str, port: int, directories: Sequence[Path]) -> int:
    """Serve with ``argv`` (without ``--reload``) until SIGTERM or SIGINT, restarting the
    server when a Python file under ``directories`` changes."""
    try:
        sock = serve.bind(host, port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"deepaas-run: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return serve.EXIT_BIND
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    if directories:
        LOG.info("Reloading when a Python file changes under %s", ", ".join(map(str, directories)))
    else:
        LOG.warning(
            "--reload: no source directory to watch (installed plugins are watched "
            "only when installed editable); serving without reloading"
        )
    child = _start(argv, sock)
    try:
        if not directories:
            while not stopping.wait(0.5) and child.poll() is None:
                pass
            return 0
        for changes in watchfiles.watch(
            *directories,
            watch_filter=watchfiles.PythonFilter(),
            stop_event=stopping,
            raise_interrupt=False,
        ):
            changed = sorted({Path(path).name for _, path in changes})
            LOG.info("Reloading: %s changed", ", ".join(changed))
            _stop(child)
            child = _start(argv, sock)
    finally:
        _stop(child)
        sock.close()
    return 0


def _start(argv: Sequence[str], sock: socket.socket) -> subprocess.Popen[bytes]:
    """A server on the supervisor's socket (``--noreload`` overrides a config file's)."""
    fd = sock.fileno()
    env = {**os.environ, serve.LISTEN_FD_ENV: str(fd)}
    command = [sys.executable, "-m", "deepaas_lite.cmd.run", *argv, "--noreload"]
    return subprocess.Popen(command, env=env, pass_fds=(fd,))


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Stop the server as SIGTERM does; kill it if it takes longer than ``STOP_TIMEOUT``."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            LOG.warning("The server did not stop in %ss; killing it", STOP_TIMEOUT)
            child.kill()
    child.wait()
