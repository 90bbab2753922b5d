"""The objects a server keeps for its whole life, kept out of full garbage collections.

A full collection (CPython's generation 2) walks every object the collector tracks, and
it runs on whichever thread allocated last: often the event loop's. With a model loaded
(scikit-learn, numpy, scipy: hundreds of thousands of objects), each one held the loop
for 50-90 ms (measured under 64 predict clients on IRIS on a 2-core machine: 5 in 30 s,
the longest turns of the loop, and the health probes that waited behind them). Modules,
plugins and loaded models live as long as the server, so walking them again finds
nothing to collect.

``settle()`` collects once, then freezes what is left (``gc.freeze``): later collections
walk only what was made since, mostly requests' objects. The server settles once its
models have started and each time a model's copy in the server's process has loaded a
new version. A frozen object is still freed when its last reference goes; only a cycle
among frozen objects that later becomes garbage stays (say, what an older version of a
model left in cycles): a bounded cost per version switch, not per request.

Only a serving process settles (``enable``): tests and tools that build applications in
one long process leave the collector as it is.
"""

from __future__ import annotations

import gc
import logging
import time

LOG = logging.getLogger(__name__)

_enabled = False


def enable() -> None:
    """This process is a server: ``settle`` freezes from now on."""
    global _enabled
    _enabled = True


def enabled() -> bool:
    return _enabled


def settle(why: str) -> None:
    """Collect, then freeze the objects left (when ``enable``\\ d); ``why``: for the log."""
    if not _enabled:
        return
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    LOG.debug(
        "%s: %d objects frozen (%.0f ms)",
        why,
        gc.get_freeze_count(),
        (time.perf_counter() - started) * 1000,
    )
