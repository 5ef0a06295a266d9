"""The registry of record types, from which every event key is derived.

Adding a record type is one model and one ``@register`` (SPEC section 2): the
event keys, the webhook form's Event select, the API's ``event-types`` and the
admin all read this registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db.models.signals import pre_delete

from hookcast.records.changes import Action, Change, announce

if TYPE_CHECKING:
    from hookcast.records.models import Record

R = TypeVar("R", bound="type[Record]")

_record_types: dict[str, type[Record]] = {}


def register(model: R) -> R:
    """Class decorator: make ``model`` a record type that raises events."""
    _record_types[model.__name__] = model
    # Deletes are captured by signal rather than in Model.delete(), because
    # cascades and QuerySet.delete() never call the instances' delete().
    pre_delete.connect(_announce_deletion, sender=model, weak=False)
    return model


def _announce_deletion(
    sender: type[Record], instance: Record, using: str, **_: object
) -> None:
    announce(Change(instance, Action.DELETED, using))


def record_types() -> dict[str, type[Record]]:
    return dict(_record_types)


def record_type(name: str) -> type[Record]:
    try:
        return _record_types[name]
    except KeyError:
        raise LookupError(f"{name!r} is not a record type") from None


def event_keys() -> list[str]:
    """Every event key, ``RecordName.action``, in registry order."""
    return [f"{name}.{action.value}" for name in _record_types for action in Action]
