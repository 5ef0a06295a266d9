"""The administration panel in a browser, as a station's admin uses it.

The reference document's seven steps, clicked as written, then a listener
edited in the panel, the call received by a real HTTPS endpoint, and found
again in the webhook logs by its webhookCallId.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from standardwebhooks.webhooks import Webhook as Verifier

from hookcast.records.models import Listener
from hookcast.stations.models import Membership, Station
from hookcast.webhooks.models import Call, CallStatus, Webhook
from hookcast.webhooks.validation import PLAIN_HTTP_MESSAGE
from tests.delivery.conftest import wait_until, worker  # noqa: F401 - a fixture, used by name

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"


def station_admin(station: Station, username: str) -> User:
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    Membership.objects.create(user=user, station=station)
    return user


def log_in(page: Any, username: str) -> None:
    page.goto("/admin/")  # 1. Open the Administration panel.
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Administration panel", exact=True).wait_for()


def open_new_webhook_form(page: Any) -> None:
    page.goto("/admin/")
    # 2. Click Webhooks in the admin menu.
    menu_row = page.get_by_role("row", name="Webhooks")
    menu_row.get_by_role("link", name="Webhooks", exact=True).click()
    # 3. Click New Webhook.
    page.get_by_role("link", name="New Webhook").click()


def fill_webhook(page: Any, event: str, endpoint: str, method: str) -> None:
    page.get_by_label("Event").select_option(event)  # 4. Select the Event.
    page.get_by_label("Endpoint").fill(endpoint)  # 5. Enter the Endpoint.
    page.get_by_label("Method").select_option(method)  # 6. GET or POST.
    page.get_by_role("button", name="Save Webhook").click()  # 7. Save Webhook.


@pytest.mark.usefixtures("worker")
def test_a_station_admin_subscribes_and_finds_the_call_in_the_logs(
    page, station, receiver, tmp_path
):
    station_admin(station, "dev-admin")
    listener = Listener.objects.create(
        station=station, first_name="John", last_name="Smith"
    )

    log_in(page, "dev-admin")
    open_new_webhook_form(page)
    fill_webhook(page, "Listener.updated", receiver.url + "/listeners", "POST")
    page.get_by_text("was added successfully").wait_for()
    webhook = Webhook.objects.get()
    assert (webhook.station, webhook.event, webhook.method) == (
        station,
        "Listener.updated",
        "POST",
    )

    # Edit the listener in the panel.
    page.goto("/admin/")
    page.get_by_role("link", name="Listeners").click()
    page.get_by_role("link", name="John Smith").click()
    page.get_by_label("Last name").fill("Smithers")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("was changed successfully").wait_for()

    received = receiver.wait_for(1, "/listeners")[0]
    body = json.loads(received.body)
    assert (body["event"], body["station"], body["sender_id"]) == (
        "Listener.updated",
        "developerfm",
        listener.pk,
    )
    assert body["sender"]["last_name"] == "Smithers"
    Verifier(webhook.secret).verify(received.body, received.headers)
    call_id = body["webhookCallId"]
    wait_until(
        lambda: Call.objects.filter(
            call_id=call_id, status=CallStatus.DELIVERED
        ).exists(),
        "the worker to record the delivery",
    )

    # Find it in the webhook logs by its webhookCallId, and open it.
    page.goto("/admin/")
    page.get_by_role("link", name="Webhook calls").click()
    page.get_by_role("textbox", name="Search").fill(call_id)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=call_id).click()
    attempt = page.locator(".inline-related").first
    attempt.get_by_text("Delivered (200)").wait_for()
    assert f"POST {receiver.url}/listeners" in attempt.inner_text()
    assert f"webhook-id: {call_id}" in attempt.inner_text()

    # A test call from the webhook's page; its outcome shows once sent.
    page.goto(f"/admin/webhooks/webhook/{webhook.pk}/change/")
    page.get_by_role("button", name="Send test call").click()
    outcome = page.locator("#test-call-outcome .test-call-status")
    outcome.filter(has_text="delivered").wait_for()
    assert len(receiver.received("/listeners")) == 2
    page.get_by_role("img", name="Calls in the last 24 hours").wait_for()
    page.screenshot(path=str(tmp_path / "webhook-page.png"), full_page=True)


def test_a_plain_http_endpoint_is_rejected_on_the_page(page, station):
    station_admin(station, "dev-admin")

    log_in(page, "dev-admin")
    open_new_webhook_form(page)
    fill_webhook(page, "Prize.created", "http://hooks.example.test/prizes", "GET")

    page.get_by_text(PLAIN_HTTP_MESSAGE).wait_for()
    assert page.get_by_label("Endpoint").input_value() == (
        "http://hooks.example.test/prizes"
    )
    assert not Webhook.objects.exists()


def test_another_stations_admin_cannot_see_the_webhook(page, station):
    webhook = Webhook.objects.create(
        station=station, event="Listener.updated", endpoint="https://dev.test/hook"
    )
    rock = Station.objects.create(subdomain="rockfm", name="Rock FM")
    station_admin(rock, "rock-admin")

    log_in(page, "rock-admin")
    page.get_by_role("row", name="Webhooks").get_by_role(
        "link", name="Webhooks", exact=True
    ).click()
    page.get_by_text("0 webhooks").wait_for()
    assert "dev.test" not in page.content()

    response = page.goto(f"/admin/webhooks/webhook/{webhook.pk}/change/")
    assert response.status == 404
    assert "dev.test" not in page.content()
