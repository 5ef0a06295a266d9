"""The JSON representation of a record (SPEC section 2).

One function per kind of value, so that the API and the webhook payload can
only ever agree: both call :meth:`Record.represent`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models


def render_datetime(value: dt.datetime, zone: ZoneInfo) -> str:
    """``2020-03-18T17:41:56.555+11:00``: station time, ms, numeric offset."""
    local = value.astimezone(zone)
    offset = local.utcoffset()
    if offset is not None and offset.seconds % 60:
        # Local mean time, which zones used before standard time (Melbourne
        # until 1895), has offsets with seconds that RFC 3339 cannot write;
        # the same instant is written at the nearest whole-minute offset.
        minutes = round(offset.total_seconds() / 60)
        local = value.astimezone(dt.timezone(dt.timedelta(minutes=minutes)))
    return local.isoformat(timespec="milliseconds")


def renders_as_is(field: models.Field[Any, Any] | None) -> bool:
    """Whether the values of ``field`` are their own JSON (text, integers,
    booleans), which ``render_value`` would return unchanged: a record is
    rendered at every captured save, and most of its fields are these."""
    if field is None:
        return False  # A property: its values may be of any type.
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return isinstance(
        field,
        models.CharField | models.TextField | models.IntegerField | models.BooleanField,
    )


def render_value(
    field: models.Field[Any, Any] | None, value: Any, zone: ZoneInfo
) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return render_datetime(value, zone)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        places = getattr(field, "decimal_places", None)
        return format(value, f".{places}f") if places is not None else str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
