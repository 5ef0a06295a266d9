"""Validation of a webhook's endpoint URL (SPEC section 3).

The messages are shown as they are in the admin form and the API's 422, so
each says what is wrong and what to do.
"""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from hookcast.webhooks.addresses import allowed_networks, blocked_reason

MAX_ENDPOINT_LENGTH = 2048  # Browsers and proxies cap URLs near here.

PLAIN_HTTP_MESSAGE = (
    "Plain HTTP endpoints are rejected: the endpoint must begin with https://"
)


def validate_endpoint(url: str) -> None:
    """Raise ``ValidationError`` unless ``url`` is a well-formed https:// URL."""
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise ValidationError(
            "The endpoint is %(length)d characters long; at most %(limit)d are "
            "allowed.",
            params={"length": len(url), "limit": MAX_ENDPOINT_LENGTH},
            code="too_long",
        )
    if any(ch.isspace() for ch in url) or any(ord(ch) < 0x20 for ch in url):
        raise ValidationError(
            "The endpoint contains whitespace or control characters; "
            "percent-encode them (a space is %20).",
            code="whitespace",
        )
    scheme, _, _ = url.partition("://")
    if scheme.lower() == "http":
        raise ValidationError(PLAIN_HTTP_MESSAGE, code="plain_http")
    if scheme.lower() != "https" or "://" not in url:
        raise ValidationError(
            "The endpoint must begin with https:// (got %(start)r).",
            params={"start": url[:12]},
            code="scheme",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(
            "The endpoint is not a valid URL: %(reason)s.",
            params={"reason": exc},
            code="malformed",
        ) from exc
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "The endpoint must not carry credentials (user:password@); "
            "verify calls with the webhook's signing secret instead.",
            code="credentials",
        )
    if not parts.hostname:
        raise ValidationError("The endpoint has no host name.", code="no_host")
    if port == 0:
        raise ValidationError("The endpoint's port must be 1 to 65535.", code="port")
    validate_host_address(parts.hostname)
    if parts.fragment:
        raise ValidationError(
            "The endpoint has a #fragment, which is never sent; remove it.",
            code="fragment",
        )


def validate_host_address(host: str) -> None:
    """Refuse a host written as an IP address that webhooks may not call.

    Host names are judged by the delivery worker on every connection, since
    what they resolve to can change; an address literal can be judged now,
    when the station's developer can still correct it (SPEC section 5,
    "Safety").
    """
    try:
        address = ip_address(host)
    except ValueError:
        if host.replace(".", "").isdigit():
            # 127.1 or 2130706433: legacy spellings of an IPv4 address that
            # the HTTP client refuses to connect to.
            raise ValidationError(
                "The endpoint's host %(host)s is not a valid IPv4 address; "
                "write it as four numbers from 0 to 255, such as 192.0.2.10.",
                params={"host": host},
                code="ip_literal",
            ) from None
        return
    if reason := blocked_reason(address, allowed_networks()):
        raise ValidationError(
            "Webhooks cannot call the endpoint's host: %(reason)s",
            params={"reason": reason},
            code="blocked_address",
        )
