"""A webhook's page: its secret, health, chart, recent calls and buttons."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from hookcast.records.models import Listener
from hookcast.webhooks import wakeup
from hookcast.webhooks.models import Call, CallStatus, Webhook
from hookcast.webhooks.samples import SAMPLE_SENDER_ID, SAMPLE_UUID
from tests.admin.conftest import updated_listener


def page(client, webhook):  # type: ignore[no-untyped-def]
    return client.get(reverse("admin:webhooks_webhook_change", args=[webhook.pk]))


def button(name: str, webhook: Webhook) -> str:
    return reverse(f"admin:webhooks_webhook_{name}", args=[webhook.pk])


def test_the_secret_is_masked_until_revealed(client, webhook):
    text = page(client, webhook).text

    assert "whsec_••••" in text
    # Only inside the closed details element, which the user opens to reveal.
    assert text.count(webhook.secret) == 1
    details = text[text.index('<details class="reveal-secret">') :]
    assert details.index(webhook.secret) < details.index("</details>")


def test_rotate_secret_keeps_the_old_one_signing(client, webhook):
    old = webhook.secret

    response = client.post(button("rotate_secret", webhook))

    assert response.status_code == 302
    webhook.refresh_from_db()
    assert webhook.secret != old
    assert webhook.signing_secrets() == [webhook.secret, old]
    assert "The previous secret also signs" in page(client, webhook).text


def test_rotate_secret_needs_a_post(client, webhook):
    assert client.get(button("rotate_secret", webhook)).status_code == 405


def test_the_buttons_of_another_stations_webhook_are_404(client, other_webhook):
    old = other_webhook.secret
    for name in ("rotate_secret", "test_call", "redeliver_failed"):
        assert client.post(button(name, other_webhook)).status_code == 404
    other_webhook.refresh_from_db()
    assert other_webhook.secret == old
    assert not Call.objects.exists()


def test_enable_and_disable_actions(client, webhook, station):
    changelist = reverse("admin:webhooks_webhook_changelist")

    client.post(
        changelist, {"action": "disable_webhooks", "_selected_action": [webhook.pk]}
    )
    webhook.refresh_from_db()
    assert not webhook.enabled
    assert "dev-admin" in webhook.disabled_reason
    assert (
        "Disabled: Disabled in the administration panel" in client.get(changelist).text
    )

    client.post(
        changelist, {"action": "enable_webhooks", "_selected_action": [webhook.pk]}
    )
    webhook.refresh_from_db()
    assert webhook.enabled
    assert webhook.disabled_reason == "" and webhook.disabled_at is None


def test_rotate_action_on_the_list(client, webhook):
    old = webhook.secret

    client.post(
        reverse("admin:webhooks_webhook_changelist"),
        {"action": "rotate_secrets", "_selected_action": [webhook.pk]},
    )

    webhook.refresh_from_db()
    assert webhook.previous_secret == old and webhook.secret != old


def test_health_is_shown(client, webhook):
    since = timezone.now() - dt.timedelta(hours=3)
    Webhook.objects.filter(pk=webhook.pk).update(
        consecutive_failures=4, failing_since=since
    )

    text = page(client, webhook).text

    assert "4 failures in a row" in text
    assert f"Failing since {since:%Y-%m-%d %H:%M} UTC" in text


def test_a_test_call_carries_the_stations_latest_record_and_wakes_the_worker(
    client, webhook, station, django_capture_on_commit_callbacks
):
    Listener.objects.create(station=station, first_name="Older")
    latest = Listener.objects.create(station=station, first_name="Latest")
    woken: list[bool] = []

    def wake() -> None:
        woken.append(True)

    wakeup.add_listener(wake)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(button("test_call", webhook), follow=True)
    finally:
        wakeup.remove_listener(wake)

    call = Call.objects.get(webhook=webhook)
    assert call.event.key == "Listener.updated"
    assert call.event.sender_id == latest.pk
    assert json.loads(call.event.sender)["first_name"] == "Latest"
    assert call.status == CallStatus.PENDING
    assert woken == [True]
    assert f"Test call {call.call_id} queued" in response.text
    assert "waiting for a worker" in response.text
    status = client.get(
        reverse(
            "admin:webhooks_webhook_test_call_status", args=[webhook.pk, call.call_id]
        )
    ).json()
    assert status["status"] == "pending"


def test_a_test_call_without_records_carries_a_marked_sample(client, webhook):
    client.post(button("test_call", webhook))

    call = Call.objects.get(webhook=webhook)
    sender = json.loads(call.event.sender)
    assert call.event.sender_id == SAMPLE_SENDER_ID
    assert sender["id"] == SAMPLE_SENDER_ID
    assert sender["uuid"] == str(SAMPLE_UUID)
    assert not Listener.objects.exists()


def test_a_test_calls_outcome_is_shown_once_sent(client, webhook):
    client.post(button("test_call", webhook))
    Call.objects.filter(webhook=webhook).update(
        status=CallStatus.DELIVERED, attempt_count=1, last_status_code=204
    )

    text = page(client, webhook).text

    assert "Latest test call" in text
    assert '<strong class="test-call-status">delivered</strong>' in text
    assert "(HTTP 204)" in text


def test_recent_calls_and_the_chart(client, webhook, station):
    listener = updated_listener(station)
    call = Call.objects.get(event__sender_id=listener.pk)
    Call.objects.filter(pk=call.pk).update(status=CallStatus.FAILED)

    text = page(client, webhook).text

    assert str(call.call_id) in text
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="call-chart"' in text
    assert "1 failed" in text  # The chart's summary and the hour's tooltip.


@pytest.fixture
def failed_calls(station, webhook):  # type: ignore[no-untyped-def]
    """Two failed calls: one of two days ago, one of an hour ago."""
    old = updated_listener(station, "Old")
    new = updated_listener(station, "New")
    now = timezone.now()
    Call.objects.filter(event__sender_id=old.pk).update(
        status=CallStatus.FAILED, created_at=now - dt.timedelta(days=2)
    )
    Call.objects.filter(event__sender_id=new.pk).update(
        status=CallStatus.FAILED, created_at=now - dt.timedelta(hours=1)
    )
    return {"old": old.pk, "new": new.pk}


def test_redeliver_failed_since_a_time_in_station_time(
    client, webhook, station, failed_calls
):
    since = (timezone.now() - dt.timedelta(days=1)).astimezone(station.zone)

    response = client.post(
        button("redeliver_failed", webhook),
        {"since": since.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )

    statuses = dict(Call.objects.values_list("event__sender_id", "status"))
    assert statuses == {
        failed_calls["old"]: CallStatus.FAILED,
        failed_calls["new"]: CallStatus.PENDING,
    }
    assert "Queued 1 failed call(s)" in response.text


@pytest.mark.parametrize("since", ["", "yesterday", "2024-13-45T99:99"])
def test_redeliver_failed_since_bad_input_is_named(
    client, webhook, failed_calls, since
):
    response = client.post(
        button("redeliver_failed", webhook), {"since": since}, follow=True
    )

    assert response.status_code == 200
    assert (
        "Choose the time" in response.text
        or "Enter the time as YYYY-MM-DD HH:MM." in response.text
    )
    assert not Call.objects.filter(status=CallStatus.PENDING).exists()


def test_a_test_call_for_an_event_of_no_record_type_is_refused(client, webhook):
    Webhook.objects.filter(pk=webhook.pk).update(event="Jingle.created")

    response = client.post(button("test_call", webhook), follow=True)

    assert "Jingle.created names no record type any more" in response.text
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/webhooks/webhook/?enabled__exact=maybe",
        "/admin/webhooks/webhook/?event=No.such",
        "/admin/webhooks/call/?status__exact=bogus",
        "/admin/webhooks/call/?created_at__gte=yesterday",
        "/admin/webhooks/call/?p=999999",
        "/admin/webhooks/call/?o=99",
        "/admin/records/prize/?value__gt=abc",
        "/admin/stations/apikey/?revoked_at__isempty=perhaps",
    ],
)
def test_odd_query_strings_never_fail(client, call, url):
    assert client.get(url).status_code in (200, 302, 404)


def test_the_test_call_status_of_a_bad_or_foreign_id_is_404(
    client, webhook, other_call
):
    for call_id in ("not-a-uuid", str(other_call.call_id)):
        url = reverse(
            "admin:webhooks_webhook_test_call_status", args=[webhook.pk, call_id]
        )
        assert client.get(url).status_code == 404
