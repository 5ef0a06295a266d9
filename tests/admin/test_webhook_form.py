"""The reference document's steps, through the webhook form."""

from __future__ import annotations

import re

from django.urls import reverse

from hookcast.records.registry import event_keys
from hookcast.webhooks.models import Webhook
from hookcast.webhooks.validation import PLAIN_HTTP_MESSAGE


def new_webhook(station, **changes):  # type: ignore[no-untyped-def]
    return {
        "station": station.pk,
        "event": "Listener.updated",
        "endpoint": "https://hooks.example.test/listeners",
        "method": "POST",
        "enabled": "on",
        **changes,
    }


def test_the_list_offers_new_webhook_and_the_form_save_webhook(client):
    listing = client.get(reverse("admin:webhooks_webhook_changelist"))
    assert ">New Webhook</a>" in listing.text

    form = client.get(reverse("admin:webhooks_webhook_add"))
    assert 'value="Save Webhook"' in form.text
    assert "<h1>New Webhook</h1>" in form.text


def test_the_event_select_lists_every_event_key(client):
    form = client.get(reverse("admin:webhooks_webhook_add"))

    select = re.search(r'<select name="event".*?</select>', form.text, re.S)
    assert select is not None
    options = re.findall(r'<option value="([^"]+)"', select.group(0))
    assert options == event_keys()
    assert {"Listener.updated", "Prize.created", "Campaign.deleted"} <= set(options)


def test_saving_creates_the_webhook_for_the_members_station(client, station):
    response = client.post(
        reverse("admin:webhooks_webhook_add"), new_webhook(station, method="GET")
    )

    assert response.status_code == 302
    webhook = Webhook.objects.get()
    assert (webhook.station, webhook.event, webhook.method) == (
        station,
        "Listener.updated",
        "GET",
    )
    assert webhook.secret.startswith("whsec_")


def test_a_plain_http_endpoint_is_rejected_and_nothing_saved(client, station):
    response = client.post(
        reverse("admin:webhooks_webhook_add"),
        new_webhook(station, endpoint="http://hooks.example.test/listeners"),
    )

    assert response.status_code == 200
    assert PLAIN_HTTP_MESSAGE in response.text
    assert not Webhook.objects.exists()


def test_an_unknown_event_or_a_malformed_endpoint_is_named(client, station):
    response = client.post(
        reverse("admin:webhooks_webhook_add"),
        new_webhook(station, event="Listener.exploded", endpoint="https://"),
    )

    errors = response.context["adminform"].form.errors
    assert "Listener.exploded is not one of the available choices" in str(
        errors["event"]
    )
    assert "The endpoint has no host name." in str(errors["endpoint"])
    assert not Webhook.objects.exists()
