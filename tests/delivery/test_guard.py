"""The address guard, on real connections to the loopback receiver.

Only loopback is ever connected to; every other range is covered as a
decision in ``tests/webhooks/test_addresses.py``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Sequence
from ipaddress import ip_network
from pathlib import Path

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from hookcast.delivery.guard import (
    AddressBlocked,
    GuardedResolver,
    blocked_cause,
    check_peer,
    guarded_connector,
)
from hookcast.exceptions import DeliveryError
from tests.receiver import Receiver

LOOPBACK = [ip_network("127.0.0.0/8")]


async def fetch(url: str, ca_bundle: Path, allowed: Sequence | None) -> int:  # type: ignore[type-arg]
    context = ssl.create_default_context(cafile=str(ca_bundle))
    connector = guarded_connector(allowed, ssl=context)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response,
    ):
        return response.status


def get(url: str, ca_bundle: Path, allowed: Sequence | None = None) -> int:  # type: ignore[type-arg]
    return asyncio.run(fetch(url, ca_bundle, allowed))


def test_a_name_resolving_to_loopback_is_refused(receiver: Receiver, ca_bundle):
    with pytest.raises(aiohttp.ClientConnectorError) as raised:
        get(f"https://localhost:{receiver.port}/hook", ca_bundle, allowed=[])

    blocked = blocked_cause(raised.value)
    assert blocked is not None
    assert str(blocked).startswith(
        "localhost resolves only to addresses that may not be called: "
    )
    assert "127.0.0.0/8, the loopback network" in str(blocked)
    assert receiver.received() == []


def test_a_name_resolving_to_an_allowed_network_is_called(
    receiver: Receiver, ca_bundle
):
    assert get(f"https://localhost:{receiver.port}/hook", ca_bundle, LOOPBACK) == 200

    assert [r.path for r in receiver.received()] == ["/hook"]


def test_an_ip_literal_is_refused_although_it_skips_the_resolver(
    receiver: Receiver, ca_bundle
):
    with pytest.raises(aiohttp.ClientConnectorError) as raised:
        get(f"https://127.0.0.1:{receiver.port}/hook", ca_bundle, allowed=[])

    blocked = blocked_cause(raised.value)
    assert blocked is not None
    assert str(blocked) == (
        "127.0.0.1 is in 127.0.0.0/8, the loopback network (RFC 1122 section 3.2.1.3)."
    )
    assert receiver.received() == []


def test_an_ip_literal_in_an_allowed_network_is_called(receiver: Receiver, ca_bundle):
    assert get(f"{receiver.url}/hook", ca_bundle, LOOPBACK) == 200

    assert len(receiver.received("/hook")) == 1


def test_the_setting_is_read_at_each_connection(
    receiver: Receiver, ca_bundle, settings
):
    settings.HOOKCAST_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert get(f"https://localhost:{receiver.port}/a", ca_bundle) == 200

    settings.HOOKCAST_ALLOWED_NETWORKS = []
    with pytest.raises(aiohttp.ClientConnectorError) as raised:
        get(f"https://localhost:{receiver.port}/b", ca_bundle)

    assert blocked_cause(raised.value) is not None
    assert [r.path for r in receiver.received()] == ["/a"]


class ScriptedResolver(AbstractResolver):
    """A DNS server whose answers a test scripts, one list per lookup."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.answers.pop(0)
        ]

    async def close(self) -> None:
        pass


def resolve_twice(resolver: GuardedResolver) -> list[list[str] | str]:
    """Each lookup's addresses, or the refusal's message."""

    async def lookups() -> list[list[str] | str]:
        outcomes: list[list[str] | str] = []
        for _ in range(2):
            try:
                answers = await resolver.resolve("hooks.example.com", 443)
            except AddressBlocked as exc:
                outcomes.append(str(exc))
            else:
                outcomes.append([answer["host"] for answer in answers])
        return outcomes

    return asyncio.run(lookups())


def test_a_name_rebound_to_a_blocked_address_is_refused_on_the_next_lookup():
    dns = ScriptedResolver(["93.184.215.14"], ["169.254.169.254"])

    first, second = resolve_twice(GuardedResolver([], dns))

    assert first == ["93.184.215.14"]
    assert second == (
        "hooks.example.com resolves only to addresses that may not be called: "
        "169.254.169.254 is in 169.254.0.0/16, the link-local network, home of "
        "cloud metadata services such as 169.254.169.254 (RFC 3927)."
    )


def test_blocked_answers_are_dropped_and_the_others_kept():
    dns = ScriptedResolver(
        ["10.0.0.1", "93.184.215.14", "::1", "2606:4700::1"],
        ["127.0.0.1", "10.0.0.1"],
    )

    first, second = resolve_twice(GuardedResolver([], dns))

    assert first == ["93.184.215.14", "2606:4700::1"]
    assert isinstance(second, str)
    assert "127.0.0.0/8" in second
    assert "10.0.0.0/8" in second


@pytest.mark.parametrize(
    ("peername", "allowed", "refused"),
    [
        (("127.0.0.1", 443), [], True),
        (("127.0.0.1", 443), LOOPBACK, False),
        (("::1", 443, 0, 0), LOOPBACK, True),  # Allowing IPv4 loopback only.
        (("fe80::1%eth0", 443, 0, 2), [], True),
        (("93.184.215.14", 443), [], False),
        (("2606:4700::1", 443, 0, 0), [], False),
    ],
)
def test_check_peer_judges_the_connected_address(peername, allowed, refused):
    if refused:
        with pytest.raises(AddressBlocked) as raised:
            check_peer(peername, allowed)
        assert str(raised.value).startswith(peername[0])
    else:
        check_peer(peername, allowed)


def test_address_blocked_is_a_delivery_error_and_an_os_error():
    with pytest.raises(AddressBlocked) as raised:
        check_peer(("10.0.0.1", 443), [])

    assert isinstance(raised.value, DeliveryError)
    assert isinstance(raised.value, OSError)
    assert raised.value.host == "10.0.0.1"
