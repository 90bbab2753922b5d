"""``deepaas-run``'s entry point (``deepaas_lite.cmd.run:main``, or ``python -m
deepaas_lite.cmd.run``); ``start.py`` does the work.

It imports none of the server: multiprocessing's spawn imports the main module again
in every predict worker and training process, which need none of it (oslo.config and
aiohttp cost each such process about 0.25 s and 18 MiB).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from deepaas_lite.cmd import start

    return start.main(argv)


if __name__ == "__main__":
    sys.exit(main())
