"""Records changed in the panel raise their events like any other write."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hookcast.records.models import Campaign, Listener, Prize
from hookcast.webhooks.models import Call, Webhook
from tests.admin.conftest import prize_form


@pytest.fixture
def subscribed(station):  # type: ignore[no-untyped-def]
    for action in ("created", "updated", "deleted"):
        for name in ("Listener", "Prize"):
            Webhook.objects.create(
                station=station,
                event=f"{name}.{action}",
                endpoint="https://dev.test/hook",
            )


def events() -> list[tuple[str, int]]:
    return list(
        Call.objects.order_by("id").values_list("event__key", "event__sender_id")
    )


def listener_form(station, **changes):  # type: ignore[no-untyped-def]
    return {"station": station.pk, "first_name": "John", "country": "AU", **changes}


def test_create_edit_delete_a_listener_raise_events(client, station, subscribed):
    client.post(reverse("admin:records_listener_add"), listener_form(station))
    listener = Listener.objects.get()
    change = reverse("admin:records_listener_change", args=[listener.pk])
    client.post(change, listener_form(station, last_name="Smith"))
    client.post(change, listener_form(station, last_name="Smith"))  # No change.
    client.post(
        reverse("admin:records_listener_delete", args=[listener.pk]), {"post": "yes"}
    )

    assert events() == [
        ("Listener.created", listener.pk),
        ("Listener.updated", listener.pk),
        ("Listener.deleted", listener.pk),
    ]


def test_bulk_delete_raises_one_event_per_record_and_cascade(
    client, station, subscribed
):
    john = Listener.objects.create(station=station, first_name="John")
    jane = Listener.objects.create(station=station, first_name="Jane")
    prize = Prize.objects.create(station=station, name="Tickets", listener=john)
    Call.objects.all().delete()

    client.post(
        reverse("admin:records_listener_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [john.pk, jane.pk],
            "post": "yes",
        },
    )

    assert not Listener.objects.exists()
    assert sorted(events()) == sorted(
        [
            ("Listener.deleted", jane.pk),
            ("Listener.deleted", john.pk),
            ("Prize.deleted", prize.pk),
        ]
    )


def test_a_prize_is_created_with_a_campaign_of_the_station(client, station, subscribed):
    john = Listener.objects.create(station=station, first_name="John")
    campaign = Campaign.objects.create(station=station, name="Summer")

    response = client.post(
        reverse("admin:records_prize_add"),
        prize_form(station, john, campaign=campaign.pk),
    )

    assert response.status_code == 302
    prize = Prize.objects.get()
    assert ("Prize.created", prize.pk) in events()


def test_bad_input_is_named_not_a_500(client, station):
    response = client.post(
        reverse("admin:records_listener_add"),
        listener_form(station, country="au", dob="29/07/1990"),
    )

    errors = response.context["adminform"].form.errors
    assert "Enter a valid date." in str(errors["dob"])
    assert "ISO 3166-1 alpha-2" in str(errors["country"])
    assert not Listener.objects.exists()


def test_every_record_type_has_a_list(client):
    for name in ("listener", "prize", "campaign"):
        page = client.get(reverse(f"admin:records_{name}_changelist"))
        assert page.status_code == 200
    assert client.get("/admin/records/listener/", {"q": "abc"}).status_code == 200
