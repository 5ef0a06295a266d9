"""Station scoping for the administration panel (SPEC section 1).

Staff users belong to stations through :class:`Membership` and see only
those stations' rows; superusers see every station. Every ModelAdmin of
hookcast mixes in :class:`StationScopedAdmin`, so the rule lives here once:
its list, its change pages (another station's object is a 404, even when the
URL is edited by hand), its foreign-key selects and its list filters.

Membership is the grant: a member manages everything of their station, so
the panel does not also ask for Django's per-model permissions. A model is
scoped by its ``station`` field; this module knows nothing of records or
webhooks beyond that field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.forms import ModelChoiceField
from django.http import Http404, HttpRequest

from hookcast.stations.models import Station

# The attribute the request caches the user's station ids under.
_CACHE_ATTRIBUTE = "_hookcast_station_ids"


def station_ids(request: HttpRequest) -> list[int] | None:
    """The ids of the stations ``request.user`` may see; None means all."""
    user = request.user
    if getattr(user, "is_superuser", False):
        return None
    cached: list[int] | None = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = list(
            Station.objects.visible_to(user).order_by("pk").values_list("pk", flat=True)  # type: ignore[arg-type]
        )
        setattr(request, _CACHE_ATTRIBUTE, cached)
    return cached


def visible_stations(request: HttpRequest) -> models.QuerySet[Station]:
    ids = station_ids(request)
    stations = Station.objects.all()
    return stations if ids is None else stations.filter(pk__in=ids)


def sees_several_stations(request: HttpRequest) -> bool:
    ids = station_ids(request)
    return ids is None or len(ids) > 1


def station_lookup(model: type[models.Model]) -> str | None:
    """The lookup from ``model`` to its station's id, or None if it has none."""
    if issubclass(model, Station):
        return "pk"
    try:
        field = model._meta.get_field("station")
    except FieldDoesNotExist:
        return None
    return "station_id" if field.is_relation else None


def scope(queryset: models.QuerySet[Any], request: HttpRequest) -> models.QuerySet[Any]:
    """``queryset`` narrowed to the stations ``request.user`` may see."""
    ids = station_ids(request)
    lookup = station_lookup(queryset.model)
    if ids is None or lookup is None:
        return queryset
    return queryset.filter(**{f"{lookup}__in": ids})


class StationListFilter(admin.SimpleListFilter):
    """Filter by station, offering only the stations the user may see."""

    title = "station"
    parameter_name = "station"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[Any, str]]:
        return [(str(s.pk), str(s)) for s in visible_stations(request)]

    def queryset(
        self, request: HttpRequest, queryset: models.QuerySet[Any]
    ) -> models.QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(station_id=int(value))


class ScopedRelatedListFilter(admin.RelatedFieldListFilter):
    """A foreign-key filter that lists only the user's stations' objects.

    The stock filter lists every row of the related table, which would show
    one station the names of another's webhooks.
    """

    def field_choices(  # type: ignore[override]
        self,
        field: Any,
        request: HttpRequest,
        model_admin: admin.ModelAdmin,
    ) -> list[tuple[str, str]]:
        related = scope(field.related_model._default_manager.all(), request)
        return [(str(obj.pk), str(obj)) for obj in related]


class StationScopedAdmin(admin.ModelAdmin):
    """The one station rule of the panel; every hookcast ModelAdmin uses it."""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        return scope(super().get_queryset(request), request)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        """Another station's object, or no object at all, is a 404.

        The stock admin redirects to the index with a message instead, which
        would tell apart "exists elsewhere" from "does not exist" by nothing,
        but is not the 404 an edited URL deserves.
        """
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with the id {object_id!r}.")
        return obj

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        filters = list(super().get_list_filter(request))
        if station_lookup(self.model) == "station_id" and sees_several_stations(
            request
        ):
            filters.insert(0, StationListFilter)
        return filters

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        columns = list(super().get_list_display(request))
        scoped = station_lookup(self.model) == "station_id"
        if scoped and sees_several_stations(request) and "station" not in columns:
            columns.append("station")
        return columns

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        ids = station_ids(request)
        if ids is not None and len(ids) == 1:
            initial.setdefault("station", str(ids[0]))
        return initial

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> Any:
        related = db_field.related_model
        if station_lookup(related) is not None:
            kwargs["queryset"] = scope(related._default_manager.all(), request)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if related is Station and isinstance(field, ModelChoiceField):
            ids = station_ids(request)
            if ids is not None and len(ids) == 1:
                # A member of one station has nothing to pick.
                field.empty_label = None
                field.initial = ids[0]
        return field

    # Membership is the grant (see the module docstring); subclasses narrow
    # these further, e.g. the calls, which nobody may add or edit.
    def _is_member(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        ids = station_ids(request)
        return ids is None or bool(ids)

    def _may_touch(self, request: HttpRequest, obj: Any) -> bool:
        if not self._is_member(request):
            return False
        ids = station_ids(request)
        lookup = station_lookup(self.model)
        if obj is None or ids is None or lookup is None:
            return True
        return getattr(obj, "pk" if lookup == "pk" else lookup) in ids

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_member(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_touch(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._is_member(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_touch(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_touch(request, obj)


class SuperuserOnlyAdmin(admin.ModelAdmin):
    """Station management and memberships are for superusers alone."""

    def _is_superuser(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_superuser(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._is_superuser(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_superuser(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_superuser(request)
