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

import functools
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from hookcast.records.changes import Change
from hookcast.webhooks import wakeup
from hookcast.webhooks.models import Call, CallStatus, new_call_id

SUBSCRIBED = """
    SELECT w.id, s.timezone
    FROM webhooks_webhook w JOIN stations_station s ON s.id = w.station_id
    WHERE w.station_id = %s AND w.event = %s AND w.enabled
    ORDER BY w.id
"""

# Parameters: station, key, sender_id, sender, now, then station, ordering
# key, now, now, and the webhook ids and their new call ids as arrays.
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
        SELECT webhook.call_id, %s, webhook.id, event.id, %s,
               '{CallStatus.PENDING}', 0, 0, %s, %s, ''
        FROM event CROSS JOIN unnest(%s::bigint[], %s::uuid[])
            WITH ORDINALITY AS webhook(id, call_id, n)
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
    connection = connections[change.using]
    if connection.vendor == "postgresql":
        captured = _capture_postgresql(connection, change)
    else:
        captured = _capture_sqlite(connection, change)
    if captured:
        wakeup.wake_in_process(change.using)


def _capture_postgresql(connection: BaseDatabaseWrapper, change: Change) -> bool:
    record = change.record
    with connection.cursor() as cursor:
        cursor.execute(SUBSCRIBED, [record.station_id, change.event_key])
        subscribed = cursor.fetchall()
        if not subscribed:
            return False
        event, ordering_key, now = _event(connection, change, subscribed[0][1])
        webhook_ids = [webhook_id for webhook_id, _ in subscribed]
        cursor.execute(
            INSERT_POSTGRESQL,
            [
                *event,
                record.station_id,
                ordering_key,
                now,
                now,
                webhook_ids,
                [new_call_id() for _ in webhook_ids],
            ],
        )
    return True


def _capture_sqlite(connection: BaseDatabaseWrapper, change: Change) -> bool:
    # Straight through the sqlite3 connection, which the write's transaction
    # has opened: Django's cursor wrapper cost more per statement (some
    # 13 us) than SQLite takes to run it, and this runs on every write.
    record = change.record
    database = connection.connection
    subscribed = database.execute(
        _qmarks(SUBSCRIBED), (record.station_id, change.event_key)
    ).fetchall()
    if not subscribed:
        return False
    event, ordering_key, now = _event(connection, change, subscribed[0][1])
    event_id = database.execute(_qmarks(INSERT_EVENT), event).fetchone()[0]
    call_id = Call._meta.get_field("call_id")
    database.executemany(
        _qmarks(INSERT_CALL),
        [
            (
                call_id.get_db_prep_value(new_call_id(), connection),
                record.station_id,
                webhook_id,
                event_id,
                ordering_key,
                now,
                now,
            )
            for webhook_id, _ in subscribed
        ],
    )
    return True


def _event(
    connection: BaseDatabaseWrapper, change: Change, timezone_name: str
) -> tuple[list[Any], str, Any]:
    """The event's row, the calls' ordering key and the time, as stored."""
    record = change.record
    sender = json.dumps(record.represent(ZoneInfo(timezone_name)), ensure_ascii=False)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    event = [record.station_id, change.event_key, record.pk, sender, now]
    return event, f"{type(record).__name__}:{record.pk}", now


@functools.cache
def _qmarks(sql: str) -> str:
    """``sql`` with sqlite3's placeholders for Django's."""
    return sql.replace("%s", "?")
