"""Which addresses modelyard may call out to: public ones, and hosts an admin allowed.

A remote provider's ``base_url`` is checked when it is registered and again whenever a
connection to it is opened (``address_for`` of the provider client in
:mod:`modelyard.backends.openai_compatible.http1`), because what a name resolves to can
change between the two. A host is refused when it is, or resolves to, a
loopback, private, link-local, multicast, reserved or unspecified address, in any of the
spellings resolvers accept (``2130706433``, ``0x7f000001``, ``0177.1``, ``[::1]``,
``[::ffff:127.0.0.1]``), unless an admin put that host on the allow-list.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from modelyard.errors import InvalidRequest

__all__ = [
    "IPAddress",
    "OutboundGuard",
    "Resolver",
    "is_internal",
    "literal_address",
    "normalise_host",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]
REFUSED = "outbound_address_refused"
_SCHEMES = frozenset({"http", "https"})
# NAT64 embeds an IPv4 address in the low 32 bits; a gateway would forward it there.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address if it spells one (any spelling ``inet_aton`` accepts)."""
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    try:
        # Integer, hex, octal and short forms: what the C resolver would connect to.
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except (OSError, ValueError):  # ValueError: an embedded NUL, which no host name has
        return None


def normalise_host(host: str) -> str:
    """The form allow-list entries are kept and matched in: lower case, IPs canonical."""
    host = host.strip().lower().rstrip(".")
    address = literal_address(host)
    return str(address) if address is not None else host.strip("[]")


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_internal(address: IPAddress) -> bool:
    address = _embedded_ipv4(address)
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _parse(resolved: str) -> IPAddress:
    # getaddrinfo appends a zone to link-local IPv6 ("fe80::1%eth0"); the address is what counts.
    return ipaddress.ip_address(resolved.split("%", 1)[0])


def _nothing_allowed(_host: str) -> bool:
    return False


class OutboundGuard:
    """Decides whether modelyard may open a connection to a host.

    ``is_allowed`` answers for the admin allow-list (given a normalised host); ``resolver``
    turns a name into addresses (injectable: tests need no DNS).
    """

    def __init__(
        self, is_allowed: Callable[[str], bool] = _nothing_allowed, resolver: Resolver = system_resolver
    ):
        self._is_allowed = is_allowed
        self._resolve = resolver

    def check_url(self, url: str) -> None:
        """At registration: refuse a URL that could only reach an internal address."""
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError as exc:
            raise InvalidRequest("base_url is not a valid URL", param="base_url", code=REFUSED) from exc
        if parts.scheme not in _SCHEMES:
            raise InvalidRequest(
                "base_url must be an http:// or https:// URL", param="base_url", code=REFUSED
            )
        if not host:
            raise InvalidRequest("base_url has no host", param="base_url", code=REFUSED)
        try:
            self.connect_address(host)
        except OSError:
            # Unresolvable now (an offline box, a name not yet in DNS): nothing to reach yet.
            # Every connection is checked again when it is opened.
            return

    def connect_address(self, host: str) -> str | None:
        """The checked address to connect to for ``host``, or None to connect by name (an
        allowed host). Raises InvalidRequest when refused, OSError when it does not resolve."""
        normal = normalise_host(host)
        if self._is_allowed(normal):
            return None
        literal = literal_address(normal)
        addresses = [literal] if literal is not None else [_parse(a) for a in self._resolve(normal)]
        if not addresses:
            raise OSError(f"no address for {host}")
        if any(is_internal(a) for a in addresses):
            raise InvalidRequest(
                f"the host '{normal}' is or resolves to an internal address; a platform admin can "
                "allow it with POST /v1/admin/outbound-allowlist",
                param="base_url",
                code=REFUSED,
            )
        return str(addresses[0])
