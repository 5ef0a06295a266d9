"""Event capture: a record change becomes calls in the same transaction.

Subscribed to ``records.changes`` at start-up. For each change it finds the
station's enabled webhooks subscribed to the event key, stores the event with
the record's representation, and inserts one call per webhook (SPEC
section 5, "Atomic capture"). With no subscribed webhook it writes nothing.
"""

from __future__ import annotations

import json

from hookcast.records.changes import Change
from hookcast.webhooks import wakeup
from hookcast.webhooks.models import Call, Event, Webhook


def capture(change: Change) -> None:
    record = change.record
    key = change.event_key
    webhooks = list(
        Webhook.objects.using(change.using)
        .subscribed(record.station_id, key)
        .select_related("station")
        .only("id", "station__timezone")
    )
    if not webhooks:
        return
    station = webhooks[0].station
    sender = json.dumps(record.represent(station.zone), ensure_ascii=False)
    event = Event.objects.using(change.using).create(
        station_id=record.station_id, key=key, sender_id=record.pk, sender=sender
    )
    ordering_key = f"{type(record).__name__}:{record.pk}"
    Call.objects.using(change.using).bulk_create(
        Call(
            station_id=record.station_id,
            webhook_id=webhook.id,
            event=event,
            ordering_key=ordering_key,
            next_attempt_at=event.created_at,
            created_at=event.created_at,
        )
        for webhook in webhooks
    )
    wakeup.calls_added(change.using)
