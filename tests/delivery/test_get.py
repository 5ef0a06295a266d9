"""GET webhooks: the payload as URL parameters that ``qs`` parses back, the
endpoint's own query kept, signed over the query string as sent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from hookcast.delivery.breaker import BASE_COOLDOWN_S, THRESHOLD
from hookcast.records.models import Listener
from hookcast.webhooks.models import Call
from hookcast.webhooks.payload import MAX_GET_URL_BYTES
from tests.delivery.conftest import make_webhook, settled

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

JS_DIR = Path(__file__).resolve().parent.parent / "js"


def qs_parse(query: str) -> Any:
    """``query`` as Node's ``qs`` library parses it (``npm install --prefix
    tests/js`` installs it)."""
    problem = None
    if shutil.which("node") is None:
        problem = "node is not installed"
    elif not (JS_DIR / "node_modules" / "qs").is_dir():
        problem = "qs is not installed: run npm install --prefix tests/js"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; CI must check GET calls with qs.")
        pytest.skip(problem)
    script = "console.log(JSON.stringify(require('qs').parse(process.argv[1])))"
    result = subprocess.run(
        ["node", "-e", script, query],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(result.stdout)


def as_query_values(value: Any) -> Any:
    """What a query string can carry: strings, with null as empty."""
    if isinstance(value, dict):
        return {key: as_query_values(item) for key, item in value.items()}
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_get_query_parses_back_to_the_payload_with_qs(station, receiver):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created", path="/get", method="GET")

    Listener.objects.create(
        station=station,
        first_name="Zoë & Jo",
        last_name="O'Brien=1",
        email="zoe+jo@example.com",
        address1="1/58 Stead St #2",
        suburb="South Melbourne",
        state="VIC",
    )

    request = receiver.wait_for(1)[0]
    assert request.method == "GET"
    assert request.body == b""
    call = Call.objects.select_related("event").get()
    parsed = qs_parse(request.query_string)
    sent_at = parsed["sentAt"]
    expected = {
        "event": "Listener.created",
        "sentAt": sent_at,
        "station": "developerfm",
        "sender_id": call.event.sender_id,
        "sender": json.loads(call.event.sender),
        "webhookCallId": str(call.call_id),
    }
    assert parsed == as_query_values(expected)
    assert list(parsed) == list(expected)
    assert parsed["sender"]["first_name"] == "Zoë & Jo"
    assert parsed["sender"]["dob"] == ""  # null is an empty value


def test_get_keeps_the_endpoints_own_query(station, receiver):  # type: ignore[no-untyped-def]
    make_webhook(
        station, receiver, "Listener.created", path="/get?token=abc", method="GET"
    )

    Listener.objects.create(station=station, first_name="John")

    request = receiver.wait_for(1)[0]
    assert request.query_string.startswith("token=abc&event=Listener.created&")
    parsed = qs_parse(request.query_string)
    assert parsed["token"] == "abc"
    assert parsed["sender"]["first_name"] == "John"


def test_get_calls_verify_with_standard_webhooks(station, receiver):  # type: ignore[no-untyped-def]
    webhook = make_webhook(
        station, receiver, "Listener.created", path="/get?token=abc", method="GET"
    )

    Listener.objects.create(station=station, first_name="John")

    request = receiver.wait_for(1)[0]
    # The signed content is the query string exactly as it was sent.
    StandardWebhook(webhook.secret).verify(
        request.query_string, request.headers, json_parse=False
    )
    assert "Content-Type" not in request.headers


def listener_over_the_limit(station) -> Listener:  # type: ignore[no-untyped-def]
    """A listener whose GET call's URL is over MAX_GET_URL_BYTES."""
    # Each € is nine bytes once percent-encoded; address1, address2 and suburb
    # also appear in full_address.
    long = "€" * 100
    return Listener.objects.create(
        station=station,
        first_name=long,
        last_name=long,
        address1=long * 2,
        address2=long * 2,
        suburb=long,
    )


def test_get_url_over_the_limit_fails_without_being_sent(station, receiver):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created", path="/get", method="GET")

    listener_over_the_limit(station)

    call = settled(Call.objects.get())
    assert call.status == "failed"
    assert call.attempt_count == 1
    attempt = call.attempts.get()
    assert f"{MAX_GET_URL_BYTES:,}" in attempt.error
    assert len(attempt.request_url.encode()) > MAX_GET_URL_BYTES
    assert attempt.response_status is None
    assert call.last_error == attempt.error
    assert receiver.received() == []


def test_urls_over_the_limit_do_not_pause_their_host(station, receiver):  # type: ignore[no-untyped-def]
    # The host did nothing wrong, so the circuit breaker must not count these
    # failures; were it to, the host would be paused for BASE_COOLDOWN_S,
    # longer than the receiver waits below.
    make_webhook(station, receiver, "Listener.created", path="/get", method="GET")
    make_webhook(station, receiver, "Listener.updated", path="/hook")
    listeners = [listener_over_the_limit(station) for _ in range(THRESHOLD + 1)]
    for call in Call.objects.all():
        assert settled(call).status == "failed"

    listener = listeners[0]
    listener.first_name = "John"
    listener.save()

    assert receiver.wait_for(1, "/hook", timeout_s=BASE_COOLDOWN_S / 2)
