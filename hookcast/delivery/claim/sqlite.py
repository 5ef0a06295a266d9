"""Claiming calls on SQLite: one worker, the claim in an IMMEDIATE transaction.

SQLite has one writer at a time, so the claim takes the write lock at BEGIN
(the connection's ``transaction_mode``) and nobody can claim the same calls
between the select and the lease.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.utils import CursorWrapper

from hookcast.delivery.claim.base import (
    CLAIM_COLUMNS,
    CLAIMABLE,
    INSERT_ATTEMPT_COLUMNS,
    SET_LEASE,
    ClaimedCall,
    Claimer,
)

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
