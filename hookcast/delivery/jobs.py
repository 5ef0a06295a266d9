"""The delivery worker's database jobs, as its database process runs them.

Each job is one transaction on the worker's connection, run through the
claimer (which, on SQLite, tries again while another writer holds the lock).
Arguments and results are plain values: see ``hookcast.delivery.database``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from hookcast.delivery import health, retention
from hookcast.delivery.claim import Claimer, Outcome, claimer_for
from hookcast.stations import idempotency


def for_database(using: str) -> dict[str, Callable[..., Any]]:
    """The jobs by name, on database ``using``."""
    claimer = claimer_for(using)

    def claim(
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        excluded: Collection[int],
    ) -> tuple[list[tuple[Any, ...]], dt.datetime | None]:
        """Lease up to ``limit`` due calls: their rows, and when the next call
        not yet due will be, if fewer than ``limit`` were due. Both in one
        job: each job is a round trip the next change waits behind."""
        rows = claimer.claim(now, lease_until, limit, excluded)
        return rows, None if len(rows) == limit else claimer.next_due(now)

    def write_back(rows: Sequence[Sequence[Any]]) -> None:
        """Store outcomes (``Outcome.to_row``) and their webhooks' health."""
        now = timezone.now()
        with transaction.atomic(using=using):
            failed = claimer.write_back([Outcome.from_row(row) for row in rows], now)
            if failed:
                health.disable_failing_webhooks(failed, now, using=using)

    def purge_old_calls(before: dt.datetime, batch_size: int) -> int:
        return retention.purge_batch(before, batch_size, using=using)

    def purge_idempotency_keys() -> int:
        return idempotency.purge_expired(using=using)

    jobs: dict[str, Callable[..., Any]] = {
        "claim": claim,
        "write_back": write_back,
        "set_lease": claimer.set_lease,
        "purge_old_calls": purge_old_calls,
        "purge_idempotency_keys": purge_idempotency_keys,
    }
    return {
        **{name: guarded(claimer, job) for name, job in jobs.items()},
        "close": connections.close_all,
    }


def guarded(claimer: Claimer, job: Callable[..., Any]) -> Callable[..., Any]:
    """``job`` run by ``claimer``; after a database error, a broken
    connection is closed, to be opened afresh by the next job."""

    def run(*args: Any) -> Any:
        try:
            return claimer.run(job, *args)
        except DatabaseError:
            connection = claimer.connection
            if connection.connection is not None and not connection.is_usable():
                connection.close()
            raise

    return run
