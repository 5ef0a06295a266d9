from __future__ import annotations

from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path
from django.views.generic import RedirectView

from hookcast.api.v1 import api

# The station documentation calls it the Administration panel.
admin.site.site_header = "hookcast Administration panel"
admin.site.site_title = "hookcast"
admin.site.index_title = "Administration panel"


def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # Any database failure means "not healthy", nothing more.
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
    path("api/v1/", api.urls),
    # The admin's own CSS and scripts, served from the installed apps. They
    # are few and small; a deployment behind a proxy may serve STATIC_ROOT.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
]
