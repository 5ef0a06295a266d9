"""The webhooks API: CRUD, model validation, secrets, event types."""

from __future__ import annotations

import pytest

from hookcast.records.registry import event_keys
from hookcast.webhooks.models import Webhook
from hookcast.webhooks.validation import PLAIN_HTTP_MESSAGE

HOOK = {
    "event": "Listener.updated",
    "endpoint": "https://app.test/hook",
    "method": "POST",
}


def test_create_returns_the_webhook_with_its_secret(api, station):
    response = api.post("webhooks", HOOK)

    assert response.status_code == 201
    webhook = Webhook.objects.get(pk=response.json()["id"])
    assert webhook.station == station
    assert response.json()["secret"] == webhook.secret
    assert response.json()["enabled"] is True
    assert response.json()["disabled_reason"] == ""
    assert response.json()["consecutive_failures"] == 0


def test_the_secret_is_never_in_list_or_read(api):
    created = api.post("webhooks", HOOK).json()
    secret = created["secret"]

    listed = api.get("webhooks")
    read = api.get(f"webhooks/{created['id']}")
    patched = api.patch(f"webhooks/{created['id']}", {"method": "GET"})

    for response in (listed, read, patched):
        assert response.status_code == 200
        assert secret not in response.content.decode()
        assert b'"secret"' not in response.content
    assert api.get(f"webhooks/{created['id']}/secret").json() == {"secret": secret}


def test_rotating_the_secret_keeps_the_old_one_signing_for_a_while(api):
    created = api.post("webhooks", HOOK).json()

    rotated = api.post(f"webhooks/{created['id']}/secret/rotate")

    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != created["secret"]
    assert api.get(f"webhooks/{created['id']}/secret").json() == {"secret": new}
    webhook = Webhook.objects.get(pk=created["id"])
    assert webhook.signing_secrets() == [new, created["secret"]]


def test_plain_http_is_refused_with_the_documented_message(api):
    response = api.post("webhooks", {**HOOK, "endpoint": "http://app.test/hook"})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "endpoint", "message": PLAIN_HTTP_MESSAGE}
    ]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"event": "Listener.renamed"},
            "event",
            "Listener.renamed is not an event key",
        ),
        ({"method": "PUT"}, "method", "'POST' or 'GET'"),
        ({"endpoint": "https://user:pw@app.test/"}, "endpoint", "credentials"),
        ({"enabled": "yes"}, "enabled", "valid boolean"),
        ({"secret": "mine"}, "secret", "unknown"),
    ],
)
def test_bad_webhooks_are_refused_naming_the_field(api, change, field, message):
    response = api.post("webhooks", {**HOOK, **change})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == field
    assert message in error["message"]


def test_patch_and_delete(api):
    created = api.post("webhooks", HOOK).json()

    patched = api.patch(
        f"webhooks/{created['id']}", {"enabled": False, "method": "GET"}
    )
    assert patched.json()["enabled"] is False
    assert patched.json()["method"] == "GET"
    refused = api.patch(f"webhooks/{created['id']}", {"endpoint": "http://a.test/"})
    assert refused.json()["detail"][0]["message"] == PLAIN_HTTP_MESSAGE
    assert Webhook.objects.get(pk=created["id"]).endpoint == HOOK["endpoint"]
    assert api.delete(f"webhooks/{created['id']}").status_code == 204
    assert api.get(f"webhooks/{created['id']}").status_code == 404


def test_enabling_a_disabled_webhook_clears_the_reason(api, station):
    webhook = Webhook.objects.create(station=station, event="Listener.updated",
                                     endpoint="https://app.test/")  # fmt: skip
    webhook.consecutive_failures = 40
    webhook.failing_since = webhook.created_at
    webhook.save()
    webhook.disable("Every attempt failed for 5 days.")
    shown = api.get(f"webhooks/{webhook.pk}").json()
    assert shown["disabled_reason"] == "Every attempt failed for 5 days."
    assert shown["disabled_at"] is not None

    enabled = api.patch(f"webhooks/{webhook.pk}", {"enabled": True}).json()

    assert enabled["enabled"] is True
    assert enabled["disabled_reason"] == ""
    assert enabled["disabled_at"] is None
    # Its health starts afresh, or the next failure would disable it again.
    assert enabled["consecutive_failures"] == 0
    assert enabled["failing_since"] is None


def test_event_types_lists_every_event_key(api):
    response = api.get("event-types")

    assert response.json() == event_keys()
    assert "Listener.updated" in response.json()
    assert "Prize.created" in response.json()
