"""Which addresses a call may go to, decided without connecting to any."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from hookcast.webhooks.addresses import allowed_networks, blocked_reason
from hookcast.webhooks.validation import PLAIN_HTTP_MESSAGE, validate_endpoint

BLOCKED = [
    # (address, the range the refusal must name)
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this network"),
    ("10.0.0.1", "10.0.0.0/8, a private network (RFC 1918)"),
    ("172.16.0.1", "172.16.0.0/12, a private network (RFC 1918)"),
    ("172.31.255.254", "172.16.0.0/12, a private network (RFC 1918)"),
    ("192.168.1.1", "192.168.0.0/16, a private network (RFC 1918)"),
    ("100.64.0.1", "100.64.0.0/10, carrier-grade NAT"),
    ("100.127.255.254", "100.64.0.0/10, carrier-grade NAT"),
    ("127.0.0.1", "127.0.0.0/8, the loopback network"),
    ("127.255.255.254", "127.0.0.0/8, the loopback network"),
    # The cloud metadata service.
    ("169.254.169.254", "169.254.0.0/16, the link-local network"),
    ("192.0.0.8", "192.0.0.0/24, the IETF protocol assignments"),
    ("192.0.2.10", "TEST-NET-1 (RFC 5737)"),
    ("198.51.100.10", "TEST-NET-2 (RFC 5737)"),
    ("203.0.113.10", "TEST-NET-3 (RFC 5737)"),
    ("192.88.99.1", "6to4 relay anycast"),
    ("198.18.0.1", "198.18.0.0/15, the benchmarking network (RFC 2544)"),
    ("198.19.255.254", "198.18.0.0/15, the benchmarking network (RFC 2544)"),
    ("224.0.0.251", "224.0.0.0/4, the multicast range"),
    ("239.255.255.250", "224.0.0.0/4, the multicast range"),
    ("240.0.0.1", "240.0.0.0/4, the reserved range"),
    ("255.255.255.255", "the limited broadcast address"),
    ("::", "the unspecified address"),
    ("::1", "the loopback address"),
    ("fe80::1", "fe80::/10, the link-local range"),
    ("fe80::1%eth0", "fe80::/10, the link-local range"),
    ("fc00::1", "fc00::/7, the unique-local range"),
    ("fd12:3456:789a::1", "fc00::/7, the unique-local range"),
    ("fec0::1", "fec0::/10, the deprecated site-local range"),
    ("ff02::1", "ff00::/8, the multicast range"),
    ("2001:db8::1", "2001:db8::/32, the documentation prefix"),
    ("3fff::1", "3fff::/20, the documentation prefix"),
    ("2001:2::1", "2001::/23, the IETF protocol assignments"),
    ("100::1", "100::/64, the discard-only prefix"),
    ("64:ff9b::808:808", "64:ff9b::/96, the NAT64 well-known prefix"),
    ("64:ff9b:1::a00:1", "64:ff9b:1::/48, the local-use NAT64 prefix"),
    ("::2", "outside the global unicast range 2000::/3"),
    ("4000::1", "outside the global unicast range 2000::/3"),
    # IPv4-mapped: named by the IPv4 address it carries.
    ("::ffff:127.0.0.1", "IPv4-mapped IPv6 address"),
    ("::ffff:10.0.0.1", "10.0.0.0/8, a private network"),
    # 6to4 of 127.0.0.1 and of 192.168.1.1.
    ("2002:7f00:1::1", "6to4 address (2002::/16, RFC 3056) that embeds 127.0.0.1"),
    ("2002:c0a8:101::1", "embeds 192.168.1.1: 192.168.1.1 is in 192.168.0.0/16"),
    # Teredo with server 192.0.2.45 (RFC 4380's example) and a public client.
    ("2001:0:c000:22d:8000:63bf:f7f7:f7f7", "Teredo address"),
    # Teredo with a public server and client 10.0.0.1 (stored inverted).
    ("2001:0:808:808:8000:63bf:f5ff:fffe", "embeds 10.0.0.1"),
]

CALLABLE = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.215.14",
    "100.63.255.255",  # Just below carrier-grade NAT.
    "100.128.0.0",  # Just above it.
    "172.32.0.1",  # Just above 172.16.0.0/12.
    "198.20.0.1",  # Just above the benchmarking network.
    "223.255.255.254",  # Just below multicast.
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "2002:808:808::1",  # 6to4 of a public address.
    "2001:0:808:808:8000:63bf:f7f7:f7f7",  # Teredo of public addresses.
]


@pytest.mark.parametrize(("address", "named"), BLOCKED)
def test_a_blocked_address_is_refused_with_its_range_named(address, named):
    reason = blocked_reason(ip_address(address), [])

    assert reason is not None
    assert named in reason
    assert reason.endswith(".")


@pytest.mark.parametrize("address", CALLABLE)
def test_a_public_address_may_be_called(address):
    assert blocked_reason(ip_address(address), []) is None


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", "127.0.0.0/8"),
        ("10.1.2.3", "10.0.0.0/8"),
        ("::1", "::1/128"),
        ("fd00::5", "fd00::/8"),
        # 6to4 of an allowed IPv4 address.
        ("2002:7f00:1::1", "127.0.0.0/8"),
    ],
)
def test_an_allowed_network_exempts_its_addresses(address, allowed):
    assert blocked_reason(ip_address(address), [ip_network(allowed)]) is None


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", "10.0.0.0/8"),  # Another network.
        ("10.0.0.1", "::/0"),  # Another family.
        # A mapped address is refused even when the IPv4 address is allowed.
        ("::ffff:127.0.0.1", "127.0.0.0/8"),
    ],
)
def test_an_allowed_network_exempts_nothing_outside_it(address, allowed):
    assert blocked_reason(ip_address(address), [ip_network(allowed)]) is not None


def test_allowed_networks_are_read_from_the_setting_when_asked(settings):
    settings.HOOKCAST_ALLOWED_NETWORKS = ["127.0.0.0/8", " ::1/128 ", "10.0.0.1/8"]

    assert allowed_networks() == [
        ip_network("127.0.0.0/8"),
        ip_network("::1/128"),
        ip_network("10.0.0.0/8"),
    ]


def test_a_malformed_allowed_network_is_named(settings):
    settings.HOOKCAST_ALLOWED_NETWORKS = ["127.0.0.0/8", "localhost"]

    with pytest.raises(ImproperlyConfigured, match="'localhost'"):
        allowed_networks()


@pytest.mark.parametrize(
    ("endpoint", "named"),
    [
        ("https://127.0.0.1/hook", "127.0.0.0/8, the loopback network"),
        ("https://10.0.0.7:8443/hook", "10.0.0.0/8, a private network"),
        ("https://169.254.169.254/latest/meta-data", "the link-local network"),
        ("https://[::1]/hook", "::1 is the loopback address"),
        ("https://[fd00::1]/hook", "the unique-local range"),
        ("https://[::ffff:192.168.0.1]/", "IPv4-mapped"),
    ],
)
def test_an_endpoint_on_a_blocked_address_is_refused_when_saved(
    settings, endpoint, named
):
    settings.HOOKCAST_ALLOWED_NETWORKS = []

    with pytest.raises(ValidationError) as raised:
        validate_endpoint(endpoint)

    (message,) = raised.value.messages
    assert message.startswith("Webhooks cannot call the endpoint's host: ")
    assert named in message


@pytest.mark.parametrize("endpoint", ["https://127.1/hook", "https://2130706433/"])
def test_a_legacy_spelling_of_an_ipv4_address_is_refused(settings, endpoint):
    settings.HOOKCAST_ALLOWED_NETWORKS = []

    with pytest.raises(ValidationError, match="is not a valid IPv4 address"):
        validate_endpoint(endpoint)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]/hook",
        # Names are judged when the worker connects, not when saved.
        "https://localhost/hook",
        "https://example.com/hook",
    ],
)
def test_a_public_address_or_a_name_is_accepted_when_saved(settings, endpoint):
    settings.HOOKCAST_ALLOWED_NETWORKS = []

    validate_endpoint(endpoint)


def test_an_allowed_network_may_be_saved(settings):
    settings.HOOKCAST_ALLOWED_NETWORKS = ["127.0.0.0/8"]

    validate_endpoint("https://127.0.0.1:8443/hook")


def test_the_plain_http_message_is_kept_before_any_address_check(settings):
    settings.HOOKCAST_ALLOWED_NETWORKS = []

    with pytest.raises(ValidationError) as raised:
        validate_endpoint("http://127.0.0.1/hook")

    assert raised.value.messages == [PLAIN_HTTP_MESSAGE]
