"""Guards on what modelyard itself reaches out to."""

from modelyard.security.allowlist import AllowEntry, OutboundAllowList, parse_entry
from modelyard.security.hop import HOP_HEADER, hop_marker, is_own_hop
from modelyard.security.outbound import ListenAddress, OutboundGuard, Resolver, system_resolver

__all__ = [
    "HOP_HEADER",
    "AllowEntry",
    "ListenAddress",
    "OutboundAllowList",
    "OutboundGuard",
    "Resolver",
    "hop_marker",
    "is_own_hop",
    "parse_entry",
    "system_resolver",
]
