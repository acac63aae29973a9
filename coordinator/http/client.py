"""Who is on the other end of a request: the client's address, through trusted proxies only.

``X-Forwarded-For`` is a header anyone can send. It is believed only when the connection
comes from a configured reverse proxy (``trusted_proxies``), and then read from the right:
each hop a trusted proxy added is skipped, and the first address no trusted proxy vouches
for is the client. A forged header sent straight to the coordinator changes nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from fastapi import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The address recorded when the server does not know the peer (a test transport).
UNKNOWN = "unknown"


@lru_cache(maxsize=64)
def networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """The configured proxies as networks (settings validated them)."""
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(addr: str, nets: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def resolve(peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[str]) -> str:
    """The client's address, given the TCP peer and every ``X-Forwarded-For`` header value."""
    if not peer:
        return UNKNOWN
    nets = networks(tuple(proxies))
    if not nets or not _trusted(peer, nets):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client  # garbage in the chain: stop at the last address we can vouch for
        client = hop
        if not _trusted(hop, nets):
            break
    return client


def client_address(request: Request, proxies: Sequence[str]) -> str:
    """The address of the request's client (see :func:`resolve`)."""
    peer = request.client.host if request.client else None
    return resolve(peer, request.headers.getlist("x-forwarded-for"), proxies)
