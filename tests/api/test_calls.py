"""The webhook logs through the API: calls, their attempts, redelivery."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hookcast.records.models import Listener
from hookcast.webhooks.models import Attempt, Call, CallStatus, Webhook


@pytest.fixture
def webhook(station):  # type: ignore[no-untyped-def]
    return Webhook.objects.create(
        station=station, event="Listener.created", endpoint="https://app.test/hook"
    )


@pytest.fixture
def failed_call(station, webhook):  # type: ignore[no-untyped-def]
    Listener.objects.create(station=station, first_name="John")
    call = Call.objects.get()
    Attempt.objects.create(
        call=call, number=1, sent_at=timezone.now(), duration_ms=12,
        request_method="POST", request_url="https://app.test/hook",
        request_headers={"webhook-id": str(call.call_id)}, request_body="{}",
        response_status=500, response_headers={"Content-Type": "text/plain"},
        response_body="boom",
    )  # fmt: skip
    call.status = CallStatus.FAILED
    call.attempt_count = 1
    call.retry_count = 7
    call.save()
    return call


def test_a_call_is_read_by_its_webhook_call_id_with_its_attempts(api, failed_call):
    response = api.get(f"calls/{failed_call.call_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["webhookCallId"] == str(failed_call.call_id)
    assert body["event"] == "Listener.created"
    assert body["status"] == "failed"
    assert body["sender"]["first_name"] == "John"
    [attempt] = body["attempts"]
    assert attempt["request"] == {
        "method": "POST", "url": "https://app.test/hook",
        "headers": {"webhook-id": str(failed_call.call_id)}, "body": "{}",
    }  # fmt: skip
    assert attempt["response"] == {
        "status": 500,
        "headers": {"Content-Type": "text/plain"},
        "body": "boom",
    }
    assert attempt["duration_ms"] == 12
    assert attempt["succeeded"] is False


def test_calls_are_listed_with_filters(api, station, webhook, failed_call):
    john = Listener.objects.get()
    other = Webhook.objects.create(station=station, event="Listener.updated",
                                   endpoint="https://other.test/")  # fmt: skip
    john.last_name = "Smith"
    john.save()

    def ids(**query):  # type: ignore[no-untyped-def]
        response = api.get("calls", **query)
        assert response.status_code == 200
        return [c["webhookCallId"] for c in response.json()["results"]]

    updated = str(Call.objects.get(webhook=other).call_id)
    assert ids() == [updated, str(failed_call.call_id)]  # newest first
    assert ids(webhook=webhook.pk) == [str(failed_call.call_id)]
    assert ids(event="Listener.updated") == [updated]
    assert ids(status="failed") == [str(failed_call.call_id)]
    assert ids(sender_id=john.pk) == [updated, str(failed_call.call_id)]
    assert ids(sender_id=john.pk + 1) == []
    later = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    assert ids(created_after=later) == []
    assert ids(created_before=later) == [updated, str(failed_call.call_id)]


def test_redeliver_queues_the_call_again_under_the_same_id(api, failed_call):
    response = api.post(f"calls/{failed_call.call_id}/redeliver")

    assert response.status_code == 202
    assert response.json() == {"queued": 1}
    failed_call.refresh_from_db()
    assert failed_call.status == CallStatus.PENDING
    assert failed_call.retry_count == 0
    assert api.get(f"calls/{failed_call.call_id}").json()["attempts"]


def test_redeliver_failed_since_queues_only_later_failures(api, webhook, failed_call):
    later = (failed_call.created_at + dt.timedelta(seconds=1)).isoformat()
    earlier = (failed_call.created_at - dt.timedelta(seconds=1)).isoformat()

    none = api.post(f"webhooks/{webhook.pk}/redeliver-failed", {"since": later})
    some = api.post(f"webhooks/{webhook.pk}/redeliver-failed", {"since": earlier})

    assert none.json() == {"queued": 0}
    assert some.status_code == 202
    assert some.json() == {"queued": 1}
    failed_call.refresh_from_db()
    assert failed_call.status == CallStatus.PENDING


def test_redeliver_failed_needs_a_since_with_an_offset(api, webhook):
    missing = api.post(f"webhooks/{webhook.pk}/redeliver-failed", {})
    naive = api.post(
        f"webhooks/{webhook.pk}/redeliver-failed", {"since": "2024-01-01T00:00"}
    )

    assert missing.json()["detail"] == [
        {"field": "since", "message": "This field is required."}
    ]
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["field"] == "since"


def test_an_unknown_or_malformed_call_id(api):
    unknown = api.get("calls/2ae54ecb-930f-4a7a-974d-d84788d9dd12")
    malformed = api.get("calls/not-a-uuid")

    assert unknown.status_code == 404
    assert unknown.json()["detail"][0]["field"] == "webhookCallId"
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["field"] == "webhookCallId"
