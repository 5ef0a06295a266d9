"""The REST API's schemas of a record type, derived from its model.

A record type registered in ``records.registry`` gets its input, patch,
filter and output schemas from its fields alone (SPEC section 2: a new
record type is one model and one registration). The output schema
describes :meth:`Record.represent` key for key, since that is what the API
returns; the input schemas take every editable field, under its attname
(``listener_id``), and never the station.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db import models
from pydantic import BaseModel, ConfigDict, Field, create_model

from hookcast.api.fields import (
    Day,
    Moment,
    ObjectId,
    ObjectIdParam,
    Text,
    bounded_text,
)
from hookcast.api.pages import PageParams, page_schema
from hookcast.records.models import Record

# Fields a client never writes: the station comes from the API key, the rest
# are set by Record.save().
SERVER_FIELDS = frozenset({"id", "station", "uuid", "created_at", "updated_at"})


class Strict(BaseModel):
    """Unknown fields are refused, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class RecordSchemas:
    model: type[Record]
    create: type[BaseModel]
    patch: type[BaseModel]
    filters: type[BaseModel]
    output: type[BaseModel]
    page: type[BaseModel]


def record_schemas(model: type[Record]) -> RecordSchemas:
    name = model.__name__
    fields = writable_fields(model)
    outputs: dict[str, Any] = {
        key: (output_type(model, key), ...) for key in model.representation_fields
    }
    creates: dict[str, Any] = {
        f.attname: (input_type(f), _create_default(f)) for f in fields
    }
    patches: dict[str, Any] = {f.attname: (input_type(f), None) for f in fields}
    filters: dict[str, Any] = {
        f.attname: (_filter_type(f) | None, None) for f in fields if is_filter(f)
    }
    output = create_model(f"{name}Out", **outputs)
    return RecordSchemas(
        model=model,
        create=create_model(f"{name}In", __base__=Strict, **creates),
        patch=create_model(f"{name}Patch", __base__=Strict, **patches),
        filters=create_model(
            f"{name}Filters",
            __base__=PageParams,
            **filters,
            updated_since=(Moment | None, None),
            created_since=(Moment | None, None),
        ),
        output=output,
        page=page_schema(output, name),
    )


def writable_fields(model: type[Record]) -> list[models.Field[Any, Any]]:
    return [
        field
        for field in model._meta.concrete_fields
        if field.editable and field.name not in SERVER_FIELDS
    ]


def is_filter(field: models.Field[Any, Any]) -> bool:
    """Exact-match filters: relations, choices, and e-mail addresses."""
    return (
        field.is_relation or bool(field.choices) or isinstance(field, models.EmailField)
    )


def input_type(field: models.Field[Any, Any]) -> Any:
    """The pydantic type of a writable field; ``| None`` where null is valid.

    Length, e-mail, regex and range checks are left to the model's
    ``full_clean``, so their messages are the model's own; the types here
    only make sure that a value reaching the model is of the right kind.
    """
    base = _value_type(field)
    return base | None if field.null else base


def _value_type(field: models.Field[Any, Any]) -> Any:
    if field.choices:
        return Literal[tuple(str(value) for value, _ in field.flatchoices)]
    if field.is_relation:
        return ObjectId
    if isinstance(field, models.DateTimeField):
        return Moment
    if isinstance(field, models.DateField):
        return Day
    if isinstance(field, models.DecimalField):
        return Annotated[
            Decimal,
            Field(
                max_digits=field.max_digits,
                decimal_places=field.decimal_places,
                allow_inf_nan=False,
            ),
        ]
    if isinstance(field, models.BooleanField):
        return Annotated[bool, Field(strict=True)]
    if isinstance(field, models.IntegerField):
        return Annotated[int, Field(strict=True, ge=-(2**63), le=2**63 - 1)]
    if isinstance(field, models.CharField) and field.max_length:
        return bounded_text(field.max_length)
    if isinstance(field, models.CharField | models.TextField):
        return Text
    raise TypeError(
        f"{field.model.__name__}.{field.name} is a {type(field).__name__}, which "
        "the API does not map yet; add it to records.schemas._value_type."
    )


def _filter_type(field: models.Field[Any, Any]) -> Any:
    return ObjectIdParam if field.is_relation else _value_type(field)


def _create_default(field: models.Field[Any, Any]) -> Any:
    """Required unless the model has a default or accepts blank."""
    if field.has_default() or field.blank or field.null:
        return None
    return ...


def output_type(model: type[Record], key: str) -> Any:
    """The JSON type of one key of ``represent()`` (see representation.py)."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    field = fields.get(key)
    if field is None:
        hints = typing.get_type_hints(getattr(model, key).fget)
        return hints.get("return", str)
    base: Any
    if isinstance(field, models.DateTimeField):
        base = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    elif isinstance(field, models.DateField):
        base = Annotated[str, Field(json_schema_extra={"format": "date"})]
    elif isinstance(field, models.UUIDField):
        base = Annotated[str, Field(json_schema_extra={"format": "uuid"})]
    elif isinstance(field, models.DecimalField):
        base = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?$")]
    elif isinstance(field, models.AutoField | models.IntegerField) or field.is_relation:
        base = int
    elif isinstance(field, models.BooleanField):
        base = bool
    else:
        base = str
    return base | None if field.null else base
