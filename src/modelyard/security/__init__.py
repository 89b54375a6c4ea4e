"""Guards on what modelyard itself reaches out to."""

from modelyard.security.allowlist import OutboundAllowList
from modelyard.security.outbound import OutboundGuard, Resolver, system_resolver

__all__ = ["OutboundAllowList", "OutboundGuard", "Resolver", "system_resolver"]
