"""Plugins whose ``train`` behaves in every way the training machinery must survive.

Each one is a class (instantiated once by the loader). ``pidfile`` arguments let the
tests find the processes a training started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from marshmallow import fields

import deepaas_lite


def _write_pid(pidfile: str | None, *pids: int) -> None:
    if pidfile:
        tmp = Path(pidfile + ".tmp")
        tmp.write_text(" ".join(str(pid) for pid in pids))
        tmp.replace(pidfile)


class _Plugin:
    def get_train_args(self) -> dict[str, fields.Field]:
        return {
            "sleep": fields.Float(load_default=0.0),
            "tag": fields.Str(load_default=""),
            "pidfile": fields.Str(load_default=None, allow_none=True),
        }


class Sleeper(_Plugin):
    """Prints, sleeps, returns its arguments and when it started."""

    def train(self, sleep: float = 0.0, tag: str = "", pidfile: str | None = None) -> Any:
        started = time.time()
        _write_pid(pidfile, os.getpid())
        print(f"training {tag} to stdout", flush=True)
        print(f"training {tag} to stderr", file=sys.stderr, flush=True)
        time.sleep(sleep)
        return {"tag": tag, "started": started, "pid": os.getpid()}


class Busy(_Plugin):
    """Burns a CPU until stopped."""

    def train(self, sleep: float = 0.0, tag: str = "", pidfile: str | None = None) -> Any:
        _write_pid(pidfile, os.getpid())
        while True:
            sum(i * i for i in range(10_000))


class Spawner(_Plugin):
    """Starts a busy grandchild that prints, and waits for it forever."""

    def train(self, sleep: float = 0.0, tag: str = "", pidfile: str | None = None) -> Any:
        code = (
            "import os, time\n"
            "print('grandchild', os.getpid(), 'says hello', flush=True)\n"
            "while True: sum(i * i for i in range(10_000))\n"
        )
        grandchild = subprocess.Popen([sys.executable, "-c", code])
        _write_pid(pidfile, os.getpid(), grandchild.pid)
        grandchild.wait()
        return "unreachable"


class Stubborn(_Plugin):
    """Ignores SIGTERM, and so does the grandchild it starts: only SIGKILL works."""

    def train(self, sleep: float = 0.0, tag: str = "", pidfile: str | None = None) -> Any:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        code = (
            "import signal, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "while True: time.sleep(0.05)\n"
        )
        grandchild = subprocess.Popen([sys.executable, "-c", code])
        _write_pid(pidfile, os.getpid(), grandchild.pid)
        while True:
            time.sleep(0.05)


class Leaver(_Plugin):
    """Returns at once, leaving a grandchild behind (which must be cleaned up)."""

    def train(self, sleep: float = 0.0, tag: str = "", pidfile: str | None = None) -> Any:
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        _write_pid(pidfile, os.getpid(), grandchild.pid)
        return "left one behind"


class Exiter(_Plugin):
    """Leaves the process with ``os._exit(3)``: no exception, no outcome."""

    def train(self, sleep: float = 0.0, tag: str = "", pidfile: str | None = None) -> Any:
        print("about to exit", flush=True)
        os._exit(3)


class SelfKiller(_Plugin):
    """Dies of SIGKILL, like a process the OOM killer picked."""

    def train(self, sleep: float = 0.0, tag: str = "", pidfile: str | None = None) -> Any:
        os.kill(os.getpid(), signal.SIGKILL)


class Raiser(_Plugin):
    """Raises an exception with a message."""

    def train(self, sleep: float = 0.0, tag: str = "", pidfile: str | None = None) -> Any:
        raise ValueError(f"learning rate too high {tag}".strip())


class Progress(_Plugin):
    """Reports progress, then waits until ``release`` exists."""

    def get_train_args(self) -> dict[str, fields.Field]:
        return {"release": fields.Str(required=True)}

    def train(self, release: str) -> Any:
        deepaas_lite.report_progress(0.25, "a quarter")
        deepaas_lite.report_progress(0.5, "halfway")
        while not os.path.exists(release):
            time.sleep(0.02)
        deepaas_lite.report_progress(1.0)
        return "finished"


class Files(_Plugin):
    """Takes a file (and a list of files) and reports what it got."""

    def get_train_args(self) -> dict[str, fields.Field]:
        return {
            "data": fields.Field(metadata={"type": "file", "location": "form"}),
            "more": fields.List(fields.Field(metadata={"type": "file"})),
            "epochs": fields.Int(load_default=1),
        }

    def train(self, data: Any = None, more: Any = (), epochs: int = 1) -> Any:
        uploads = [data, *more] if data is not None else list(more)
        return {
            "epochs": epochs,
            "files": [
                {
                    "name": upload.name,
                    "path": upload.filename,
                    "content": Path(upload.filename).read_text(),
                    "content_type": upload.content_type,
                    "original_filename": upload.original_filename,
                }
                for upload in uploads
            ],
        }


class Chatty(_Plugin):
    """Prints ``tag`` numbered lines of 100 bytes (``tag`` is the line count)."""

    def train(self, sleep: float = 0.0, tag: str = "", pidfile: str | None = None) -> Any:
        for n in range(int(tag or 0)):
            sys.stdout.write(f"line {n:08d} ".ljust(99, ".") + "\n")
        sys.stdout.flush()
        return "talked"
