"""The address guard: calls go only to addresses they may go to (SPEC
section 5, "Safety").

The decision is ``hookcast.webhooks.addresses.blocked_reason``; this module
applies it to every address aiohttp is about to connect to, so a host name
that resolves, or later re-resolves, into a blocked range is refused too.
aiohttp reaches an address by one of two paths, and each is guarded:

- A host name goes through the connector's resolver. ``GuardedResolver``
  drops every blocked answer and raises ``AddressBlocked`` when none is left,
  so the connector only ever holds addresses that passed.
- An IP literal never reaches the resolver: ``TCPConnector._resolve_host``
  (aiohttp 3.x) returns it as it is. The socket factory given to the
  connector (``guarded_socket``) sees the socket address of every connection
  just before it is made, whatever path it came by, and refuses it there.

``guarded_connector()`` builds a ``TCPConnector`` with both. aiohttp wraps an
``AddressBlocked`` in a ``ClientConnectorError``; ``blocked_cause()`` finds
it again. Exceptions::

    DeliveryError (hookcast.exceptions)
    └── AddressBlocked  (also an OSError, as aiohttp expects of a resolver or
                         a socket factory)
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from ipaddress import ip_address
from typing import Any

from aiohttp import TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from hookcast.exceptions import DeliveryError
from hookcast.webhooks.addresses import IPNetwork, allowed_networks, blocked_reason

logger = logging.getLogger(__name__)

# The socket address of a connection: (host, port) for IPv4, (host, port,
# flowinfo, scope_id) for IPv6, as getaddrinfo() and getpeername() give it.
SocketAddress = tuple[Any, ...]
AddrInfo = tuple[int, int, int, str, SocketAddress]


class AddressBlocked(DeliveryError, OSError):
    """The endpoint's host is, or resolves only to, an address that calls are
    never sent to, unless the operator allows its network."""

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        message = reason
        if not _is_address(host):
            message = f"{host} resolves only to addresses that may not be called: "
            message += reason
        super().__init__(message)
        # aiohttp builds its ClientConnectorError message from strerror.
        self.strerror = message


def check_address(host: str, allowed: Sequence[IPNetwork] | None = None) -> None:
    """Raise ``AddressBlocked`` if the address ``host`` may not be called.

    ``allowed`` defaults to ``HOOKCAST_ALLOWED_NETWORKS``, read now.
    """
    reason = blocked_reason(
        ip_address(host), allowed_networks() if allowed is None else allowed
    )
    if reason is not None:
        logger.warning(
            "Refused to connect to %s: %s",
            host,
            reason,
            extra={"action": "address_blocked"},
        )
        raise AddressBlocked(host, reason)


def check_peer(
    peername: SocketAddress, allowed: Sequence[IPNetwork] | None = None
) -> None:
    """Raise ``AddressBlocked`` if the socket address ``peername`` (as from
    ``getpeername()`` or ``getaddrinfo()``) may not be called."""
    check_address(peername[0], allowed)


def guarded_socket(
    allowed: Sequence[IPNetwork] | None = None,
) -> Callable[[AddrInfo], socket.socket]:
    """A socket factory for ``TCPConnector(socket_factory=...)`` that checks
    each address before a socket is made to connect to it."""

    def new_socket(addr_info: AddrInfo) -> socket.socket:
        family, type_, proto, _, address = addr_info
        check_peer(address, allowed)
        return socket.socket(family=family, type=type_, proto=proto)

    return new_socket


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, minus the answers that may not be called.

    ``allowed`` defaults to ``HOOKCAST_ALLOWED_NETWORKS``, read at each
    resolution so that a changed setting applies to the next connection.
    """

    def __init__(
        self,
        allowed: Sequence[IPNetwork] | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self._allowed = allowed
        # aiohttp's default resolver wants the running loop, so it is made
        # on first use rather than here.
        self._resolver = resolver
        self._owns_resolver = resolver is None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._resolver is None:
            self._resolver = DefaultResolver()
        answers = await self._resolver.resolve(host, port, family)

        allowed = allowed_networks() if self._allowed is None else self._allowed
        kept: list[ResolveResult] = []
        reasons: list[str] = []
        for answer in answers:
            reason = blocked_reason(ip_address(answer["host"]), allowed)
            if reason is None:
                kept.append(answer)
            else:
                reasons.append(reason)

        if reasons:
            logger.warning(
                "Dropped %d of %d addresses of %s: %s",
                len(reasons),
                len(answers),
                host,
                " ".join(reasons),
                extra={"action": "address_blocked"},
            )
        if not kept:
            raise AddressBlocked(host, " ".join(reasons) or "no address.")
        return kept

    async def close(self) -> None:
        if self._owns_resolver and self._resolver is not None:
            await self._resolver.close()


def guarded_connector(
    allowed: Sequence[IPNetwork] | None = None, **kwargs: Any
) -> TCPConnector:
    """A ``TCPConnector`` (with ``kwargs``) that connects to allowed
    addresses only. Must be called with an event loop running."""
    return TCPConnector(
        resolver=GuardedResolver(allowed),
        socket_factory=guarded_socket(allowed),
        **kwargs,
    )


def blocked_cause(exc: BaseException) -> AddressBlocked | None:
    """The ``AddressBlocked`` behind an aiohttp error, if that is what it is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, AddressBlocked):
            return seen
        os_error = getattr(seen, "os_error", None)
        if isinstance(os_error, AddressBlocked):
            return os_error
        seen = seen.__cause__ or seen.__context__
    return None


def _is_address(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True
