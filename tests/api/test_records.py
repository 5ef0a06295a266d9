"""The records API: CRUD, filters, pagination, validation, events."""

from __future__ import annotations

import pytest

from hookcast.records.models import Campaign, Listener, Prize
from hookcast.webhooks.models import Call, Webhook


@pytest.fixture
def listener_webhooks(station):  # type: ignore[no-untyped-def]
    return [
        Webhook.objects.create(station=station, event=key, endpoint="https://r.test/")
        for key in ("Listener.created", "Listener.updated", "Listener.deleted")
    ]


def test_a_created_listener_is_its_representation(api, station):
    response = api.post(
        "listeners",
        {"first_name": "John", "email": "john@example.com", "dob": "1990-07-29",
         "address1": "58 Stead St", "suburb": "South Melbourne", "state": "VIC",
         "postcode": "3205", "country": "AU"},
    )  # fmt: skip

    assert response.status_code == 201
    listener = Listener.objects.get(pk=response.json()["id"])
    assert response.json() == listener.represent()
    assert list(response.json()) == list(Listener.representation_fields)
    assert response.json()["full_address"] == "58 Stead St South Melbourne VIC 3205"
    assert response.json()["station_id"] == station.pk


def test_read_patch_and_delete_a_listener(api):
    listener_id = api.post("listeners", {"first_name": "John"}).json()["id"]

    assert api.get(f"listeners/{listener_id}").json()["first_name"] == "John"
    patched = api.patch(f"listeners/{listener_id}", {"last_name": "Smith"})
    assert patched.status_code == 200
    assert patched.json()["first_name"] == "John"
    assert patched.json()["last_name"] == "Smith"
    assert api.delete(f"listeners/{listener_id}").status_code == 204
    assert api.get(f"listeners/{listener_id}").status_code == 404
    assert not Listener.objects.filter(pk=listener_id).exists()


def test_each_write_raises_its_event_in_its_transaction(api, listener_webhooks):
    listener_id = api.post("listeners", {"first_name": "John"}).json()["id"]
    api.patch(f"listeners/{listener_id}", {"last_name": "Smith"})
    api.patch(f"listeners/{listener_id}", {"last_name": "Smith"})  # no change
    api.delete(f"listeners/{listener_id}")

    keys = list(Call.objects.order_by("id").values_list("event__key", flat=True))
    assert keys == ["Listener.created", "Listener.updated", "Listener.deleted"]


def test_a_refused_write_raises_no_event(api, listener_webhooks):
    response = api.post("listeners", {"email": "not an address"})

    assert response.status_code == 422
    assert not Call.objects.exists()


def test_list_is_paginated_with_count_and_next(api, station):
    for number in range(5):
        Listener.objects.create(station=station, first_name=f"L{number}")

    first = api.get("listeners", limit=2)
    assert first.json()["count"] == 5
    assert [r["first_name"] for r in first.json()["results"]] == ["L0", "L1"]
    assert first.json()["previous"] is None
    second = api.client.get(first.json()["next"], headers=api.headers)
    assert [r["first_name"] for r in second.json()["results"]] == ["L2", "L3"]
    last = api.get("listeners", limit=2, offset=4)
    assert last.json()["next"] is None
    assert [r["first_name"] for r in last.json()["results"]] == ["L4"]


def test_list_filters_by_email_and_updated_since(api, station):
    john = Listener.objects.create(station=station, email="john@example.com")
    Listener.objects.create(station=station, email="jane@example.com")

    by_email = api.get("listeners", email="john@example.com").json()
    assert [r["id"] for r in by_email["results"]] == [john.pk]
    john.first_name = "John"
    john.save()
    since = john.updated_at.isoformat()
    assert [
        r["id"] for r in api.get("listeners", updated_since=since).json()["results"]
    ] == [john.pk]


def test_prizes_filter_by_listener_status_and_campaign(api, station):
    john = Listener.objects.create(station=station, first_name="John")
    jane = Listener.objects.create(station=station, first_name="Jane")
    campaign = Campaign.objects.create(station=station, name="Summer")
    a = Prize.objects.create(
        station=station, name="A", listener=john, campaign=campaign
    )
    Prize.objects.create(station=station, name="B", listener=jane, status="claimed")

    def names(**query):  # type: ignore[no-untyped-def]
        return [r["name"] for r in api.get("prizes", **query).json()["results"]]

    assert names(listener_id=john.pk) == ["A"]
    assert names(status="claimed") == ["B"]
    assert names(campaign_id=campaign.pk) == [a.name]
    assert api.get("prizes", status="lost").status_code == 422


def test_a_prize_is_created_with_its_value_as_a_decimal_string(api, station):
    john = Listener.objects.create(station=station)

    response = api.post(
        "prizes", {"name": "Tickets", "listener_id": john.pk, "value": "150"}
    )

    assert response.status_code == 201
    assert response.json()["value"] == "150.00"
    assert response.json()["status"] == "awarded"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        # Django's own validation message, passed on.
        ({"email": "nope"}, "email", "Enter a valid email address."),
        # Unknown fields are refused, not ignored.
        ({"favourite": "jazz"}, "favourite", "This field is unknown here"),
        ({"first_name": 5}, "first_name", "Input should be a valid string"),
        ({"dob": "29/07/1990"}, "dob", "Input should be a valid date"),
        ({"country": "Australia"}, "country", "at most 2 characters"),
        ({"station_id": 2}, "station_id", "This field is unknown here"),
        ({"first_name": "a\x00b"}, "first_name", "NUL"),
    ],
)
def test_bad_listener_input_names_the_field(api, body, field, message):
    response = api.post("listeners", body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == field
    assert message in error["message"]


def test_bad_prize_input_names_the_field(api, station, other_station):
    john = Listener.objects.create(station=station)
    theirs = Listener.objects.create(station=other_station)

    missing = api.post("prizes", {"listener_id": john.pk})
    assert missing.json()["detail"] == [
        {"field": "name", "message": "This field is required."}
    ]
    bad_status = api.post(
        "prizes", {"name": "A", "listener_id": john.pk, "status": "won"}
    )
    assert bad_status.json()["detail"][0]["field"] == "status"
    foreign = api.post("prizes", {"name": "A", "listener_id": theirs.pk})
    assert foreign.status_code == 422
    assert foreign.json()["detail"] == [
        {
            "field": "listener_id",
            "message": f"No listener with id {theirs.pk} in this station.",
        }
    ]
    negative = api.post("prizes", {"name": "A", "listener_id": john.pk, "value": "-1"})
    assert negative.json()["detail"][0]["field"] == "value"


def test_a_campaign_ending_before_it_starts_is_refused(api):
    response = api.post(
        "campaigns",
        {"name": "Summer", "starts_at": "2024-02-01T00:00:00+11:00",
         "ends_at": "2024-01-01T00:00:00+11:00"},
    )  # fmt: skip

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "ends_at", "message": "A campaign cannot end before it starts."}
    ]


def test_datetimes_need_an_offset(api):
    response = api.post("campaigns", {"name": "S", "starts_at": "2024-02-01T00:00:00"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "starts_at"


def test_a_campaign_with_prizes_cannot_be_deleted(api, station):
    campaign = Campaign.objects.create(station=station, name="Summer")
    Prize.objects.create(
        station=station, name="A", listener=Listener.objects.create(station=station),
        campaign=campaign,
    )  # fmt: skip

    response = api.delete(f"campaigns/{campaign.pk}")

    assert response.status_code == 409
    assert "Prize" in response.json()["detail"][0]["message"]
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_null_is_refused_for_a_field_that_cannot_be_null(api, station):
    listener = Listener.objects.create(station=station, first_name="John")

    response = api.patch(f"listeners/{listener.pk}", {"first_name": None})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "first_name"
    assert api.patch(f"listeners/{listener.pk}", {"dob": None}).status_code == 200
