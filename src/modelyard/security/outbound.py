"""Which addresses modelyard may call out to: public ones, and hosts an admin allowed.

A remote provider's ``base_url`` is checked when it is registered and again whenever a
connection to it is opened (``address_for`` of the provider client in
:mod:`modelyard.backends.openai_compatible.http1`), because what a name resolves to can
change between the two. A host is refused when it is, or resolves to, a
loopback, private, link-local, multicast, reserved or unspecified address, in any of the
spellings resolvers accept (``2130706433``, ``0x7f000001``, ``0177.1``, ``[::1]``,
``[::ffff:127.0.0.1]``), unless an admin put that scheme, host and port on the allow-list.

The gateway's own listen address is refused even when allowed: a model whose provider is
the gateway itself would call itself until something else gave out.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from modelyard.errors import InvalidRequest

__all__ = [
    "IPAddress",
    "ListenAddress",
    "OutboundGuard",
    "Resolver",
    "is_internal",
    "literal_address",
    "default_port",
    "normalise_host",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]
# (scheme, normalised host, port) -> whether an admin allowed it
AllowCheck = Callable[[str, str, int], bool]
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


def _nothing_allowed(_scheme: str, _host: str, _port: int) -> bool:
    return False


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """Where the gateway itself listens (``Settings.host``/``port``): never a provider."""

    host: str
    port: int

    def reaches(self, port: int, addresses: Sequence[IPAddress]) -> bool:
        """Whether a connection to ``port`` on any of ``addresses`` could land on the gateway.

        Loopback and the unspecified address (which connects to this machine) count on any
        listen host, so ``localhost``, ``127.0.0.2`` and ``0.0.0.0`` spellings are all caught.
        """
        if port != self.port:
            return False
        own = literal_address(normalise_host(self.host))
        return any(
            a.is_loopback or a.is_unspecified or a == own for a in (_embedded_ipv4(x) for x in addresses)
        )


class OutboundGuard:
    """Decides whether modelyard may open a connection to a host.

    ``is_allowed`` answers for the admin allow-list (given scheme, normalised host and
    port); ``resolver`` turns a name into addresses (injectable: tests need no DNS);
    ``listen`` is the gateway's own address, refused whatever the allow-list says.
    """

    def __init__(
        self,
        is_allowed: AllowCheck = _nothing_allowed,
        resolver: Resolver = system_resolver,
        *,
        listen: ListenAddress | None = None,
    ):
        self._is_allowed = is_allowed
        self._resolve = resolver
        self._listen = listen

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
            port = parts.port or default_port(parts.scheme)
        except ValueError as exc:
            raise InvalidRequest("base_url has an invalid port", param="base_url", code=REFUSED) from exc
        try:
            self.connect_address(host, scheme=parts.scheme, port=port)
        except OSError:
            # Unresolvable now (an offline box, a name not yet in DNS): nothing to reach yet.
            # Every connection is checked again when it is opened.
            return

    def connect_address(self, host: str, *, scheme: str = "https", port: int | None = None) -> str | None:
        """The checked address to connect to for ``host``, or None to connect by name (an
        allowed destination). Raises InvalidRequest when refused, OSError when it does not
        resolve."""
        normal = normalise_host(host)
        port = port or default_port(scheme)
        literal = literal_address(normal)
        addresses = [literal] if literal is not None else [_parse(a) for a in self._resolve(normal)]
        if not addresses:
            raise OSError(f"no address for {host}")
        if self._listen is not None and self._listen.reaches(port, addresses):
            raise InvalidRequest(
                f"'{normal}:{port}' is the gateway's own address: a model cannot call the gateway",
                param="base_url",
                code=REFUSED,
            )
        if self._is_allowed(scheme, normal, port):
            return None
        if any(is_internal(a) for a in addresses):
            raise InvalidRequest(
                f"'{normal}:{port}' is or resolves to an internal address; a platform admin can "
                "allow it with POST /v1/admin/outbound-allowlist",
                param="base_url",
                code=REFUSED,
            )
        return str(addresses[0])
