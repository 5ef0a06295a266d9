"""The REST API at ``/api/v1/`` (SPEC section 6), and how it answers errors.

Every error, whoever raises it, is answered in the one shape of
``hookcast.api.errors``: a 401 for a missing or refused key, 404 for an
object the key's station does not own, 400 for a body that is not JSON,
413 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 422 naming each field
at fault, 409 for a delete that other records block. A 500 is a bug: the
last-resort handler logs it and still answers JSON.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from hookcast.api.errors import ApiError, ErrorItem
from hookcast.records.api import records_router
from hookcast.stations.auth import StationKeyAuth
from hookcast.stations.idempotency import KeyReused
from hookcast.webhooks.api import calls_router, webhooks_router

logger = logging.getLogger(__name__)

# Sources of parameters in ninja's error locations, with the parameter name
# that follows them when the whole body is one schema.
BODY_PARAMS = frozenset({"payload"})


class MalformedBody(ValueError):
    """The request body is not a JSON document."""


class JsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body)
        except (ValueError, RecursionError) as exc:
            raise MalformedBody(f"The body is not valid JSON: {exc}.") from exc


api = NinjaAPI(
    title="hookcast",
    version="1",
    description=(
        "Listeners, prizes and campaigns of a station, the webhooks that push "
        "their changes, and the log of every webhook call. Authenticate with "
        "`Authorization: Bearer <station API key>` (`hookcast apikey create "
        "STATION`)."
    ),
    auth=StationKeyAuth(),
    parser=JsonParser(),
    urls_namespace="api-v1",
)
api.add_router("/", records_router())
api.add_router("/", webhooks_router())
api.add_router("/", calls_router())


# Last, so that it matches only what no operation does.
fallback = Router()


@fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"],
    "/{path:rest}",
    auth=None,
    include_in_schema=False,
)
def no_such_url(request: HttpRequest, rest: str) -> None:
    """Any other URL under the API: a JSON 404, not Django's HTML page."""
    raise ApiError.one(404, None, "There is nothing at this URL; see /api/v1/docs.")


api.add_router("/", fallback)


def respond(request: HttpRequest, error: ApiError) -> HttpResponse:
    return api.create_response(request, error.body(), status=error.status)


@api.exception_handler(ApiError)
def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return respond(request, exc)


@api.exception_handler(ValidationError)
def invalid_input(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Pydantic's errors, renamed to the field the client sent."""
    items = [ErrorItem(field=_field(e["loc"]), message=_message(e)) for e in exc.errors]
    return respond(request, ApiError(422, items))


def _field(loc: tuple[Any, ...] | list[Any]) -> str | None:
    source, *rest = loc
    if source == "body" and rest and rest[0] in BODY_PARAMS:
        rest = rest[1:]
    if not rest:
        return "body" if source == "body" else None
    return ".".join(str(part) for part in rest)


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type")
    if kind == "extra_forbidden":
        return "This field is unknown here; remove it (see the OpenAPI document)."
    if kind == "missing":
        return "This field is required."
    message: str = error["msg"]
    # Pydantic prefixes the messages of custom validators.
    return message.removeprefix("Value error, ")


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = respond(request, ApiError.one(401, "Authorization", exc.message))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, MalformedBody):
        return respond(request, ApiError.one(400, "body", str(exc.__cause__)))
    return respond(request, ApiError.one(exc.status_code, None, exc.message))


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"The body is larger than {limit} bytes; send less per request."
    return respond(request, ApiError.one(413, "body", message))


@api.exception_handler(KeyReused)
def key_reused(request: HttpRequest, exc: KeyReused) -> HttpResponse:
    return respond(request, ApiError.one(422, "Idempotency-Key", str(exc)))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return respond(request, ApiError.one(404, None, "Nothing was found here."))


@api.exception_handler(Exception)
def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The last resort: a bug, logged with its traceback, answered as JSON."""
    logger.exception(
        "API request failed: %s %s",
        request.method,
        request.path,
        extra={"action": "api_error"},
    )
    error = ApiError.one(500, None, "The server failed; the error has been logged.")
    return respond(request, error)
