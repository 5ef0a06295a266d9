"""Which IP addresses a webhook call must never be sent to (SPEC section 5,
"Safety").

A webhook endpoint is chosen by a station, not by the operator, so without
this check anyone who can save a webhook could make hookcast call its own
database, the cloud provider's metadata service or a router's admin page
(server-side request forgery). The ranges below follow the IANA special-
purpose address registries (RFC 6890 and its updates): every range that is not
globally reachable, or that reaches an address the guard cannot judge, is
refused. The operator may exempt networks with ``HOOKCAST_ALLOWED_NETWORKS``.

This module is pure so that the web role can refuse an IP-literal endpoint
when a webhook is saved; ``hookcast.delivery.guard`` applies the same
decision to every address the worker is about to connect to.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_network,
)

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

# Each row: the network and what it is, as the end of the sentence
# "<address> is in <network>, <what it is>." More specific networks come
# before the networks that contain them, so the reason is the precise one.
BLOCKED_IPV4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), reason)
    for network, reason in (
        ("0.0.0.0/32", "the unspecified address (RFC 1122 section 3.2.1.3)"),
        ("0.0.0.0/8", '"this network", never a destination (RFC 791, RFC 1122)'),
        ("10.0.0.0/8", "a private network (RFC 1918)"),
        ("100.64.0.0/10", "carrier-grade NAT shared address space (RFC 6598)"),
        ("127.0.0.0/8", "the loopback network (RFC 1122 section 3.2.1.3)"),
        (
            "169.254.0.0/16",
            "the link-local network, home of cloud metadata services "
            "such as 169.254.169.254 (RFC 3927)",
        ),
        ("172.16.0.0/12", "a private network (RFC 1918)"),
        ("192.0.0.0/24", "the IETF protocol assignments (RFC 6890)"),
        ("192.0.2.0/24", "the documentation network TEST-NET-1 (RFC 5737)"),
        ("192.88.99.0/24", "the retired 6to4 relay anycast network (RFC 7526)"),
        ("192.168.0.0/16", "a private network (RFC 1918)"),
        ("198.18.0.0/15", "the benchmarking network (RFC 2544)"),
        ("198.51.100.0/24", "the documentation network TEST-NET-2 (RFC 5737)"),
        ("203.0.113.0/24", "the documentation network TEST-NET-3 (RFC 5737)"),
        ("224.0.0.0/4", "the multicast range (RFC 5771)"),
        ("255.255.255.255/32", "the limited broadcast address (RFC 919)"),
        ("240.0.0.0/4", "the reserved range (RFC 1112 section 4)"),
    )
)

BLOCKED_IPV6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), reason)
    for network, reason in (
        ("::/128", "the unspecified address (RFC 4291 section 2.5.2)"),
        ("::1/128", "the loopback address (RFC 4291 section 2.5.3)"),
        (
            "64:ff9b::/96",
            "the NAT64 well-known prefix, which reaches IPv4 hosts through a "
            "local translator (RFC 6052)",
        ),
        (
            "64:ff9b:1::/48",
            "the local-use NAT64 prefix, which reaches IPv4 hosts through a "
            "local translator (RFC 8215)",
        ),
        ("100::/64", "the discard-only prefix (RFC 6666)"),
        ("2001::/23", "the IETF protocol assignments (RFC 2928, RFC 6890)"),
        ("2001:db8::/32", "the documentation prefix (RFC 3849)"),
        ("3fff::/20", "the documentation prefix (RFC 9637)"),
        ("fc00::/7", "the unique-local range, private to a site (RFC 4193)"),
        ("fe80::/10", "the link-local range (RFC 4291 section 2.5.6)"),
        ("fec0::/10", "the deprecated site-local range (RFC 3879)"),
        ("ff00::/8", "the multicast range (RFC 4291 section 2.7)"),
    )
)

# Every IPv6 address outside global unicast, and outside the rows above, is
# reserved by the IETF (RFC 4291 section 2.4).
GLOBAL_UNICAST = IPv6Network("2000::/3")

# Tunnels whose addresses carry an IPv4 address: judged by what they carry.
SIX_TO_FOUR = IPv6Network("2002::/16")  # RFC 3056
TEREDO = IPv6Network("2001::/32")  # RFC 4380


def blocked_reason(address: IPAddress, allowed: Sequence[IPNetwork]) -> str | None:
    """Why ``address`` must not be called, as a sentence; ``None`` if it may.

    An address inside one of the ``allowed`` networks may always be called.
    """
    if any(address in network for network in allowed):
        return None
    if isinstance(address, IPv4Address):
        return _table_reason(address, BLOCKED_IPV4)
    if address.ipv4_mapped is not None:
        # A mapped address reaches an IPv4 host through a dual-stack socket.
        # It is never a legitimate endpoint, so it is refused even when the
        # host it carries would be allowed (RFC 4291 section 2.5.5.2).
        embedded = address.ipv4_mapped
        inner = blocked_reason(embedded, ())
        return (
            f"::ffff:{embedded} is an IPv4-mapped IPv6 address (::ffff:0:0/96, "
            "RFC 4291 section 2.5.5.2); such addresses are "
            "never called" + (f": {inner}" if inner else ".")
        )
    if address in SIX_TO_FOUR or address in TEREDO:
        return _tunnel_reason(address, allowed)
    reason = _table_reason(address, BLOCKED_IPV6)
    if reason is None and address not in GLOBAL_UNICAST:
        return (
            f"{address} is outside the global unicast range {GLOBAL_UNICAST}, "
            "reserved by the IETF (RFC 4291 section 2.4)."
        )
    return reason


def _table_reason(
    address: IPAddress, table: Sequence[tuple[IPNetwork, str]]
) -> str | None:
    for network, what in table:
        if address in network:
            where = "" if network.num_addresses == 1 else f"in {network}, "
            return f"{address} is {where}{what}."
    return None


def _tunnel_reason(address: IPv6Address, allowed: Sequence[IPNetwork]) -> str | None:
    """Judge a 6to4 or Teredo address by the IPv4 addresses it embeds, since
    the tunnel delivers the call to them."""
    embedded: list[IPv4Address]
    if address.sixtofour is not None:
        tunnel = f"a 6to4 address ({SIX_TO_FOUR}, RFC 3056)"
        embedded = [address.sixtofour]
    else:
        assert address.teredo is not None
        tunnel = f"a Teredo address ({TEREDO}, RFC 4380)"
        embedded = list(address.teredo)  # The server, then the client.
    for ipv4 in embedded:
        if inner := blocked_reason(ipv4, allowed):
            return f"{address} is {tunnel} that embeds {ipv4}: {inner}"
    return None


def allowed_networks() -> list[IPNetwork]:
    """The networks ``HOOKCAST_ALLOWED_NETWORKS`` exempts, read now.

    ``10.0.0.1/8`` is read as ``10.0.0.0/8``: the operator named a network.
    """
    value = settings.HOOKCAST_ALLOWED_NETWORKS
    items = value.split(",") if isinstance(value, str) else value
    networks: list[IPNetwork] = []
    for item in filter(None, (item.strip() for item in items)):
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"HOOKCAST_ALLOWED_NETWORKS contains {item!r}, which is not a "
                "network in CIDR notation such as 127.0.0.0/8 or ::1/128."
            ) from exc
    return networks
