"""Which ``Host`` header values a server answers, from ``--allowed-host`` and where it listens.

The guard of ``web/origins.py`` refuses the others (DNS rebinding); ``deepaas-run`` warns
when it listens beyond loopback without tokens.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

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
