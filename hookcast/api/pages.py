"""Pagination of the REST API's lists: ``limit`` and ``offset`` in, and
``count``, ``next`` and ``previous`` out, as most REST clients expect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from pydantic import BaseModel, ConfigDict, Field, create_model

from hookcast.api.fields import MAX_OFFSET

DEFAULT_LIMIT = 50
MAX_LIMIT = 200  # One page stays well under a second to render.

M = TypeVar("M", bound=Model)


class PageParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    offset: Annotated[int, Field(ge=0, le=MAX_OFFSET)] = 0


def page_schema(item: type[BaseModel], name: str) -> type[BaseModel]:
    """The response schema of a list of ``item``, named ``<name>Page``."""
    return create_model(
        f"{name}Page",
        count=(int, ...),
        next=(str | None, ...),
        previous=(str | None, ...),
        results=(list[item], ...),  # type: ignore[valid-type]
    )


def paginate(
    request: HttpRequest,
    queryset: QuerySet[M],
    page: PageParams,
    render: Callable[[M], Any],
) -> dict[str, Any]:
    count = queryset.count()
    rows = queryset[page.offset : page.offset + page.limit]
    end = page.offset + page.limit
    return {
        "count": count,
        "next": _link(request, end, page.limit) if end < count else None,
        "previous": (
            _link(request, max(page.offset - page.limit, 0), page.limit)
            if page.offset
            else None
        ),
        "results": [render(row) for row in rows],
    }


def _link(request: HttpRequest, offset: int, limit: int) -> str:
    query = request.GET.copy()
    query["offset"] = str(offset)
    query["limit"] = str(limit)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
