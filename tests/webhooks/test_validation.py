"""Endpoint validation when a webhook is saved (SPEC section 3)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from hookcast.webhooks.models import Webhook
from hookcast.webhooks.validation import PLAIN_HTTP_MESSAGE, validate_endpoint


def test_plain_http_is_rejected_with_the_documented_message():
    with pytest.raises(ValidationError) as caught:
        validate_endpoint("http://app.example.com/hook")
    assert caught.value.messages == [
        "Plain HTTP endpoints are rejected: the endpoint must begin with https://"
    ]
    assert caught.value.messages[0] == PLAIN_HTTP_MESSAGE


@pytest.mark.parametrize(
    ("endpoint", "fragment"),
    [
        ("HTTP://app.example.com/", "Plain HTTP endpoints are rejected"),
        ("ftp://app.example.com/", "must begin with https://"),
        ("app.example.com/hook", "must begin with https://"),
        ("https:///hook", "no host"),
        ("https://app.example.com/a hook", "whitespace"),
        ("https://user:pw@app.example.com/", "credentials"),
        ("https://app.example.com:99999/", "not a valid URL"),
        ("https://app.example.com/#top", "fragment"),
        ("https://app.example.com/" + "a" * 2048, "at most 2048"),
    ],
)
def test_malformed_endpoints_are_rejected_with_a_reason(endpoint, fragment):
    with pytest.raises(ValidationError) as caught:
        validate_endpoint(endpoint)
    assert fragment in " ".join(caught.value.messages)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://app.example.com/hook",
        "https://app.example.com:8443/hooks/audata?token=abc",
        "https://xn--bcher-kva.example/",
    ],
)
def test_wellformed_https_endpoints_pass(endpoint):
    validate_endpoint(endpoint)


def test_full_clean_names_the_endpoint_and_the_event(station):
    webhook = Webhook(
        station=station, event="Listener.exploded", endpoint="http://x.test/"
    )
    with pytest.raises(ValidationError) as caught:
        webhook.full_clean()
    assert caught.value.message_dict["endpoint"] == [PLAIN_HTTP_MESSAGE]
    assert (
        "Listener.exploded is not an event key" in caught.value.message_dict["event"][0]
    )
