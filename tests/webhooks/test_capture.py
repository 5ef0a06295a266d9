"""Event capture: record writes become calls in the same transaction."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from hookcast.exceptions import RecordWriteRefused
from hookcast.records.models import Listener, Prize
from hookcast.records.representation import render_datetime
from hookcast.stations.models import Station
from hookcast.webhooks.models import Call, Webhook


@pytest.fixture
def webhooks(station):  # type: ignore[no-untyped-def]
    return {
        key: Webhook.objects.create(
            station=station, event=key, endpoint="https://example.test/hook"
        )
        for key in ("Listener.created", "Listener.updated", "Listener.deleted")
    }


def events(station) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        Call.objects.filter(station=station)
        .order_by("id")
        .values_list("event__key", flat=True)
    )


def test_create_update_delete_each_raise_their_event(station, webhooks):
    listener = Listener.objects.create(station=station, first_name="John")
    listener.last_name = "Smith"
    listener.save()
    listener.delete()

    assert events(station) == [
        "Listener.created",
        "Listener.updated",
        "Listener.deleted",
    ]


def test_a_save_that_changes_nothing_raises_nothing(station, webhooks):
    listener = Listener.objects.create(station=station, first_name="John")
    listener.save()
    Listener.objects.get(pk=listener.pk).save()
    reloaded = Listener.objects.get(pk=listener.pk)
    reloaded.dob = "1990-07-29"
    reloaded.save()
    reloaded.dob = "1990-07-29"
    reloaded.save()

    assert events(station) == ["Listener.created", "Listener.updated"]


def test_a_rolled_back_write_leaves_no_call(station, webhooks):
    with pytest.raises(RuntimeError), transaction.atomic():
        Listener.objects.create(station=station, first_name="John")
        raise RuntimeError("roll back")

    assert events(station) == []
    assert not Listener.objects.exists()


def test_sender_is_the_record_as_written(station, webhooks):
    listener = Listener.objects.create(station=station, first_name="John")
    listener.first_name = "Jon"
    listener.save()

    call = Call.objects.get(event__key="Listener.updated")
    assert json.loads(call.event.sender)["first_name"] == "Jon"
    assert call.event.sender_id == listener.pk
    assert call.ordering_key == f"Listener:{listener.pk}"


def test_only_enabled_webhooks_of_the_event_get_a_call(station, webhooks):
    webhooks["Listener.created"].enabled = False
    webhooks["Listener.created"].save()
    Webhook.objects.create(
        station=station, event="Listener.updated", endpoint="https://other.test/"
    )
    listener = Listener.objects.create(station=station, first_name="John")
    listener.email = "john@example.com"
    listener.save()

    assert events(station) == ["Listener.updated", "Listener.updated"]


def test_each_call_gets_its_own_time_ordered_uuid(station, webhooks):
    Webhook.objects.create(
        station=station, event="Listener.created", endpoint="https://other.test/"
    )
    for name in ("John", "Jane", "Jo"):
        Listener.objects.create(station=station, first_name=name)

    call_ids = list(
        Call.objects.filter(station=station)
        .order_by("id")
        .values_list("call_id", flat=True)
    )
    assert len(call_ids) == len(set(call_ids)) == 6
    # Version 7 (RFC 9562): ordered by creation, so a receiver can sort by it.
    assert {call_id.version for call_id in call_ids} == {7}
    assert call_ids == sorted(call_ids, key=lambda call_id: call_id.int >> 80)


def test_each_call_id_carries_the_millisecond_its_change_was_written(station, webhooks):
    Listener.objects.create(station=station, first_name="John")
    listener = Listener.objects.create(station=station, first_name="Jane")
    listener.delete()

    calls = list(Call.objects.filter(station=station))
    assert len(calls) == 3
    for call in calls:
        since = call.created_at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        assert call.call_id.int >> 80 == since // dt.timedelta(milliseconds=1)
        assert call.call_id.version == 7
        assert call.call_id.variant == uuid.RFC_4122  # Bits 10, as RFC 9562 asks.


def test_the_station_timezone_of_the_save_renders_the_sender(station, webhooks):
    listener = Listener.objects.create(station=station, first_name="John")
    # Another process changes the station's timezone between two saves.
    Station.objects.filter(pk=station.pk).update(timezone="Europe/London")
    listener.first_name = "Jon"
    listener.save()
    Station.objects.filter(pk=station.pk).update(timezone="Asia/Kolkata")
    listener.first_name = "Jonathan"
    listener.save()

    offsets = [
        json.loads(sender)["created_at"][-6:]
        for sender in Call.objects.filter(station=station)
        .order_by("id")
        .values_list("event__sender", flat=True)
    ]
    melbourne = ZoneInfo("Australia/Melbourne")
    london = ZoneInfo("Europe/London")
    assert offsets == [
        render_datetime(listener.created_at, melbourne)[-6:],
        render_datetime(listener.created_at, london)[-6:],
        "+05:30",
    ]


def test_queryset_update_and_delete_raise_events_per_record(station, webhooks):
    for name in ("a", "b"):
        Listener.objects.create(station=station, first_name=name)
    webhooks["Listener.created"].delete()

    assert Listener.objects.filter(station=station).update(suburb="Carlton") == 2
    Listener.objects.filter(station=station).delete()

    assert events(station)[-4:] == [
        "Listener.updated", "Listener.updated", "Listener.deleted", "Listener.deleted"
    ]  # fmt: skip


def test_bulk_writes_are_refused_with_a_clear_error(station):
    with pytest.raises(RecordWriteRefused, match="bulk_create"):
        Listener.objects.bulk_create([Listener(station=station)])
    listener = Listener.objects.create(station=station)
    with pytest.raises(RecordWriteRefused, match="bulk_update"):
        Listener.objects.bulk_update([listener], ["first_name"])


def test_deleting_a_listener_raises_deleted_for_its_prizes(station):
    Webhook.objects.create(
        station=station, event="Prize.deleted", endpoint="https://x.test/"
    )
    listener = Listener.objects.create(station=station)
    Prize.objects.create(station=station, listener=listener, name="Tickets")
    listener.delete()

    assert events(station) == ["Prize.deleted"]
