"""The webhook logs: read-only, searchable, filterable, redeliverable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from hookcast.webhooks.models import Attempt, Call, CallStatus
from tests.admin.conftest import updated_listener

CHANGELIST = "/admin/webhooks/call/"


def call_page(client, call):  # type: ignore[no-untyped-def]
    return client.get(reverse("admin:webhooks_call_change", args=[call.pk]))


def test_the_menu_names_webhooks_and_webhook_calls(client):
    index = client.get(reverse("admin:index")).text

    assert '<a href="/admin/webhooks/webhook/">Webhooks</a>' in index
    assert '<a href="/admin/webhooks/call/">Webhook calls</a>' in index


def test_the_list_shows_each_calls_essentials(client, call):
    Call.objects.filter(pk=call.pk).update(attempt_count=3, last_status_code=503)

    text = client.get(CHANGELIST).text

    for column in ("webhookCallId", "Event", "Endpoint host", "Status", "Created"):
        assert column in text
    assert str(call.call_id) in text
    assert "Listener.updated" in text
    assert '<td class="field-endpoint_host">dev.test</td>' in text
    assert '<td class="field-last_status_code">503</td>' in text


def test_search_by_webhook_call_id_and_by_sender_id(client, station, call):
    other = updated_listener(station, "Jane")
    other_call = Call.objects.get(event__sender_id=other.pk)

    by_id = client.get(CHANGELIST, {"q": str(call.call_id)}).text
    assert str(call.call_id) in by_id and str(other_call.call_id) not in by_id

    by_sender = client.get(CHANGELIST, {"q": str(other.pk)}).text
    assert str(other_call.call_id) in by_sender and str(call.call_id) not in by_sender


@pytest.mark.parametrize("term", ["nonsense", "99999999999999999999999", "'; --"])
def test_a_search_that_is_neither_is_named_not_a_500(client, call, term):
    response = client.get(CHANGELIST, {"q": term})

    assert response.status_code == 200
    assert "is neither a webhookCallId" in response.text
    assert str(call.call_id) not in response.text


def test_filters_by_status_event_and_date(client, station, call):
    failed = Call.objects.get(event__sender_id=updated_listener(station, "Jane").pk)
    Call.objects.filter(pk=failed.pk).update(
        status=CallStatus.FAILED, created_at=timezone.now() - dt.timedelta(days=40)
    )

    by_status = client.get(CHANGELIST, {"status__exact": "failed"}).text
    assert str(failed.call_id) in by_status and str(call.call_id) not in by_status

    by_event = client.get(CHANGELIST, {"event": "Listener.created"}).text
    assert str(call.call_id) not in by_event

    now = timezone.now()
    by_date = client.get(
        CHANGELIST,
        {
            "created_at__gte": (now - dt.timedelta(days=7)).isoformat(),
            "created_at__lt": (now + dt.timedelta(days=1)).isoformat(),
        },
    ).text
    assert str(call.call_id) in by_date and str(failed.call_id) not in by_date


def test_a_bad_filter_value_is_not_a_500(client, call):
    for params in ({"created_at__gte": "not-a-date"}, {"webhook__id__exact": "x"}):
        assert client.get(CHANGELIST, params).status_code in (200, 302)


def test_the_list_makes_no_query_per_row(
    client, station, call, django_assert_max_num_queries
):
    client.get(CHANGELIST)  # Warm the session and the content types.
    with django_assert_max_num_queries(20) as few:
        client.get(CHANGELIST)
    for name in "ABCDEFGHIJKLMNOPQRST":
        updated_listener(station, name)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(CHANGELIST)


def test_calls_cannot_be_added_changed_or_deleted(client, call):
    assert client.get(reverse("admin:webhooks_call_add")).status_code == 403
    delete = reverse("admin:webhooks_call_delete", args=[call.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:webhooks_call_change", args=[call.pk])
    assert client.post(change, {"status": "delivered"}).status_code == 403
    call.refresh_from_db()
    assert call.status == CallStatus.PENDING
    assert Call.objects.filter(pk=call.pk).exists()
    assert "delete_selected" not in client.get(CHANGELIST).text


def test_the_call_page_shows_every_attempt(client, call):
    Attempt.objects.create(
        call=call,
        number=1,
        sent_at=timezone.now(),
        duration_ms=5012,
        request_method="POST",
        request_url="https://dev.test/hook",
        request_headers={"webhook-id": str(call.call_id)},
        request_body='{"event": "Listener.updated"}',
        error="Timed out after 5 s connecting to dev.test",
    )
    Attempt.objects.create(
        call=call,
        number=2,
        sent_at=timezone.now(),
        duration_ms=42,
        request_method="POST",
        request_url="https://dev.test/hook",
        request_headers={"content-type": "application/json"},
        request_body='{"event": "Listener.updated"}',
        response_status=200,
        response_headers={"Server": "receiver"},
        response_body="thanks",
        succeeded=True,
    )

    text = call_page(client, call).text

    assert f"webhook-id: {call.call_id}" in text
    assert "POST https://dev.test/hook" in text
    assert "{&quot;event&quot;: &quot;Listener.updated&quot;}" in text
    assert "No response: Timed out after 5 s connecting to dev.test" in text
    assert "5012 ms" in text and "42 ms" in text
    assert "Server: receiver" in text and "thanks" in text
    assert "Delivered (200)" in text
    assert "Redeliver this call" in text


def test_redeliver_the_selected_calls(client, call):
    Call.objects.filter(pk=call.pk).update(
        status=CallStatus.FAILED, retry_count=7, attempt_count=8
    )

    response = client.post(
        CHANGELIST,
        {"action": "redeliver_calls", "_selected_action": [call.pk]},
        follow=True,
    )

    call.refresh_from_db()
    assert (call.status, call.retry_count, call.attempt_count) == (
        CallStatus.PENDING,
        0,
        8,
    )
    assert "Queued 1 call(s) to be sent again" in response.text


def test_another_stations_call_cannot_be_redelivered(client, other_call):
    Call.objects.filter(pk=other_call.pk).update(status=CallStatus.FAILED)

    client.post(
        CHANGELIST, {"action": "redeliver_calls", "_selected_action": [other_call.pk]}
    )

    other_call.refresh_from_db()
    assert other_call.status == CallStatus.FAILED
