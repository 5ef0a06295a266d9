"""The REST API of the records: list, create, read, PATCH and delete.

One set of routes per registered record type, built from the registry and
the model's fields (``records.schemas``), so a new record type needs no API
code. Every write goes through ``full_clean()`` and ``Record.save()`` or
``delete()``, which raise the record's event in the write's transaction;
the JSON of a record is ``Record.represent()``, as in a webhook's ``sender``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from django.db import transaction
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.http import HttpRequest
from django.utils.text import slugify
from ninja import Router, Status
from ninja.params.functions import Body, Path, Query
from pydantic import BaseModel

from hookcast.api.errors import (
    AUTHENTICATED,
    ONE_OBJECT,
    ONE_OBJECT_WITH_BODY,
    WITH_BODY,
    ApiError,
    ErrorBody,
    not_found,
    save_validated,
)
from hookcast.api.fields import IdempotencyKeyHeader, ObjectIdParam
from hookcast.api.pages import paginate
from hookcast.records.models import Record
from hookcast.records.registry import record_types
from hookcast.records.schemas import RecordSchemas, record_schemas
from hookcast.stations import idempotency
from hookcast.stations.auth import station_of
from hookcast.stations.models import Station

logger = logging.getLogger(__name__)

PAGE_KEYS = frozenset({"limit", "offset", "created_since", "updated_since"})


def records_router() -> Router:
    router = Router()
    for model in record_types().values():
        RecordRoutes(record_schemas(model)).add_to(router)
    return router


class RecordRoutes:
    """The five operations of one record type."""

    def __init__(self, schemas: RecordSchemas) -> None:
        self.schemas = schemas
        self.model = schemas.model
        self.plural = slugify(str(self.model._meta.verbose_name_plural))
        self.name = self.model._meta.verbose_name

    def add_to(self, router: Router) -> None:
        s = self.schemas
        many, one = f"/{self.plural}", f"/{self.plural}/{{id}}"
        record_id = param(Path, ObjectIdParam)
        self._route(
            router,
            "GET",
            many,
            self.list,
            {200: s.page, **AUTHENTICATED},
            f"List {self.plural}",
            filters=param(Query, s.filters),
        )
        self._route(
            router,
            "POST",
            many,
            self.create,
            {201: s.output, **WITH_BODY},
            f"Create a {self.name}",
            payload=param(Body, s.create),
            idempotency_key=IdempotencyKeyHeader,
        )
        self._route(
            router,
            "GET",
            one,
            self.read,
            {200: s.output, **ONE_OBJECT},
            f"Read a {self.name}",
            id=record_id,
        )
        self._route(
            router,
            "PATCH",
            one,
            self.update,
            {200: s.output, **ONE_OBJECT_WITH_BODY},
            f"Update a {self.name}",
            id=record_id,
            payload=param(Body, s.patch),
        )
        self._route(
            router,
            "DELETE",
            one,
            self.delete,
            {204: None, 409: ErrorBody, **ONE_OBJECT},
            f"Delete a {self.name}",
            id=record_id,
        )

    def _route(
        self,
        router: Router,
        method: str,
        path: str,
        handler: Callable[..., Any],
        response: dict[int, Any],
        summary: str,
        **params: Any,
    ) -> None:
        """Register ``handler`` with ``params`` as its typed parameters.

        django-ninja reads a view's parameters from its annotations; these
        schemas exist only at run time, so the view is given them here.
        """

        def view(request: HttpRequest, **kwargs: Any) -> Any:
            return handler(request, **kwargs)

        view.__signature__ = _signature(params)  # type: ignore[attr-defined]
        operation_id = f"{handler.__name__}_{self.plural.replace('-', '_')}"
        router.add_api_operation(
            path,
            [method],
            view,
            response=response,
            operation_id=operation_id,
            summary=summary,
            tags=[self.plural],
        )

    def queryset(self, request: HttpRequest) -> QuerySet[Record]:
        return self.model.objects.filter(station=station_of(request))

    def get(self, request: HttpRequest, pk: int, *, for_update: bool = False) -> Record:
        queryset = self.queryset(request)
        if for_update:
            queryset = queryset.select_for_update()
        record = queryset.filter(pk=pk).first()
        if record is None:
            raise not_found(self.model, pk)
        return record

    def render(self, request: HttpRequest) -> Callable[[Record], dict[str, Any]]:
        zone = station_of(request).zone
        return lambda record: record.represent(zone)

    def list(self, request: HttpRequest, filters: BaseModel) -> dict[str, Any]:
        values = filters.model_dump(exclude_none=True)
        queryset = self.queryset(request).filter(
            **{k: v for k, v in values.items() if k not in PAGE_KEYS}
        )
        if "updated_since" in values:
            queryset = queryset.filter(updated_at__gte=values["updated_since"])
        if "created_since" in values:
            queryset = queryset.filter(created_at__gte=values["created_since"])
        return paginate(request, queryset.order_by("id"), filters, self.render(request))  # type: ignore[arg-type]

    def create(
        self, request: HttpRequest, payload: BaseModel, idempotency_key: str | None
    ) -> Status[Any]:
        station = station_of(request)
        values = payload.model_dump(exclude_unset=True)

        def produce() -> tuple[int, Any]:
            record = self.model(station=station)
            self.assign(station, record, values)
            save_validated(record)
            logger.info(
                "%s %s created through the API",
                self.model.__name__,
                record.pk,
                extra={"action": "api_record_created"},
            )
            return 201, record.represent(station.zone)

        print_ = idempotency.fingerprint(
            "POST", request.path, payload.model_dump(mode="json", exclude_unset=True)
        )
        return Status(*idempotency.respond(station, idempotency_key, print_, produce))

    def read(self, request: HttpRequest, id: int) -> dict[str, Any]:
        return self.get(request, id).represent(station_of(request).zone)

    def update(
        self, request: HttpRequest, id: int, payload: BaseModel
    ) -> dict[str, Any]:
        station = station_of(request)
        with transaction.atomic():
            record = self.get(request, id, for_update=True)
            self.assign(station, record, payload.model_dump(exclude_unset=True))
            save_validated(record)
        return record.represent(station.zone)

    def delete(self, request: HttpRequest, id: int) -> Status[None]:
        with transaction.atomic():
            record = self.get(request, id, for_update=True)
            try:
                record.delete()
            except (ProtectedError, RestrictedError) as exc:
                referrers: Iterable[Any] = (
                    exc.protected_objects
                    if isinstance(exc, ProtectedError)
                    else exc.restricted_objects
                )
                blocking = sorted({type(obj).__name__ for obj in referrers})
                raise ApiError.one(
                    409,
                    "id",
                    f"This {self.name} cannot be deleted while records refer to "
                    f"it ({', '.join(blocking)}); delete or change those first.",
                ) from exc
        return Status(204, None)

    def assign(self, station: Station, record: Record, values: dict[str, Any]) -> None:
        """Set ``values`` on ``record``, each related id checked to be the
        station's own: another station's record is as unknown as none."""
        fields = {f.attname: f for f in self.model._meta.concrete_fields}
        for attname, value in values.items():
            field = fields[attname]
            if field.is_relation and value is not None:
                related = field.related_model
                assert related is not None and not isinstance(related, str)
                owned = related._default_manager.filter(pk=value)
                if any(f.name == "station" for f in related._meta.concrete_fields):
                    owned = owned.filter(station=station)
                if not owned.exists():
                    raise not_found_related(related, attname, value)
            setattr(record, attname, value)


def not_found_related(related: Any, attname: str, value: int) -> ApiError:
    return ApiError.one(
        422,
        attname,
        f"No {related._meta.verbose_name} with id {value} in this station.",
    )


def param(source: Callable[..., Any], schema: Any) -> Any:
    """``Annotated[schema, source()]``: how ninja is told where a parameter
    comes from (query, path or body)."""
    return Annotated[schema, source()]


def _signature(params: dict[str, Any]) -> inspect.Signature:
    return inspect.Signature(
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation
            )
            for name, annotation in params.items()
        ]
    )
