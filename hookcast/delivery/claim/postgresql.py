"""Claiming calls on PostgreSQL, shared by any number of workers.

``FOR UPDATE SKIP LOCKED`` lets several workers, on several machines, claim
side by side: each skips the rows another is leasing instead of waiting for
it, and the lease is set in the same statement that selects the calls.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db.backends.utils import CursorWrapper

from hookcast.delivery.claim.base import (
    CLAIM_COLUMNS,
    CLAIMABLE,
    INSERT_ATTEMPT_COLUMNS,
    ClaimedCall,
    Claimer,
)

# No ORDER BY in ``due``: on a backlog written since PostgreSQL last took
# statistics, the planner then reads and sorts every due call before the
# limit (109 ms against 8 ms a claim with 50,000 pending). Per-record order
# comes from CLAIMABLE's NOT EXISTS, not from the order of a batch.
CLAIM = f"""
    WITH due AS (
        SELECT c.id
        FROM webhooks_call c
        JOIN webhooks_webhook w ON w.id = c.webhook_id
        WHERE {CLAIMABLE} {{excluded}}
        LIMIT %s
        FOR UPDATE OF c SKIP LOCKED
    ),
    leased AS (
        UPDATE webhooks_call c SET leased_until = %s
        FROM due WHERE c.id = due.id
        RETURNING c.*
    )
    SELECT {CLAIM_COLUMNS}
    FROM leased c
    JOIN webhooks_webhook w ON w.id = c.webhook_id
    JOIN webhooks_event e ON e.id = c.event_id
    JOIN stations_station s ON s.id = c.station_id
    ORDER BY c.next_attempt_at
"""

INSERT_ATTEMPT = f"""
    {INSERT_ATTEMPT_COLUMNS}
    VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s::jsonb, %s, %s, %s)
"""


class PostgreSQLClaimer(Claimer):
    CLAIM = CLAIM
    INSERT_ATTEMPT = INSERT_ATTEMPT

    def lease(
        self, cursor: CursorWrapper, claim: str, params: list[Any], until: Any
    ) -> list[ClaimedCall]:
        cursor.execute(claim, [*params, until])
        return [ClaimedCall.from_row(row) for row in cursor.fetchall()]

    def execute_rows(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """``executemany`` with server-side binding: psycopg prepares the
        statement once and pipelines the rows. Django's client-side binding
        quotes every value in Python, which took the CPU the sending loop
        needs (measured: about half the CPU time per call)."""
        with (
            self.connection.wrap_database_errors,
            psycopg.Cursor(self.connection.connection) as server_cursor,
        ):
            server_cursor.executemany(sql, rows)
