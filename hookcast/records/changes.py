"""How records announce their changes, without knowing who listens.

A record write calls :func:`announce` inside the write's transaction. The
webhooks app subscribes at start-up and turns each change into calls in that
same transaction (SPEC section 7), so a rolled-back write leaves nothing
behind and a committed one lacks nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from hookcast.records.models import Record


class Action(models.TextChoices):
    CREATED = "created", "created"  # The record was inserted.
    UPDATED = "updated", "updated"  # At least one field of the record changed.
    DELETED = "deleted", "deleted"  # The record was deleted.


@dataclass(frozen=True, slots=True)
class Change:
    """One committed-to-be write of one record."""

    record: Record
    action: Action
    using: str

    @property
    def event_key(self) -> str:
        return f"{type(self.record).__name__}.{self.action.value}"


Subscriber = Callable[[Change], None]

_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def announce(change: Change) -> None:
    """Tell every subscriber; an exception rolls the write back with it."""
    for subscriber in _subscribers:
        subscriber(change)
