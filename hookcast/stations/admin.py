"""The panel's pages for stations, their members and their API keys.

Stations and memberships are managed by superusers alone. API keys belong to
a station and are scoped like everything else; a new key's raw value is shown
on the page that follows its creation and never again, because only its hash
is stored (``ApiKey.issue``).
"""

from __future__ import annotations

import logging

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from hookcast.stations.models import ApiKey, Membership, Station
from hookcast.stations.scoping import StationScopedAdmin, SuperuserOnlyAdmin

logger = logging.getLogger(__name__)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]
    verbose_name = "member"
    verbose_name_plural = "members (staff users who manage this station)"


@admin.register(Station)
class StationAdmin(SuperuserOnlyAdmin):
    list_display = ["subdomain", "name", "timezone", "created_at"]
    search_fields = ["subdomain", "name"]
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]


@admin.register(ApiKey)
class ApiKeyAdmin(StationScopedAdmin):
    list_display = ["name", "prefix", "created_at", "last_used_at", "state"]
    list_select_related = ["station"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke_keys"]
    # The hash is never shown: it is excluded from every field list here.
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]

    def get_fields(  # type: ignore[override]
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> list[str]:
        if obj is None:
            return ["station", "name"]
        return ["station", "name", *self.readonly_fields]

    def get_readonly_fields(
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> list[str]:
        # A key cannot move to another station once issued.
        return [*self.readonly_fields, "station"] if obj else []

    @admin.display(description="state")
    def state(self, key: ApiKey) -> str:
        return "revoked" if key.revoked_at else "active"

    def save_model(
        self, request: HttpRequest, obj: ApiKey, form: ModelForm[ApiKey], change: bool
    ) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued, raw = ApiKey.issue(obj.station, obj.name)
        # The admin goes on with ``obj`` (its log entry, its response), so it
        # takes the issued row's identity; the raw key rides along to
        # response_add and is not kept anywhere else.
        obj.pk = issued.pk
        obj.prefix = issued.prefix
        obj.key_hash = issued.key_hash
        obj.created_at = issued.created_at
        obj._state.adding = False
        obj._state.db = issued._state.db
        obj._raw_key = raw  # type: ignore[attr-defined]
        logger.info(
            "API key %s issued for station %s",
            issued.prefix,
            obj.station,
            extra={"action": "apikey_issued"},
        )

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None
    ) -> HttpResponse:
        raw = getattr(obj, "_raw_key", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Your new API key",
            "key": obj,
            "raw_key": raw,
        }
        response = TemplateResponse(
            request, "admin/stations/apikey/issued.html", context
        )
        # The page holds a secret: no cache may keep a copy of it.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected API keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            key.revoke()
            logger.info(
                "API key %s revoked",
                key.prefix,
                extra={"action": "apikey_revoked"},
            )
        messages.success(
            request,
            f"Revoked {len(keys)} API key(s) at {timezone.now():%Y-%m-%d %H:%M} UTC; "
            "requests with them are now refused.",
        )
