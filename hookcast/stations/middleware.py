"""Show the administration panel in the station's own time.

Django renders datetimes in the active time zone. A staff user whose
stations all keep one time zone (most users: they belong to one station)
sees every date in it; anyone else sees UTC, as Django's setting says.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from hookcast.stations.models import Station


class StationTimezoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            zones = set(
                Station.objects.visible_to(user)
                .values_list("timezone", flat=True)
                .distinct()[:2]
            )
            if len(zones) == 1:
                timezone.activate(zoneinfo.ZoneInfo(zones.pop()))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
