"""The REST API's error bodies, and the one exception that produces them.

Every error the API answers has the same shape, whatever raised it (a bad
key, pydantic, a model's ``full_clean``, an oversized body)::

    {"detail": [{"field": "email", "message": "Enter a valid email address."}]}

``field`` names the body field, query or path parameter or header at fault,
or is null when the error is about no single one. The handlers that turn
each kind of failure into this shape are in ``hookcast.api.v1``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.db import models
from pydantic import BaseModel


class ErrorItem(BaseModel):
    field: str | None
    message: str


class ErrorBody(BaseModel):
    detail: list[ErrorItem]


class ApiError(Exception):
    """A 4xx answer: its status and one item per problem."""

    def __init__(self, status: int, items: list[ErrorItem]) -> None:
        self.status = status
        self.items = items
        super().__init__(status, [item.message for item in items])

    @classmethod
    def one(cls, status: int, field: str | None, message: str) -> ApiError:
        return cls(status, [ErrorItem(field=field, message=message)])

    def body(self) -> dict[str, Any]:
        return ErrorBody(detail=self.items).model_dump()


def not_found(model: type[models.Model], pk: object, field: str = "id") -> ApiError:
    name = model._meta.verbose_name
    return ApiError.one(404, field, f"No {name} with {field} {pk} in this station.")


def save_validated(instance: models.Model) -> None:
    """Run the model's own validation, then save; a failure becomes a 422.

    The model's messages are passed on as they are, so the API, the admin
    and the ORM all explain a bad value in the same words.
    """
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise invalid(exc, type(instance)) from exc
    instance.save()


def invalid(exc: ValidationError, model: type[models.Model]) -> ApiError:
    """A 422 naming each field as the API spells it (``listener_id``)."""
    if not hasattr(exc, "error_dict"):
        return ApiError(422, [ErrorItem(field=None, message=m) for m in exc.messages])
    items = [
        ErrorItem(field=api_field_name(model, name), message=message)
        for name, messages in exc.message_dict.items()
        for message in messages
    ]
    return ApiError(422, items)


def api_field_name(model: type[models.Model], name: str) -> str | None:
    if name == NON_FIELD_ERRORS:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return getattr(field, "attname", name)


# The error responses each kind of operation can give, for the OpenAPI
# document. Schemathesis holds the API to them.
AUTHENTICATED: dict[int, type[BaseModel]] = {401: ErrorBody, 422: ErrorBody}
ONE_OBJECT = {**AUTHENTICATED, 404: ErrorBody}
WITH_BODY = {**AUTHENTICATED, 400: ErrorBody, 413: ErrorBody}
ONE_OBJECT_WITH_BODY = {**ONE_OBJECT, **WITH_BODY}
