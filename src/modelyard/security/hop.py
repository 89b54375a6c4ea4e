"""The hop marker: how modelyard recognises its own provider calls coming back to it.

Every provider call carries ``X-Modelyard-Hop: <marker>``; a request that arrives carrying
this installation's marker is one of its own calls looping back (a provider whose base URL
leads to the gateway, directly or through a proxy) and is refused. The marker is derived
from the installation's secret, so a second modelyard install in the chain (which has its
own marker) still serves the call.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["HOP_HEADER", "hop_marker", "is_own_hop"]

HOP_HEADER = "X-Modelyard-Hop"


def hop_marker(secret: bytes) -> str:
    return hmac.new(secret, b"modelyard outbound hop marker", hashlib.sha256).hexdigest()[:32]


def is_own_hop(header: str | None, marker: str | None) -> bool:
    """Whether ``header`` (the request's hop header; proxies may join several with commas)
    carries ``marker``."""
    if not header or not marker:
        return False
    return any(hmac.compare_digest(part.strip(), marker) for part in header.split(","))
