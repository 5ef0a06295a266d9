"""The panel's pages for webhooks and their calls (the webhook logs).

The webhook pages follow the reference document's steps word for word:
"Webhooks" in the admin menu, "New Webhook", the Event, the Endpoint, GET or
POST, "Save Webhook". A webhook's page also shows its signing secret (masked
until revealed), its health, a chart of its last day of calls, its recent
calls, and buttons to rotate the secret, send a test call and redeliver its
failed calls since a time.

The calls are read-only: they are written by event capture and the worker
alone. Every page is scoped to the user's stations by the one mixin of
``hookcast.stations.scoping``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import connections
from django.db.models import Avg, Count, Func, QuerySet
from django.db.models.functions import Substr, TruncHour
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from hookcast.records.registry import event_keys
from hookcast.stations.scoping import ScopedRelatedListFilter, StationScopedAdmin
from hookcast.webhooks import charts
from hookcast.webhooks.models import Attempt, Call, Webhook
from hookcast.webhooks.redelivery import redeliver, redeliver_failed_since
from hookcast.webhooks.samples import TEST_ORDERING_PREFIX, send_test_call
from hookcast.webhooks.signing import SECRET_PREFIX

logger = logging.getLogger(__name__)

# The reference document calls the calls "the webhook logs"; in the panel
# they read as "Webhook calls" beside "Webhooks", rather than a bare "Calls".
Call._meta.verbose_name = "webhook call"
Call._meta.verbose_name_plural = "webhook calls"

RECENT_CALLS = 20  # Shown on a webhook's page; the logs have the rest.
MASKED_SECRET = SECRET_PREFIX + "••••"


def event_choices() -> list[tuple[str, str]]:
    return [(key, key) for key in event_keys()]


class EventKeyFilter(admin.SimpleListFilter):
    """Filter by event key, listing every key of the registry."""

    title = "event"
    parameter_name = "event"
    field_path = "event"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[str, str]]:
        return event_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{self.field_path: value}) if value else queryset


class CallEventKeyFilter(EventKeyFilter):
    field_path = "event__key"


# --- Webhooks --------------------------------------------------------------


class WebhookForm(forms.ModelForm):  # type: ignore[type-arg]
    event = forms.ChoiceField(
        label="Event",
        choices=event_choices,
        help_text="The change that triggers the webhook, e.g. Listener.updated.",
    )

    class Meta:
        model = Webhook
        fields = ["station", "event", "endpoint", "method", "enabled"]
        labels = {"endpoint": "Endpoint", "method": "Method"}
        widgets = {
            "endpoint": forms.TextInput(
                attrs={"size": 80, "placeholder": "https://", "spellcheck": "false"}
            ),
        }
        help_texts = {
            "endpoint": (
                "Where the call is sent. It must begin with https://; plain "
                "HTTP endpoints are rejected."
            ),
            "method": ("GET sends the payload as URL parameters, POST as a JSON body."),
        }


class RedeliverSinceForm(forms.Form):
    since = forms.DateTimeField(
        label="Failed since",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={
            "required": "Choose the time from which failed calls are redelivered.",
            "invalid": "Enter the time as YYYY-MM-DD HH:MM.",
        },
    )


@admin.register(Webhook)
class WebhookAdmin(StationScopedAdmin):
    form = WebhookForm
    list_display = ["event", "endpoint", "method", "enabled", "health"]
    list_display_links = ["event", "endpoint"]
    list_filter = ["enabled", "method", EventKeyFilter]
    list_select_related = ["station"]
    search_fields = ["endpoint"]
    actions = ["enable_webhooks", "disable_webhooks", "rotate_secrets"]
    show_full_result_count = False
    health_fields = [
        "health",
        "disabled_reason",
        "disabled_at",
        "consecutive_failures",
        "failing_since",
        "last_success_at",
    ]
    readonly_fields = ["signing_secret", "created_at", "updated_at", *health_fields]

    def get_fieldsets(  # type: ignore[override]
        self, request: HttpRequest, obj: Webhook | None = None
    ) -> list[tuple[str | None, dict[str, Any]]]:
        main = (None, {"fields": WebhookForm.Meta.fields})
        if obj is None:
            return [main]
        return [
            main,
            ("Signing secret", {"fields": ["signing_secret"]}),
            ("Health", {"fields": self.health_fields}),
            ("Dates", {"fields": ["created_at", "updated_at"]}),
        ]

    # The reference document's words, in place of the stock "Add webhook"
    # and "Save".
    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return super().add_view(
            request, form_url, {**(extra_context or {}), "title": "New Webhook"}
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        webhook = self.get_object(request, object_id)
        context = {**(extra_context or {}), **self._panels(webhook)}
        return super().change_view(request, object_id, form_url, context)

    def _panels(self, webhook: Webhook) -> dict[str, Any]:
        recent = list(
            webhook.calls.select_related("event").order_by("-id")[:RECENT_CALLS]
        )
        test_call = (
            webhook.calls.filter(ordering_key__startswith=TEST_ORDERING_PREFIX)
            .order_by("-id")
            .first()
        )
        zone = webhook.station.zone
        # render_chart escapes every text it draws; the rest is numbers.
        chart = mark_safe(charts.render_chart(chart_hours(webhook), zone))
        return {
            "chart": chart,
            "recent_calls": recent,
            "test_call": test_call,
            "station_zone": zone.key,
            "since_default": (timezone.now() - dt.timedelta(days=1))
            .astimezone(zone)
            .strftime("%Y-%m-%dT%H:%M"),
        }

    def save_model(
        self,
        request: HttpRequest,
        obj: Webhook,
        form: forms.ModelForm[Webhook],
        change: bool,
    ) -> None:
        if change and "enabled" in form.changed_data and obj.enabled:
            obj.clear_health()
        super().save_model(request, obj, form, change)

    @admin.display(description="signing secret")
    def signing_secret(self, webhook: Webhook) -> SafeString:
        previous = ""
        if len(webhook.signing_secrets()) > 1:
            previous = format_html(
                "<p>The previous secret also signs each call until {}.</p>",
                webhook.previous_secret_expires_at,
            )
        return format_html(
            '<code class="masked-secret">{}</code>'
            '<details class="reveal-secret"><summary>Reveal</summary>'
            "<code>{}</code></details>{}"
            "<p>Verify each call's webhook-signature header with it, as the "
            "Standard Webhooks libraries do.</p>",
            MASKED_SECRET,
            webhook.secret,
            previous,
        )

    @admin.display(description="health")
    def health(self, webhook: Webhook) -> str:
        if not webhook.enabled:
            reason = webhook.disabled_reason or "by hand"
            return f"Disabled: {reason}"
        if webhook.failing_since is not None:
            return (
                f"Failing since {webhook.failing_since:%Y-%m-%d %H:%M} UTC "
                f"({webhook.consecutive_failures} failures in a row)"
            )
        if webhook.last_success_at is not None:
            return "Healthy"
        return "No calls yet"

    @admin.action(description="Enable the selected webhooks")
    def enable_webhooks(
        self, request: HttpRequest, queryset: QuerySet[Webhook]
    ) -> None:
        count = 0
        for webhook in queryset.filter(enabled=False):
            webhook.enabled = True
            webhook.clear_health()
            webhook.save()
            count += 1
        messages.success(request, f"Enabled {count} webhook(s).")

    @admin.action(description="Disable the selected webhooks")
    def disable_webhooks(
        self, request: HttpRequest, queryset: QuerySet[Webhook]
    ) -> None:
        count = 0
        for webhook in queryset.filter(enabled=True):
            webhook.disable(f"Disabled in the administration panel by {request.user}.")
            count += 1
        messages.success(
            request,
            f"Disabled {count} webhook(s); they make no calls until enabled again.",
        )

    @admin.action(description="Rotate the signing secret of the selected webhooks")
    def rotate_secrets(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        webhooks = list(queryset)
        for webhook in webhooks:
            _rotate(webhook)
        messages.success(
            request,
            f"Rotated the secret of {len(webhooks)} webhook(s). For 24 hours "
            "each call is signed with the old and the new secret.",
        )

    # --- The buttons of a webhook's page --------------------------------

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/rotate-secret/",
                view(require_POST(self.rotate_secret_view)),
                name="webhooks_webhook_rotate_secret",
            ),
            path(
                "<path:object_id>/test-call/",
                view(require_POST(self.test_call_view)),
                name="webhooks_webhook_test_call",
            ),
            path(
                "<path:object_id>/test-call/<str:call_id>/",
                view(require_GET(self.test_call_status_view)),
                name="webhooks_webhook_test_call_status",
            ),
            path(
                "<path:object_id>/redeliver-failed/",
                view(require_POST(self.redeliver_failed_view)),
                name="webhooks_webhook_redeliver_failed",
            ),
            *super().get_urls(),
        ]

    def _changeable(self, request: HttpRequest, object_id: str) -> Webhook:
        webhook: Webhook = self.get_object(request, object_id)
        if not self.has_change_permission(request, webhook):
            raise Http404("No webhook with that id.")
        return webhook

    def _back(self, webhook: Webhook) -> HttpResponse:
        return redirect(reverse("admin:webhooks_webhook_change", args=[webhook.pk]))

    def rotate_secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        webhook = self._changeable(request, object_id)
        _rotate(webhook)
        messages.success(
            request,
            "The signing secret was rotated. For 24 hours each call is signed "
            "with both the old and the new secret; update your receiver now.",
        )
        return self._back(webhook)

    def test_call_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        webhook = self._changeable(request, object_id)
        try:
            call = send_test_call(webhook)
        except LookupError:
            # An event key saved before its record type was removed.
            messages.error(
                request,
                f"{webhook.event} names no record type any more; choose another "
                "Event before sending a test call.",
            )
            return self._back(webhook)
        note = (
            ""
            if webhook.enabled
            else " The webhook is disabled: the call waits until it is enabled."
        )
        messages.info(
            request,
            f"Test call {call.call_id} queued; its outcome appears below once "
            f"a worker has sent it.{note}",
        )
        return self._back(webhook)

    def test_call_status_view(
        self, request: HttpRequest, object_id: str, call_id: str
    ) -> HttpResponse:
        webhook = self.get_object(request, object_id)
        try:
            wanted = uuid.UUID(call_id)
        except ValueError:
            raise Http404("That is not a webhookCallId.") from None
        call = webhook.calls.filter(call_id=wanted).first()
        if call is None:
            raise Http404("This webhook has no call with that webhookCallId.")
        return JsonResponse(call_outcome(call))

    def redeliver_failed_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponse:
        webhook = self._changeable(request, object_id)
        form = RedeliverSinceForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(e) for e in form.errors["since"]))
            return self._back(webhook)
        # The form's time is the station's wall-clock time, as the page says.
        since = timezone.make_aware(
            form.cleaned_data["since"].replace(tzinfo=None), webhook.station.zone
        )
        count = redeliver_failed_since(webhook, since)
        logger.info(
            "Redelivering %d failed calls of webhook %s since %s",
            count,
            webhook.pk,
            since.isoformat(),
            extra={"action": "redeliver_failed_since"},
        )
        messages.success(
            request,
            f"Queued {count} failed call(s) created since "
            f"{since:%Y-%m-%d %H:%M} ({webhook.station.zone.key}) to be sent again.",
        )
        return self._back(webhook)


def _rotate(webhook: Webhook) -> None:
    webhook.rotate_secret()
    logger.info(
        "Signing secret of webhook %s rotated",
        webhook.pk,
        extra={"action": "secret_rotated"},
    )


def chart_hours(webhook: Webhook, now: dt.datetime | None = None) -> list[Any]:
    """The webhook's last day of calls and attempt durations, by hour."""
    now = now or timezone.now()
    since = charts.floor_hour(now) - dt.timedelta(hours=charts.HOURS - 1)
    calls = Call.objects.filter(webhook=webhook, created_at__gte=since)
    attempts = Attempt.objects.filter(call__webhook=webhook, sent_at__gte=since)
    counts = (
        calls.annotate(hour=_hour_of("created_at", calls.db))
        .order_by()
        .values_list("hour", "status")
        .annotate(count=Count("id"))
    )
    latencies = (
        attempts.annotate(hour=_hour_of("sent_at", attempts.db))
        .order_by()
        .values_list("hour")
        .annotate(mean=Avg("duration_ms"))
    )
    return charts.hours_of_calls(
        now,
        [(_as_hour(hour), status, count) for hour, status, count in counts],
        [(_as_hour(hour), mean) for hour, mean in latencies],
    )


def _hour_of(field: str, using: str) -> Func:
    """The UTC hour of a datetime column, grouped on by the database.

    SQLite stores datetimes as UTC text, whose first 13 characters are the
    hour; TruncHour would call a Python function for each row there, which
    made a webhook page with 100,000 calls in its last day 7 times slower.
    """
    if connections[using].vendor == "sqlite":
        return Substr(field, 1, 13)
    return TruncHour(field, tzinfo=dt.UTC)


def _as_hour(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # SQLite's "YYYY-MM-DD HH", in UTC.
        return dt.datetime.fromisoformat(f"{value}:00").replace(tzinfo=dt.UTC)
    return value


def call_outcome(call: Call) -> dict[str, Any]:
    """What the webhook page shows of a test call, also polled as JSON."""
    return {
        "webhookCallId": str(call.call_id),
        "status": call.status,
        "attempts": call.attempt_count,
        "last_status_code": call.last_status_code,
        "last_error": call.last_error,
        "url": reverse("admin:webhooks_call_change", args=[call.pk]),
    }


# --- Webhook calls (the webhook logs) --------------------------------------


class AttemptInline(admin.StackedInline):
    """Every attempt of a call, exactly as sent and as answered."""

    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = (
        "number",
        "sent_at",
        "duration",
        "outcome",
        "request",
        "response",
    )
    fields = readonly_fields
    ordering = ["number", "id"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The call's own page is scoped; its attempts go with it.
        return True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="duration")
    def duration(self, attempt: Attempt) -> str:
        return f"{attempt.duration_ms} ms"

    @admin.display(description="outcome")
    def outcome(self, attempt: Attempt) -> str:
        if attempt.succeeded:
            return f"Delivered ({attempt.response_status})"
        if attempt.response_status is not None:
            return f"Failed: the endpoint answered {attempt.response_status}"
        return f"Failed: {attempt.error or 'no response'}"

    @admin.display(description="request")
    def request(self, attempt: Attempt) -> SafeString:
        return format_html(
            '<pre class="attempt-request">{} {}\n{}\n\n{}</pre>',
            attempt.request_method,
            attempt.request_url,
            _header_lines(attempt.request_headers),
            attempt.request_body,
        )

    @admin.display(description="response")
    def response(self, attempt: Attempt) -> SafeString:
        if attempt.response_status is None:
            return format_html(
                '<pre class="attempt-error">No response: {}</pre>', attempt.error
            )
        return format_html(
            '<pre class="attempt-response">{}\n{}\n\n{}</pre>{}',
            attempt.response_status,
            _header_lines(attempt.response_headers),
            attempt.response_body,
            format_html("<p>{}</p>", attempt.error) if attempt.error else "",
        )


def _header_lines(headers: Any) -> str:
    if not isinstance(headers, dict):
        return str(headers)
    return "\n".join(f"{name}: {value}" for name, value in headers.items())


@admin.register(Call)
class CallAdmin(StationScopedAdmin):
    list_display = [
        "call_id",
        "event_key",
        "endpoint_host",
        "status",
        "attempt_count",
        "last_status_code",
        "created_at",
    ]
    list_select_related = ["event", "webhook", "station"]
    list_filter = [
        "status",
        CallEventKeyFilter,
        ("webhook", ScopedRelatedListFilter),
        ("created_at", admin.DateFieldListFilter),
    ]
    search_fields = ["call_id"]  # Searched by get_search_results below.
    search_help_text = "Search by webhookCallId, or by sender id (the record's id)."
    # Counting 100,000 rows twice per page is the slow part of a list.
    show_full_result_count = False
    actions = ["redeliver_calls"]
    inlines = [AttemptInline]
    readonly_fields = (
        "call_id",
        "webhook_link",
        "event_key",
        "sender_id",
        "status",
        "attempt_count",
        "retry_count",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
        "sender",
    )
    fields = readonly_fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Call], search_term: str
    ) -> tuple[QuerySet[Call], bool]:
        """An exact match on the webhookCallId or the sender id: both use an
        index, where the stock "contains" search would scan every call."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(call_id=uuid.UUID(term)), False
        except ValueError:
            pass
        if term.isdigit() and int(term) < 2**63:
            return queryset.filter(event__sender_id=int(term)), False
        self.message_user(
            request,
            f"“{term[:80]}” is neither a webhookCallId (a UUID) nor a sender id "
            "(a number).",
            messages.WARNING,
        )
        return queryset.none(), False

    # Calls are written by capture and the worker alone.
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    @admin.display(description="event", ordering="event__key")
    def event_key(self, call: Call) -> str:
        return call.event.key

    @admin.display(description="sender id")
    def sender_id(self, call: Call) -> int:
        return call.event.sender_id

    @admin.display(description="endpoint host")
    def endpoint_host(self, call: Call) -> str:
        return call.webhook.endpoint_host

    @admin.display(description="webhook")
    def webhook_link(self, call: Call) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:webhooks_webhook_change", args=[call.webhook_id]),
            call.webhook,
        )

    @admin.display(description="sender")
    def sender(self, call: Call) -> SafeString:
        try:
            text = json.dumps(
                json.loads(call.event.sender), indent=2, ensure_ascii=False
            )
        except ValueError:
            text = call.event.sender
        return format_html("<pre>{}</pre>", text)

    @admin.action(description="Redeliver the selected calls", permissions=["redeliver"])
    def redeliver_calls(self, request: HttpRequest, queryset: QuerySet[Call]) -> None:
        count = redeliver(queryset)
        logger.info("Redelivering %d calls", count, extra={"action": "redeliver_calls"})
        messages.success(
            request,
            f"Queued {count} call(s) to be sent again with their webhookCallId; "
            "calls a worker is sending right now are left to it.",
        )
