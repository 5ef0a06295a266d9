"""The worker's side of the wake-up (``hookcast.webhooks.wakeup``).

New calls must go out within milliseconds, not at the next poll: on
PostgreSQL the worker ``LISTEN``s on the channel the write's transaction
notifies; in one process (``hookcast up``) the web side calls a callback
after each commit that added calls. Both end by setting an asyncio event in
the worker's loop. Polling stays as the fallback for everything else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import connections

from hookcast.webhooks import wakeup

logger = logging.getLogger(__name__)

# After a lost LISTEN connection, wait this long before connecting again, so
# a database that is down is not hammered; polling covers the gap.
RECONNECT_DELAY_S = 2.0
# Django's own OPTIONS that are not libpq connection parameters.
DJANGO_ONLY_OPTIONS = frozenset(
    {"isolation_level", "server_side_binding", "pool", "assume_role"}
)


@contextmanager
def in_process(loop: asyncio.AbstractEventLoop, wake: asyncio.Event) -> Iterator[None]:
    """Set ``wake`` after every commit in this process that added calls."""

    def listener() -> None:
        loop.call_soon_threadsafe(wake.set)

    wakeup.add_listener(listener)
    try:
        yield
    finally:
        wakeup.remove_listener(listener)


def listen_params(using: str = "default") -> dict[str, Any]:
    """libpq connection parameters for the database Django uses."""
    settings_dict = connections[using].settings_dict
    params: dict[str, Any] = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict["USER"] or None,
        "password": settings_dict["PASSWORD"] or None,
        "host": settings_dict["HOST"] or None,
        "port": settings_dict["PORT"] or None,
    }
    options = settings_dict.get("OPTIONS", {})
    params.update({k: v for k, v in options.items() if k not in DJANGO_ONLY_OPTIONS})
    return {k: v for k, v in params.items() if v is not None}


async def listen(params: dict[str, Any], wake: asyncio.Event) -> None:
    """``LISTEN`` on PostgreSQL until cancelled, reconnecting when the
    connection drops. Each (re)connection wakes the worker once too, for the
    calls added while nobody listened."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(
                autocommit=True, **params
            ) as connection:
                await connection.execute(f"LISTEN {wakeup.CHANNEL}")
                wake.set()
                async for _ in connection.notifies():
                    wake.set()
        except psycopg.Error as exc:
            logger.warning(
                "Lost the LISTEN connection for new calls (%s); polling until "
                "it is back.",
                exc,
                extra={"action": "listen_lost"},
            )
        await asyncio.sleep(RECONNECT_DELAY_S)
