"""The panel's pages for records, one per registered record type.

Every record type of the registry gets a page from :func:`record_admin`, so a
new type needs nothing here (SPEC section 2). Each change made here is an
ordinary ``save()`` or delete, inside the admin's transaction, so it raises
its event and its calls exactly as any other write does; nothing in this
module writes records any other way (no ``QuerySet.update()``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models

from hookcast.records.models import Record
from hookcast.records.registry import record_types
from hookcast.stations.scoping import StationScopedAdmin

# How many of a type's own fields the list shows, after its name.
LIST_COLUMNS = 4

# Text fields that make a poor search: long, and never what is looked for.
UNSEARCHED_FIELDS = frozenset({"description"})


class RecordAdmin(StationScopedAdmin):
    """What every record type's page shares; see :func:`record_admin`."""

    readonly_fields = ["uuid", "created_at", "updated_at"]
    show_full_result_count = False
    list_per_page = 50


def _own_fields(model: type[Record]) -> list[models.Field[Any, Any]]:
    inherited = {f.name for f in Record._meta.get_fields()} | {"id"}
    return [
        f for f in model._meta.concrete_fields if f.name not in inherited and f.editable
    ]


def record_admin(model: type[Record]) -> type[RecordAdmin]:
    """A ModelAdmin for ``model``, derived from its fields."""
    own = _own_fields(model)
    relations = [f.name for f in own if f.is_relation]
    # Long text makes a poor column; the record's page shows it.
    columns = [
        f.name for f in own if not f.is_relation and not isinstance(f, models.TextField)
    ]
    searched = [
        f.name
        for f in own
        if isinstance(f, models.CharField | models.EmailField)
        and not f.choices
        and f.name not in UNSEARCHED_FIELDS
    ]
    choices = [f.name for f in own if f.choices]
    attributes: dict[str, Any] = {
        "__module__": __name__,
        "list_display": [
            "__str__",
            *columns[:LIST_COLUMNS],
            *relations,
            "updated_at",
        ],
        "list_select_related": ["station", *relations],
        "list_filter": choices,
        "search_fields": ["=id", *searched],
        # A station may have many listeners: pick them by search, not from a
        # select of every row. The search is scoped like the list.
        "autocomplete_fields": [
            f.name for f in own if f.is_relation and f.related_model in _registered()
        ],
        "fieldsets": [
            (None, {"fields": ["station", *[f.name for f in own]]}),
            ("Record", {"fields": RecordAdmin.readonly_fields}),
        ],
    }
    return type(f"{model.__name__}Admin", (RecordAdmin,), attributes)


def _registered() -> set[type[Record]]:
    return set(record_types().values())


for _model in record_types().values():
    admin.site.register(_model, record_admin(_model))
