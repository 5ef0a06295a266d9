"""Signatures verify with the public standardwebhooks package."""

from __future__ import annotations

import datetime as dt

import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from hookcast.webhooks.signing import generate_secret, signature_header


def headers(
    secrets: list[str], content: bytes, msg_id: str = "msg_1"
) -> dict[str, str]:
    timestamp = int(dt.datetime.now(dt.UTC).timestamp())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, content),
    }


def test_a_signed_body_verifies():
    secret = generate_secret()
    body = b'{"event": "Listener.updated"}'

    assert Verifier(secret).verify(body, headers([secret], body)) == {
        "event": "Listener.updated"
    }


def test_either_secret_verifies_during_a_rotation():
    old, new = generate_secret(), generate_secret()
    body = b'{"a": 1}'
    signed = headers([new, old], body)

    assert signed["webhook-signature"].count("v1,") == 2
    Verifier(old).verify(body, signed)
    Verifier(new).verify(body, signed)


def test_a_changed_body_or_another_secret_fails():
    secret = generate_secret()
    signed = headers([secret], b'{"a": 1}')
    with pytest.raises(WebhookVerificationError):
        Verifier(secret).verify(b'{"a": 2}', signed)
    with pytest.raises(WebhookVerificationError):
        Verifier(generate_secret()).verify(b'{"a": 1}', signed)


def test_secrets_are_whsec_and_distinct():
    secrets = {generate_secret() for _ in range(20)}
    assert len(secrets) == 20
    assert all(s.startswith("whsec_") for s in secrets)
