"""The JSON representation of records (SPEC section 2)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hookcast.records.models import Campaign, Listener, Prize
from hookcast.records.registry import event_keys, record_type
from hookcast.records.representation import render_datetime

MELBOURNE = ZoneInfo("Australia/Melbourne")


@pytest.mark.parametrize(
    ("utc", "zone", "rendered"),
    [
        # The reference document's sentAt: daylight saving, +11:00.
        ("2020-03-18T06:41:56.555", MELBOURNE, "2020-03-18T17:41:56.555+11:00"),
        # Winter in Melbourne: standard time, +10:00.
        ("2020-07-01T00:00:00.000", MELBOURNE, "2020-07-01T10:00:00.000+10:00"),
        # Local mean time (+9:39:52) is written at a whole-minute offset.
        ("1890-01-01T00:00:00.000", MELBOURNE, "1890-01-01T09:40:00.000+09:40"),
        # Microseconds are cut to milliseconds, not rounded up.
        (
            "2020-01-01T00:00:00.999999",
            ZoneInfo("UTC"),
            "2020-01-01T00:00:00.999+00:00",
        ),
    ],
)
def test_datetimes_are_station_time_with_milliseconds_and_offset(utc, zone, rendered):
    value = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    assert render_datetime(value, zone) == rendered


def test_listener_fields_come_in_the_documented_order(station):
    listener = Listener.objects.create(
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
    data = Listener.objects.get(pk=listener.pk).represent()

    assert list(data) == [
        "id", "first_name", "last_name", "email", "dob", "station_id", "gender",
        "address1", "address2", "suburb", "postcode", "created_at", "updated_at",
        "uuid", "phone_number", "full_address", "country", "state",
    ]  # fmt: skip
    assert data["id"] == listener.pk
    assert data["dob"] == "1990-07-29"
    assert data["station_id"] == station.pk
    assert data["address2"] == ""
    assert data["full_address"] == "58 Stead St South Melbourne VIC 3205"
    assert data["uuid"] == str(listener.uuid)
    created = dt.datetime.fromisoformat(data["created_at"])
    assert created.utcoffset() in (dt.timedelta(hours=10), dt.timedelta(hours=11))
    assert data["created_at"][19] == "." and len(data["created_at"]) == 29
    json.dumps(data)  # Every value is JSON as it stands.


def test_full_address_skips_empty_parts(station):
    listener = Listener(
        station=station, address1="1 Main Rd ", address2="  ", suburb="", state="NSW"
    )
    assert listener.full_address == "1 Main Rd NSW"


def test_a_missing_dob_is_null(station):
    listener = Listener.objects.create(station=station)
    assert listener.represent()["dob"] is None


def test_prize_and_campaign_representations(station):
    listener = Listener.objects.create(station=station)
    campaign = Campaign.objects.create(
        station=station,
        name="Summer",
        starts_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    prize = Prize.objects.create(
        station=station,
        listener=listener,
        campaign=campaign,
        name="Tickets",
        value=Decimal("150"),
    )
    data = prize.represent()

    assert list(data) == [
        "id", "name", "description", "value", "status", "listener_id",
        "campaign_id", "station_id", "claimed_at", "created_at", "updated_at",
        "uuid",
    ]  # fmt: skip
    assert data["value"] == "150.00"
    assert data["status"] == "awarded"
    assert data["listener_id"] == listener.pk
    assert data["claimed_at"] is None
    assert campaign.represent()["starts_at"] == "2026-01-01T11:00:00.000+11:00"
    assert list(campaign.represent()) == [
        "id", "name", "description", "starts_at", "ends_at", "station_id",
        "created_at", "updated_at", "uuid",
    ]  # fmt: skip


def test_event_keys_come_from_the_registry():
    assert event_keys() == [
        f"{name}.{action}"
        for name in ("Listener", "Campaign", "Prize")
        for action in ("created", "updated", "deleted")
    ]
    assert record_type("Listener") is Listener
    with pytest.raises(LookupError, match="'Nope' is not a record type"):
        record_type("Nope")


def test_a_bad_date_string_is_a_validation_error_naming_the_field(station):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        Listener.objects.create(station=station, dob="29/07/1990")
    assert "dob" in caught.value.message_dict
    assert not Listener.objects.exists()
