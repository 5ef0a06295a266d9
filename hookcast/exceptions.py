"""hookcast's exceptions, rooted in :class:`HookcastError`.

    HookcastError
    ├── RecordWriteRefused   a write that would bypass event capture
    └── DeliveryError        a call could not be delivered (hookcast.delivery)

Library errors (aiohttp, the database drivers) are translated into these at
the boundary, with ``raise ... from exc``, so the original stays attached.
"""

from __future__ import annotations


class HookcastError(Exception):
    """Something went wrong in hookcast."""


class RecordWriteRefused(HookcastError):
    """This write would change records without raising their events."""


class DeliveryError(HookcastError):
    """A webhook call could not be delivered."""
