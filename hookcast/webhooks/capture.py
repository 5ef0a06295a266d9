"""Event capture: a record change becomes calls in the same transaction.

Subscribed to ``records.changes`` at start-up. For each change it finds the
station's enabled webhooks subscribed to the event key, stores the event with
the record's representation, and inserts one call per webhook (SPEC
section 5, "Atomic capture"). With no subscribed webhook it writes nothing.

This runs inside every record write, so it is plain SQL rather than ORM
objects. On PostgreSQL it is one call of the ``hookcast_capture`` function
(migration ``webhooks/0005``), which finds the webhooks, writes the event and
its calls and wakes the workers; the record is rendered before it is known
whether anything is subscribed, in the station's timezone as last seen by
this process, and rendered again if the function answers with another. On
SQLite it is one query when nothing is subscribed, two more (the event, then
its calls) when something is.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from hookcast.records.changes import Change
from hookcast.webhooks import wakeup
from hookcast.webhooks.models import CallStatus, unix_millis

if TYPE_CHECKING:
    from hookcast.records.models import Record

# The station's timezone, if any of its webhooks is subscribed.
SUBSCRIBED = """
    SELECT s.timezone
    FROM webhooks_webhook w JOIN stations_station s ON s.id = w.station_id
    WHERE w.station_id = %s AND w.event = %s AND w.enabled
    LIMIT 1
"""

CAPTURE_POSTGRESQL = """
    SELECT calls, station_timezone
    FROM hookcast_capture(%s, %s, %s, %s, %s, %s, %s)
"""

# The timezone of each station whose records this process rendered, by
# database alias and station id; the capture function corrects it when the
# station has changed it. Past the cap the cache starts afresh.
_station_timezones: dict[tuple[str, int], str] = {}
MAX_CACHED_STATIONS = 10_000

INSERT_EVENT = """
    INSERT INTO webhooks_event (station_id, key, sender_id, sender, created_at)
    VALUES (%s, %s, %s, %s, %s)
    RETURNING id
"""

# One call per subscribed webhook, in one statement: the rows are made by
# SQLite rather than bound one by one from Python. The webhookCallId is
# ``new_call_id`` of ``webhooks/models.py`` in SQL, as the UUIDField stores
# it on SQLite (32 hex digits): the millisecond of the change, version 7,
# then 74 random bits around the variant (10).
INSERT_CALLS_SQLITE = f"""
    INSERT INTO webhooks_call (
        call_id, station_id, webhook_id, event_id, ordering_key, status,
        attempt_count, retry_count, next_attempt_at, created_at, last_error
    )
    SELECT
        printf('%012x', ?) || '7' || substr(lower(hex(randomblob(2))), 2)
            || substr('89ab', 1 + (random() & 3), 1)
            || substr(lower(hex(randomblob(8))), 2),
        w.station_id, w.id, ?, ?, '{CallStatus.PENDING}', 0, 0, ?, ?, ''
    FROM webhooks_webhook w
    WHERE w.station_id = ? AND w.event = ? AND w.enabled
    ORDER BY w.id
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
    station = (change.using, record.station_id)
    timezone_name = _station_timezones.get(station)
    now = timezone.now()
    ordering_key = _ordering_key(record)
    with connection.cursor() as cursor:
        # A second pass only when the station's timezone was not known or
        # has changed; a third only if it changed again in between.
        for _ in range(3):
            cursor.execute(
                CAPTURE_POSTGRESQL,
                [
                    record.station_id,
                    change.event_key,
                    record.pk,
                    _sender(record, timezone_name) if timezone_name else None,
                    timezone_name,
                    now,
                    ordering_key,
                ],
            )
            calls, station_timezone = cursor.fetchone()
            if calls:
                return True
            if station_timezone is None:
                return False  # Nothing is subscribed.
            if len(_station_timezones) >= MAX_CACHED_STATIONS:
                _station_timezones.clear()
            timezone_name = _station_timezones[station] = station_timezone
    raise RuntimeError(
        f"The timezone of station {record.station_id} changed during each of "
        "three attempts to capture a change; the change is rolled back."
    )


def _capture_sqlite(connection: BaseDatabaseWrapper, change: Change) -> bool:
    # Straight through the sqlite3 connection, which the write's transaction
    # has opened: Django's cursor wrapper cost more per statement (some
    # 13 us) than SQLite takes to run it, and this runs on every write.
    record = change.record
    database = connection.connection
    subscribed = database.execute(
        _qmarks(SUBSCRIBED), (record.station_id, change.event_key)
    ).fetchone()
    if subscribed is None:
        return False
    moment = timezone.now()
    now = connection.ops.adapt_datetimefield_value(moment)
    sender = _sender(record, subscribed[0])
    event = (record.station_id, change.event_key, record.pk, sender, now)
    event_id = database.execute(_qmarks(INSERT_EVENT), event).fetchone()[0]
    database.execute(
        INSERT_CALLS_SQLITE,
        (
            unix_millis(moment),
            event_id,
            _ordering_key(record),
            now,
            now,
            record.station_id,
            change.event_key,
        ),
    )
    return True


# One encoder for every save: json.dumps with an argument makes a new one
# each time.
_encode_json = json.JSONEncoder(ensure_ascii=False).encode


def _sender(record: Record, timezone_name: str) -> str:
    """The event's ``sender``: the record's representation, as JSON text."""
    return _encode_json(record.represent(ZoneInfo(timezone_name)))


def _ordering_key(record: Record) -> str:
    """Calls with the same webhook and ordering key go out in commit order."""
    return f"{type(record).__name__}:{record.pk}"


@functools.cache
def _qmarks(sql: str) -> str:
    """``sql`` with sqlite3's placeholders for Django's."""
    return sql.replace("%s", "?")
