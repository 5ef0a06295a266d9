"""REST API authentication: ``Authorization: Bearer <station API key>``.

The key identifies the station; every query the API runs is scoped to it
(SPEC section 6). Failures are told apart in the message, never in a way
that says whether some other station's key exists.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from hookcast.stations.models import ApiKey, Station

logger = logging.getLogger(__name__)

MISSING_MESSAGE = (
    "Send the station's API key as the header Authorization: Bearer <key>."
)
REFUSED_MESSAGE = "The API key is not valid: it is unknown or has been revoked."


def station_of(request: HttpRequest) -> Station:
    """The station of the request's API key, to which every query is scoped."""
    station: Station = request.auth.station  # type: ignore[attr-defined]
    return station


class StationKeyAuth(HttpBearer):
    """Authenticates a request by its station API key; ``request.auth`` is
    the :class:`ApiKey`, and ``request.auth.station`` the station."""

    def __call__(self, request: HttpRequest) -> ApiKey:
        scheme, _, token = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme or not token.strip():
            raise AuthenticationError(message=MISSING_MESSAGE)
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey:
        key = ApiKey.authenticate(token)
        if key is None:
            # The key itself is never logged, not even its prefix: a
            # mistyped key may be one character away from a real one.
            logger.info("API key refused", extra={"action": "api_key_refused"})
            raise AuthenticationError(message=REFUSED_MESSAGE)
        return key
