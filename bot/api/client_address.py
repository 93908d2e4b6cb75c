"""Who sent a request: the TCP peer, or the client a trusted reverse proxy names.

One rule for the portal and the staff pages (sign-in throttling, audit): a peer that is one
of ``ACORDO_TRUSTED_PROXIES`` is believed about ``X-Forwarded-For``, read right to left, and
only the part our own proxies appended counts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network

from fastapi import Request


def client_address(request: Request) -> str:
    """The address of whoever sent ``request`` (``unknown`` without a peer)."""
    peer = request.client.host if request.client else "unknown"
    trusted = request.app.state.container.settings.trusted_networks
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for header in request.headers.getlist("x-forwarded-for")
            for hop in header.split(",")]
    for hop in reversed(hops):
        if not hop:
            continue
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # garbage in the chain: believe nothing past it
        if not _within(hop, trusted):
            return hop
    return peer


def _within(address: str, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
