"""The REST API of webhooks, their signing secrets and the webhook logs.

``webhooks`` (list, create, read, PATCH, delete; the secret, its rotation
and the redelivery of failed calls), ``calls`` (the logs, searchable by
webhookCallId, each with every attempt) and ``event-types``. Everything is
scoped to the API key's station.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from hookcast.api.errors import (
    AUTHENTICATED,
    ONE_OBJECT,
    ONE_OBJECT_WITH_BODY,
    WITH_BODY,
    not_found,
    save_validated,
)
from hookcast.api.fields import IdempotencyKeyHeader, ObjectIdParam
from hookcast.api.pages import paginate
from hookcast.records.registry import event_keys
from hookcast.records.representation import render_datetime
from hookcast.stations import idempotency
from hookcast.stations.auth import station_of
from hookcast.webhooks import redelivery
from hookcast.webhooks.models import Attempt, Call, Webhook
from hookcast.webhooks.schemas import (
    CallDetail,
    CallFilters,
    CallPage,
    Queued,
    RedeliverFailed,
    Secret,
    WebhookCreated,
    WebhookFilters,
    WebhookIn,
    WebhookOut,
    WebhookPage,
    WebhookPatch,
)

logger = logging.getLogger(__name__)

WebhookId = Path[ObjectIdParam]  # type: ignore[misc]


def webhooks_router() -> Router:
    router = Router(tags=["webhooks"])
    router.add_api_operation(
        "/event-types",
        ["GET"],
        list_event_types,
        response={200: list[str], 401: AUTHENTICATED[401]},
        tags=["webhooks"],
    )
    router.get("/webhooks", response={200: WebhookPage, **AUTHENTICATED})(list_webhooks)
    router.post("/webhooks", response={201: WebhookCreated, **WITH_BODY})(
        create_webhook
    )
    router.get("/webhooks/{id}", response={200: WebhookOut, **ONE_OBJECT})(read_webhook)
    router.patch("/webhooks/{id}", response={200: WebhookOut, **ONE_OBJECT_WITH_BODY})(
        update_webhook
    )
    router.delete("/webhooks/{id}", response={204: None, **ONE_OBJECT})(delete_webhook)
    router.get("/webhooks/{id}/secret", response={200: Secret, **ONE_OBJECT})(
        read_secret
    )
    router.post("/webhooks/{id}/secret/rotate", response={200: Secret, **ONE_OBJECT})(
        rotate_secret
    )
    router.post(
        "/webhooks/{id}/redeliver-failed",
        response={202: Queued, **ONE_OBJECT_WITH_BODY},
    )(redeliver_failed)
    return router


def calls_router() -> Router:
    router = Router(tags=["calls"])
    router.get("/calls", response={200: CallPage, **AUTHENTICATED})(list_calls)
    router.get("/calls/{webhookCallId}", response={200: CallDetail, **ONE_OBJECT})(
        read_call
    )
    router.post(
        "/calls/{webhookCallId}/redeliver", response={202: Queued, **ONE_OBJECT}
    )(redeliver_call)
    return router


def list_event_types(request: HttpRequest) -> list[str]:
    """Every event key a webhook can subscribe to, ``RecordName.action``."""
    return event_keys()


# Webhooks.


def webhooks(request: HttpRequest) -> QuerySet[Webhook]:
    return Webhook.objects.filter(station=station_of(request)).order_by("id")


def get_webhook(request: HttpRequest, id: int, for_update: bool = False) -> Webhook:
    queryset = webhooks(request)
    if for_update:
        queryset = queryset.select_for_update()
    webhook = queryset.filter(pk=id).first()
    if webhook is None:
        raise not_found(Webhook, id)
    return webhook


def render_webhook(webhook: Webhook) -> dict[str, Any]:
    zone = webhook.station.zone
    return {
        "id": webhook.pk,
        "event": webhook.event,
        "endpoint": webhook.endpoint,
        "method": webhook.method,
        "enabled": webhook.enabled,
        "created_at": render_datetime(webhook.created_at, zone),
        "updated_at": render_datetime(webhook.updated_at, zone),
        "disabled_reason": webhook.disabled_reason,
        "disabled_at": _moment(webhook.disabled_at, webhook),
        "consecutive_failures": webhook.consecutive_failures,
        "last_success_at": _moment(webhook.last_success_at, webhook),
        "failing_since": _moment(webhook.failing_since, webhook),
    }


def _moment(value: Any, webhook: Webhook) -> str | None:
    return None if value is None else render_datetime(value, webhook.station.zone)


def list_webhooks(
    request: HttpRequest, filters: Query[WebhookFilters]
) -> dict[str, Any]:
    queryset = webhooks(request).select_related("station")
    if filters.event is not None:
        queryset = queryset.filter(event=filters.event)
    if filters.enabled is not None:
        queryset = queryset.filter(enabled=filters.enabled)
    return paginate(request, queryset, filters, render_webhook)


def create_webhook(
    request: HttpRequest,
    payload: WebhookIn,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Status[Any]:
    """Subscribe an endpoint to an event; the response carries the signing
    secret, which verifies each call's ``webhook-signature`` header."""
    station = station_of(request)

    def produce() -> tuple[int, Any]:
        webhook = Webhook(station=station, **payload.model_dump())
        save_validated(webhook)
        logger.info(
            "Webhook %s created for %s to %s",
            webhook.pk,
            webhook.event,
            webhook.endpoint_host,
            extra={"action": "api_webhook_created"},
        )
        return 201, {**render_webhook(webhook), "secret": webhook.secret}

    print_ = idempotency.fingerprint("POST", request.path, payload.model_dump())
    return Status(*idempotency.respond(station, idempotency_key, print_, produce))


def read_webhook(request: HttpRequest, id: WebhookId) -> dict[str, Any]:
    return render_webhook(get_webhook(request, id))


def update_webhook(
    request: HttpRequest, id: WebhookId, payload: WebhookPatch
) -> dict[str, Any]:
    with transaction.atomic():
        webhook = get_webhook(request, id, for_update=True)
        changes = payload.model_dump(exclude_unset=True)
        for name, value in changes.items():
            if value is None:
                continue  # null means "unchanged": none of these is nullable.
            setattr(webhook, name, value)
        if changes.get("enabled") and webhook.disabled_at is not None:
            # Enabled again by the station: the old reason no longer holds.
            webhook.clear_health()
        save_validated(webhook)
    return render_webhook(webhook)


def delete_webhook(request: HttpRequest, id: WebhookId) -> Status[None]:
    get_webhook(request, id).delete()
    return Status(204, None)


def read_secret(request: HttpRequest, id: WebhookId) -> dict[str, str]:
    return {"secret": get_webhook(request, id).secret}


def rotate_secret(request: HttpRequest, id: WebhookId) -> dict[str, str]:
    """A new secret; the previous one keeps signing for 24 hours, so
    receivers can switch over without missing a call."""
    with transaction.atomic():
        webhook = get_webhook(request, id, for_update=True)
        secret = webhook.rotate_secret()
    logger.info(
        "Webhook %s secret rotated", webhook.pk, extra={"action": "secret_rotated"}
    )
    return {"secret": secret}


def redeliver_failed(
    request: HttpRequest, id: WebhookId, payload: RedeliverFailed
) -> Status[dict[str, int]]:
    webhook = get_webhook(request, id)
    queued = redelivery.redeliver_failed_since(webhook, payload.since)
    logger.info(
        "Webhook %s: %d failed calls queued again",
        webhook.pk,
        queued,
        extra={"action": "redeliver_failed"},
    )
    return Status(202, {"queued": queued})


# Calls: the webhook logs.


def calls(request: HttpRequest) -> QuerySet[Call]:
    return (
        Call.objects.filter(station=station_of(request))
        .select_related("event", "station")
        .order_by("-id")
    )


def get_call(request: HttpRequest, call_id: uuid.UUID) -> Call:
    call = calls(request).filter(call_id=call_id).first()
    if call is None:
        raise not_found(Call, call_id, field="webhookCallId")
    return call


def render_call(call: Call) -> dict[str, Any]:
    zone = call.station.zone

    def moment(value: Any) -> str | None:
        return None if value is None else render_datetime(value, zone)

    return {
        "webhookCallId": str(call.call_id),
        "webhook_id": call.webhook_id,
        "event": call.event.key,
        "sender_id": call.event.sender_id,
        "status": call.status,
        "attempt_count": call.attempt_count,
        "retry_count": call.retry_count,
        "next_attempt_at": render_datetime(call.next_attempt_at, zone),
        "created_at": render_datetime(call.created_at, zone),
        "last_attempt_at": moment(call.last_attempt_at),
        "last_status_code": call.last_status_code,
        "last_error": call.last_error,
        "delivered_at": moment(call.delivered_at),
    }


def render_attempt(attempt: Attempt, call: Call) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "sent_at": render_datetime(attempt.sent_at, call.station.zone),
        "duration_ms": attempt.duration_ms,
        "request": {
            "method": attempt.request_method,
            "url": attempt.request_url,
            "headers": attempt.request_headers,
            "body": attempt.request_body,
        },
        "response": {
            "status": attempt.response_status,
            "headers": attempt.response_headers,
            "body": attempt.response_body,
        },
        "error": attempt.error,
        "succeeded": attempt.succeeded,
    }


def list_calls(request: HttpRequest, filters: Query[CallFilters]) -> dict[str, Any]:
    """The webhook logs, newest first."""
    queryset = calls(request)
    lookups = {
        "webhook_id": filters.webhook,
        "event__key": filters.event,
        "status": filters.status,
        "event__sender_id": filters.sender_id,
        "created_at__gte": filters.created_after,
        "created_at__lt": filters.created_before,
    }
    queryset = queryset.filter(**{k: v for k, v in lookups.items() if v is not None})
    return paginate(request, queryset, filters, render_call)


def read_call(request: HttpRequest, webhookCallId: Path[uuid.UUID]) -> dict[str, Any]:
    """One call by its webhookCallId, with every attempt at it."""
    call = get_call(request, webhookCallId)
    return {
        **render_call(call),
        "sender": json.loads(call.event.sender),
        "attempts": [render_attempt(a, call) for a in call.attempts.order_by("id")],
    }


def redeliver_call(
    request: HttpRequest, webhookCallId: Path[uuid.UUID]
) -> Status[dict[str, int]]:
    """Send the call again, with the same webhookCallId. ``queued`` is 0
    when a worker is sending it at this moment."""
    call = get_call(request, webhookCallId)
    queued = redelivery.redeliver(Call.objects.filter(pk=call.pk))
    logger.info(
        "Call %s queued again",
        call.call_id,
        extra={"action": "redeliver_call"},
    )
    return Status(202, {"queued": queued})
