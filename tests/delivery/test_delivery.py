"""End to end: record changes arrive at a real HTTPS receiver as signed
calls, in the documented format, retried and ordered as SPEC section 5 says.

Each test runs a worker thread against the test database (SQLite or
PostgreSQL) and the loopback receiver of ``tests/receiver.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import ssl
from email.utils import format_datetime, parsedate_to_datetime

import pytest
import trustme
from django.db import transaction
from standardwebhooks.webhooks import Webhook as StandardWebhook

import hookcast
from hookcast.records.models import Listener
from hookcast.webhooks.models import Attempt, Call, Webhook
from tests.delivery.conftest import make_webhook, settled, wait_until
from tests.receiver import Received, Receiver, Reply

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

# SPEC section 2: station time, milliseconds, numeric offset. Melbourne is
# +10:00 or +11:00.
STATION_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+1[01]:00$")
LISTENER_KEYS = [
    "id", "first_name", "last_name", "email", "dob", "station_id", "gender",
    "address1", "address2", "suburb", "postcode", "created_at", "updated_at",
    "uuid", "phone_number", "full_address", "country", "state",
]  # fmt: skip


def john(station) -> Listener:  # type: ignore[no-untyped-def]
    return Listener.objects.create(
        station=station,
        first_name="John",
        last_name="Smith",
        email="john@example.com",
        dob="1990-07-29",
        gender="male",
        address1="58 Stead St",
        suburb="South Melbourne",
        postcode="3205",
        phone_number="0412123123",
        country="AU",
        state="VIC",
    )


def body(request: Received) -> dict:  # type: ignore[type-arg]
    return json.loads(request.body)


def test_create_update_delete_arrive_in_the_documented_format(station, receiver):  # type: ignore[no-untyped-def]
    for action in ("created", "updated", "deleted"):
        make_webhook(station, receiver, f"Listener.{action}", path=f"/{action}")

    listener = john(station)
    listener_id = listener.pk
    listener.address2 = "Unit 4"
    listener.save()
    listener.delete()

    received = {
        action: receiver.wait_for(1, f"/{action}")[0]
        for action in ("created", "updated", "deleted")
    }
    for action, request in received.items():
        payload = body(request)
        call = Call.objects.get(call_id=payload["webhookCallId"])
        assert list(payload) == [
            "event", "sentAt", "station", "sender_id", "sender", "webhookCallId",
        ]  # fmt: skip
        assert payload["event"] == f"Listener.{action}"
        assert STATION_TIME.match(payload["sentAt"])
        assert payload["station"] == "developerfm"
        assert payload["sender_id"] == listener_id
        assert call.webhook.event == f"Listener.{action}"
        sender = payload["sender"]
        assert list(sender) == LISTENER_KEYS
        assert sender["id"] == listener_id
        assert sender["dob"] == "1990-07-29"
        assert sender["station_id"] == station.pk
        assert STATION_TIME.match(sender["created_at"])
        assert STATION_TIME.match(sender["updated_at"])
        assert request.method == "POST"
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"] == f"hookcast/{hookcast.__version__}"
        assert request.headers["webhook-id"] == payload["webhookCallId"]
        sent_at = dt.datetime.fromisoformat(payload["sentAt"])
        assert int(request.headers["webhook-timestamp"]) == int(sent_at.timestamp())
    created = body(received["created"])["sender"]
    updated = body(received["updated"])["sender"]
    deleted = body(received["deleted"])["sender"]
    assert created["full_address"] == "58 Stead St South Melbourne VIC 3205"
    assert updated["full_address"] == "58 Stead St Unit 4 South Melbourne VIC 3205"
    # A deleted record is sent as it stood just before deletion.
    assert deleted == updated


def test_post_calls_verify_with_standard_webhooks(station, receiver):  # type: ignore[no-untyped-def]
    webhook = make_webhook(station, receiver, "Listener.created")

    john(station)

    request = receiver.wait_for(1)[0]
    verified = StandardWebhook(webhook.secret).verify(request.body, request.headers)
    assert verified["sender"]["first_name"] == "John"


def test_after_a_rotation_both_secrets_verify(station, receiver):  # type: ignore[no-untyped-def]
    webhook = make_webhook(station, receiver, "Listener.created")
    old_secret = webhook.secret
    new_secret = webhook.rotate_secret()

    john(station)

    request = receiver.wait_for(1)[0]
    for secret in (old_secret, new_secret):
        StandardWebhook(secret).verify(request.body, request.headers)


def test_cookies_a_receiver_sets_are_never_sent_back(station, receiver):  # type: ignore[no-untyped-def]
    # By host name: cookies of a bare IP address are refused anyway.
    Webhook.objects.create(
        station=station,
        event="Listener.created",
        endpoint=f"https://localhost:{receiver.port}/hook",
    )
    receiver.script("/hook", Reply(headers={"Set-Cookie": "session=abc; Path=/"}))

    john(station)
    receiver.wait_for(1)
    john(station)

    second = receiver.wait_for(2)[1]
    assert "Cookie" not in second.headers


def test_a_failing_receiver_is_retried_until_it_succeeds(station, receiver):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")
    receiver.script("/hook", Reply(500), Reply(503, body=b"busy"))

    john(station)

    requests = receiver.wait_for(3)
    ids = {request.headers["webhook-id"] for request in requests}
    assert len(ids) == 1, "a retry keeps its webhookCallId"
    call = settled(Call.objects.get())
    assert call.status == "delivered"
    assert call.attempt_count == 3
    attempts = list(call.attempts.order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3]
    assert [a.response_status for a in attempts] == [500, 503, 200]
    assert [a.succeeded for a in attempts] == [False, False, True]
    assert attempts[1].response_body == "busy"
    assert attempts[0].request_method == "POST"
    assert json.loads(attempts[0].request_body)["webhookCallId"] == str(call.call_id)
    assert attempts[0].request_headers["webhook-id"] == str(call.call_id)
    webhook = Webhook.objects.get()
    assert webhook.consecutive_failures == 0
    assert webhook.last_success_at == attempts[2].sent_at
    assert webhook.failing_since is None


def test_a_redirect_is_a_failure_and_is_not_followed(station, receiver, settings):  # type: ignore[no-untyped-def]
    settings.HOOKCAST_RETRY_SCHEDULE = []
    make_webhook(station, receiver, "Listener.created")
    receiver.script("/hook", Reply(302, headers={"Location": "/elsewhere"}))

    john(station)

    call = settled(Call.objects.get())
    assert call.status == "failed"
    assert call.last_status_code == 302
    assert receiver.received("/elsewhere") == []
    webhook = Webhook.objects.get()
    assert webhook.consecutive_failures == 1
    assert webhook.failing_since == call.last_attempt_at


def test_410_gone_disables_the_webhook(station, receiver):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")
    receiver.script("/hook", Reply(410))

    john(station)

    call = settled(Call.objects.get())
    assert call.status == "failed"
    assert call.attempt_count == 1
    webhook = Webhook.objects.get()
    assert not webhook.enabled
    assert "410 Gone" in webhook.disabled_reason
    assert webhook.disabled_at is not None


@pytest.mark.parametrize("form", ["delta-seconds", "HTTP-date"])
def test_retry_after_is_waited_out(station, receiver, form):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")
    now = dt.datetime.now(dt.UTC)
    if form == "delta-seconds":
        value, status = "2", 429
        not_before = None
    else:
        not_before = (now + dt.timedelta(seconds=3)).replace(microsecond=0)
        value, status = format_datetime(not_before, usegmt=True), 503
    receiver.script("/hook", Reply(status, headers={"Retry-After": value}))

    john(station)

    call = settled(Call.objects.get())
    assert call.status == "delivered"
    first, second = call.attempts.order_by("number")
    assert first.response_status == status
    assert first.response_headers["Retry-After"] == value
    if not_before is None:
        assert second.sent_at - first.sent_at >= dt.timedelta(seconds=2)
    else:
        assert second.sent_at >= parsedate_to_datetime(value)


def test_a_rolled_back_change_sends_nothing(station, receiver):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")

    with pytest.raises(RuntimeError), transaction.atomic():
        Listener.objects.create(station=station, first_name="Ghost")
        raise RuntimeError("roll back")
    Listener.objects.create(station=station, first_name="Real")

    wait_until(
        lambda: Call.objects.filter(status="delivered").exists(), "the real call"
    )
    assert [body(r)["sender"]["first_name"] for r in receiver.received()] == ["Real"]


def test_a_save_that_changes_nothing_sends_nothing(station, receiver):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.updated")
    listener = john(station)

    listener.save()
    Listener.objects.get(pk=listener.pk).save()
    listener.first_name = "Jon"
    listener.save()

    wait_until(
        lambda: Call.objects.filter(status="delivered").exists(), "the real call"
    )
    received = receiver.received()
    assert [body(r)["sender"]["first_name"] for r in received] == ["Jon"]


def test_later_changes_of_a_record_wait_for_its_earlier_call(station, receiver):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.updated")
    receiver.script("/hook", Reply(500))
    first, other = john(station), john(station)

    first.first_name = "Update 1"
    first.save()
    receiver.wait_for(1)  # The first call failed and is waiting to retry.
    first.first_name = "Update 2"
    first.save()
    other.first_name = "Other record"
    other.save()

    received = receiver.wait_for(4)
    names = [body(r)["sender"]["first_name"] for r in received]
    assert names[-3:].count("Update 1") == 1
    # The other record's call did not wait for the retry...
    assert names.index("Other record") < names.index("Update 1", 1)
    # ...but the second change of the first record did, whatever the timing.
    assert names.index("Update 2") > names.index("Update 1", 1)
    attempts = Attempt.objects.filter(call__event__sender_id=first.pk)
    assert wait_until(lambda: attempts.filter(succeeded=True).count() == 2, "both")


def test_a_refused_address_fails_at_once_with_the_reason(station, receiver, settings):  # type: ignore[no-untyped-def]
    settings.HOOKCAST_ALLOWED_NETWORKS = []  # Loopback is refused again.
    make_webhook(station, receiver, "Listener.created")

    john(station)

    call = settled(Call.objects.get())
    assert call.status == "failed"
    assert call.attempt_count == 1
    assert "127.0.0.1" in call.attempts.get().error
    assert receiver.received() == []


def test_a_certificate_from_an_untrusted_authority_is_a_failure(station, settings):  # type: ignore[no-untyped-def]
    settings.HOOKCAST_RETRY_SCHEDULE = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    with Receiver(context) as untrusted:
        make_webhook(station, untrusted, "Listener.created")

        john(station)

        call = settled(Call.objects.get())
    assert call.status == "failed"
    assert "certificate" in call.last_error
    assert untrusted.received() == []
