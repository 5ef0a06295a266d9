"""The value types the REST API accepts, each bounded to what storage holds.

A value that passes these types can be stored and rendered by SQLite and
PostgreSQL alike, so bad input is a 422 naming the field rather than a
database error: ids fit a signed 64-bit column, text carries no NUL (which
PostgreSQL refuses), and datetimes have an offset and lie between 1900 and
9999: rendering them in any station's time zone then cannot overflow, and
stays clear of the local mean times of the 19th century, whose offsets in
seconds (+09:39:52) are no RFC 3339 offset.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Header
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict

MAX_BIGINT = 2**63 - 1
MAX_OFFSET = 2**31 - 1  # Beyond any real table; keeps OFFSET arithmetic small.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 30, tzinfo=dt.UTC)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text must not contain the NUL character (\\u0000).")
    return value


def _in_range(value: dt.datetime) -> dt.datetime:
    try:
        in_range = EARLIEST <= value <= LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError("Give a date and time between the years 1900 and 9999.")
    # In UTC: PostgreSQL takes offsets only up to 15:59, Python up to 23:59.
    return value.astimezone(dt.UTC)


def _iso_text(value: Any) -> Any:
    """Refuse numbers where pydantic would read them as Unix timestamps."""
    if isinstance(value, int | float):
        raise ValueError(
            "Give an ISO 8601 string, e.g. 1990-07-29 or 2020-03-18T17:41:56+11:00."
        )
    return value


Text = Annotated[str, Strict(), AfterValidator(_no_nul)]


def bounded_text(max_length: int) -> Any:
    """Text of at most ``max_length`` characters, said so in the message."""
    return Annotated[
        str, Strict(), Field(max_length=max_length), AfterValidator(_no_nul)
    ]


# In a body an id is a JSON integer; in a query or path it arrives as text.
ObjectId = Annotated[int, Strict(), Field(ge=1, le=MAX_BIGINT)]
ObjectIdParam = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_in_range)]
Day = Annotated[dt.date, BeforeValidator(_iso_text)]
# Stripe's header and bound: any client-made string, unique per request.
IdempotencyKeyHeader = Annotated[
    str | None, Header(None, alias="Idempotency-Key", max_length=255)
]
