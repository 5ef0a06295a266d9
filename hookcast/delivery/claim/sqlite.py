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

import functools
import sqlite3
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
    WRITE_CALL,
    Claimer,
    claimed_row,
    repeats_a_call,
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


# The worker's batch statements as one statement for many rows, ``{rows}``
# standing for the rows' ``(?, ...)`` tuples, whose last value is the id the
# row is about. One statement instead of one per row: sqlite3 gives up and
# takes back the GIL for every row it executes, which costs more than the
# row itself.
WRITE_CALLS = """
    UPDATE webhooks_call
    SET status = v.column1, attempt_count = attempt_count + 1,
        retry_count = v.column2, next_attempt_at = v.column3,
        leased_until = NULL, last_attempt_at = v.column4,
        last_status_code = v.column5, last_error = v.column6,
        delivered_at = v.column7
    FROM (VALUES {rows}) AS v
    WHERE webhooks_call.id = v.column8
"""
SET_LEASES = """
    UPDATE webhooks_call SET leased_until = v.column1
    FROM (VALUES {rows}) AS v
    WHERE webhooks_call.id = v.column2
"""
INSERT_ATTEMPTS = f"""
    {INSERT_ATTEMPT_COLUMNS}
    VALUES {{rows}}
"""
MULTI_ROW = {
    WRITE_CALL: WRITE_CALLS,
    SET_LEASE: SET_LEASES,
    INSERT_ATTEMPT: INSERT_ATTEMPTS,
}
# UPDATE ... FROM came with SQLite 3.33; older ones run a statement a row.
MULTI_ROW_UPDATES = sqlite3.sqlite_version_info >= (3, 33)
# Rows per statement: 13 values each stays well under the 32,766 parameters
# SQLite allows since 3.32, and statements of a few sizes are reused from
# sqlite3's statement cache.
ROWS_PER_STATEMENT = 500
MULTI_ROW_CACHE_SIZE = 64


@functools.lru_cache(maxsize=MULTI_ROW_CACHE_SIZE)
def multi_row(template: str, width: int, count: int) -> str:
    """``template`` for ``count`` rows of ``width`` values."""
    row = "(" + ", ".join(["?"] * width) + ")"
    return template.format(rows=", ".join([row] * count))


@functools.cache
def qmark(sql: str) -> str:
    """``sql`` with sqlite3's ``?`` placeholders for the ``%s`` the shared
    statements use (none of them has a literal ``%``)."""
    return sql.replace("%s", "?")


class SQLiteClaimer(Claimer):
    CLAIM = CLAIM
    INSERT_ATTEMPT = INSERT_ATTEMPT

    def lease(
        self, cursor: CursorWrapper, claim: str, params: list[Any], until: Any
    ) -> list[tuple[Any, ...]]:
        cursor.execute(claim, params)
        rows = [claimed_row(row) for row in cursor.fetchall()]
        if rows:
            self.execute_rows(SET_LEASE, [(until, row[0]) for row in rows])
        return rows

    def execute_rows(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run ``sql`` for each of ``rows``, as few statements as possible.

        On the sqlite3 cursor itself: Django's wrapper around it rewrote the
        query and checked the connection for every batch, and took a fifth
        of the worker's database work in Python.
        """
        connection = self.connection
        many = MULTI_ROW.get(sql) if MULTI_ROW_UPDATES else None
        if many is not None and repeats_a_call(sql, rows):
            many = None
        with connection.wrap_database_errors:
            cursor = connection.connection.cursor()
            try:
                if many is None:
                    cursor.executemany(qmark(sql), rows)
                    return
                for start in range(0, len(rows), ROWS_PER_STATEMENT):
                    chunk = rows[start : start + ROWS_PER_STATEMENT]
                    cursor.execute(
                        multi_row(many, len(chunk[0]), len(chunk)),
                        [value for row in chunk for value in row],
                    )
            finally:
                cursor.close()

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
