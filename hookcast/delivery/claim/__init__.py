"""Claiming due calls, one module per database (SPEC section 7).

``claimer_for(using)`` returns the backend for a database alias; both share
the interface and the write-back of ``base.Claimer``.
"""

from __future__ import annotations

from django.db import connections

from hookcast.delivery.claim.base import (
    AttemptRecord,
    ClaimedCall,
    Claimer,
    Outcome,
)

__all__ = [
    "AttemptRecord",
    "ClaimedCall",
    "Claimer",
    "Outcome",
    "claimer_for",
]


def claimer_for(using: str = "default") -> Claimer:
    vendor = connections[using].vendor
    if vendor == "postgresql":
        from hookcast.delivery.claim.postgresql import PostgreSQLClaimer

        return PostgreSQLClaimer(using)
    if vendor == "sqlite":
        from hookcast.delivery.claim.sqlite import SQLiteClaimer

        return SQLiteClaimer(using)
    raise NotImplementedError(
        f"The delivery worker supports SQLite and PostgreSQL, not {vendor}."
    )
