"""Event capture: a record change becomes calls in the same transaction.

Subscribed to ``records.changes`` at start-up. For each change it finds the
station's enabled webhooks subscribed to the event key, stores the event with
the record's representation, and inserts one call per webhook (SPEC
section 5, "Atomic capture"). With no subscribed webhook it writes nothing.

This runs inside every record write, so it is plain SQL rather than ORM
objects: one query when nothing is subscribed; on PostgreSQL one statement
more that inserts the event and its calls and wakes the workers; on SQLite
two (the event, then its calls).
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections
from django.utils import timezone

from hookcast.records.changes import Change
from hookcast.webhooks import wakeup
from hookcast.webhooks.models import Call, CallStatus

SUBSCRIBED = """
    SELECT w.id, s.timezone
    FROM webhooks_webhook w JOIN stations_station s ON s.id = w.station_id
    WHERE w.station_id = %s AND w.event = %s AND w.enabled
    ORDER BY w.id
"""

# Parameters: station, key, sender_id, sender, now, then the webhook ids as
# an array, station, ordering key, now, now.
INSERT_POSTGRESQL = f"""
    WITH event AS (
        INSERT INTO webhooks_event (station_id, key, sender_id, sender, created_at)
        VALUES (%s, %s, %s, %s, %s)
        RETURNING id
    ), calls AS (
        INSERT INTO webhooks_call (
            call_id, station_id, webhook_id, event_id, ordering_key, status,
            attempt_count, retry_count, next_attempt_at, created_at, last_error
        )
        SELECT gen_random_uuid(), %s, webhook.id, event.id, %s,
               '{CallStatus.PENDING}', 0, 0, %s, %s, ''
        FROM event CROSS JOIN unnest(%s::bigint[]) WITH ORDINALITY AS webhook(id, n)
        ORDER BY webhook.n
        RETURNING 1
    )
    SELECT {wakeup.NOTIFY} FROM calls LIMIT 1
"""

INSERT_EVENT = """
    INSERT INTO webhooks_event (station_id, key, sender_id, sender, created_at)
    VALUES (%s, %s, %s, %s, %s)
    RETURNING id
"""

INSERT_CALL = f"""
    INSERT INTO webhooks_call (
        call_id, station_id, webhook_id, event_id, ordering_key, status,
        attempt_count, retry_count, next_attempt_at, created_at, last_error
    )
    VALUES (%s, %s, %s, %s, %s, '{CallStatus.PENDING}', 0, 0, %s, %s, '')
"""


def capture(change: Change) -> None:
    record = change.record
    key = change.event_key
    connection = connections[change.using]
    with connection.cursor() as cursor:
        cursor.execute(SUBSCRIBED, [record.station_id, key])
        subscribed = cursor.fetchall()
        if not subscribed:
            return
        zone = ZoneInfo(subscribed[0][1])
        sender = json.dumps(record.represent(zone), ensure_ascii=False)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        ordering_key = f"{type(record).__name__}:{record.pk}"
        event = [record.station_id, key, record.pk, sender, now]
        webhook_ids = [webhook_id for webhook_id, _ in subscribed]
        if connection.vendor == "postgresql":
            cursor.execute(
                INSERT_POSTGRESQL,
                [*event, record.station_id, ordering_key, now, now, webhook_ids],
            )
        else:
            cursor.execute(INSERT_EVENT, event)
            event_id = cursor.fetchone()[0]
            cursor.executemany(
                INSERT_CALL,
                [
                    [
                        new_call_id(connection),
                        record.station_id,
                        webhook_id,
                        event_id,
                        ordering_key,
                        now,
                        now,
                    ]
                    for webhook_id in webhook_ids
                ],
            )
    wakeup.wake_in_process(change.using)


def new_call_id(connection: Any) -> Any:
    """A fresh webhookCallId as the database stores it (SQLite: hex text)."""
    return Call._meta.get_field("call_id").get_db_prep_value(uuid.uuid4(), connection)
