"""Telling the delivery worker that new calls are waiting.

The web role only ever *sends* a wake-up; the worker listens (in
``hookcast.delivery``). On PostgreSQL the wake-up is a ``NOTIFY`` issued in
the write's own transaction, so it is delivered exactly when the calls become
visible. In one process (``hookcast up``) a callback runs after the commit.
Anywhere else the worker polls.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connections, transaction

CHANNEL = "hookcast_calls"
# Wakes PostgreSQL workers when the transaction commits. Identical
# notifications in one transaction are folded into one by PostgreSQL, so a
# bulk write wakes the workers once. The capture function of migration
# webhooks/0005 sends the same notification, spelled out there.
NOTIFY = f"pg_notify('{CHANNEL}', '')"

_listeners: list[Callable[[], None]] = []


def add_listener(listener: Callable[[], None]) -> None:
    """Call ``listener`` after each commit that added calls, in this process."""
    if listener not in _listeners:
        _listeners.append(listener)


def remove_listener(listener: Callable[[], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def calls_added(using: str) -> None:
    """Announce, inside the current transaction, that calls were inserted."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {NOTIFY}")
    wake_in_process(using)


def wake_in_process(using: str) -> None:
    """Wake this process's listeners once the current transaction commits."""
    if _listeners:
        transaction.on_commit(_wake_listeners, using=using)


def _wake_listeners() -> None:
    for listener in list(_listeners):
        listener()
