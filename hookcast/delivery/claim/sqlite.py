"""Claiming calls on SQLite: one worker, the claim in an IMMEDIATE transaction.

SQLite has one writer at a time, so the claim takes the write lock at BEGIN
(the connection's ``transaction_mode``) and nobody can claim the same calls
between the select and the lease.

While another writer holds the lock, SQLite's own busy handler sleeps 1, 2,
5, 10, 15 ms and longer between tries; beside a steady stream of record
writes in the same process (``hookcast up``) that added tens to hundreds of
milliseconds to a change's delivery. The worker's jobs therefore try again
every half millisecond instead (``run``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

from hookcast.delivery.claim.base import (
    CLAIM_COLUMNS,
    CLAIMABLE,
    INSERT_ATTEMPT_COLUMNS,
    SET_LEASE,
    ClaimedCall,
    Claimer,
)

T = TypeVar("T")

# How often a job tries again for the write lock, and for how long in all:
# the same 30 s as the connection's own timeout (settings.sqlite_database).
LOCK_RETRY_S = 0.0005
LOCK_TIMEOUT_S = 30.0

CLAIM = f"""
    SELECT {CLAIM_COLUMNS}
    FROM webhooks_call c
    JOIN webhooks_webhook w ON w.id = c.webhook_id
    JOIN webhooks_event e ON e.id = c.event_id
    JOIN stations_station s ON s.id = c.station_id
    WHERE {CLAIMABLE} {{excluded}}
    ORDER BY c.next_attempt_at
    LIMIT %s
"""

INSERT_ATTEMPT = f"""
    {INSERT_ATTEMPT_COLUMNS}
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


class SQLiteClaimer(Claimer):
    CLAIM = CLAIM
    INSERT_ATTEMPT = INSERT_ATTEMPT

    def lease(
        self, cursor: CursorWrapper, claim: str, params: list[Any], until: Any
    ) -> list[ClaimedCall]:
        cursor.execute(claim, params)
        calls = [ClaimedCall.from_row(row) for row in cursor.fetchall()]
        cursor.executemany(SET_LEASE, [(until, call.id) for call in calls])
        return calls

    def run(self, job: Callable[..., T], *args: Any) -> T:
        """Run ``job``, trying again while the database is locked. Each job
        is one transaction, rolled back when the lock was not had, so it is
        safe to run again."""
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        with self.connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout = 0")
        while True:
            try:
                return job(*args)
            except OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(LOCK_RETRY_S)
