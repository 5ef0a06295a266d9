"""Webhooks, the calls they make and every attempt at each call.

Webhook  a station's subscription of one endpoint to one event key
Event    one record change, with the record as it stood then
Call     one event for one webhook; its call_id is the webhookCallId
Attempt  one HTTP request of a call and what came back
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from hookcast.records.registry import event_keys
from hookcast.stations.models import Station
from hookcast.webhooks.signing import current_secrets, generate_secret
from hookcast.webhooks.validation import MAX_ENDPOINT_LENGTH, validate_endpoint

# How long the secret before a rotation keeps signing (issue: admin panel).
PREVIOUS_SECRET_LIFETIME = dt.timedelta(hours=24)


def validate_event_key(value: str) -> None:
    if value not in event_keys():
        raise ValidationError(
            "%(value)s is not an event key; choose one of %(keys)s.",
            params={"value": value, "keys": ", ".join(event_keys())},
            code="unknown_event",
        )


class Method(models.TextChoices):
    POST = "POST", "POST: the payload as a JSON body"
    GET = "GET", "GET: the payload as URL parameters"


class WebhookQuerySet(models.QuerySet["Webhook"]):
    def subscribed(self, station_id: int, event_key: str) -> WebhookQuerySet:
        return self.filter(station_id=station_id, event=event_key, enabled=True)


class Webhook(models.Model):
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="webhooks"
    )
    event = models.CharField(
        max_length=100,
        validators=[validate_event_key],
        help_text="The event that triggers the webhook, e.g. Listener.updated.",
    )
    endpoint = models.CharField(
        max_length=MAX_ENDPOINT_LENGTH,
        validators=[validate_endpoint],
        help_text="The https:// URL the call is sent to.",
    )
    method = models.CharField(max_length=4, choices=Method.choices, default=Method.POST)
    enabled = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, default=generate_secret, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    # Endpoint health (SPEC section 5), written by the delivery worker.
    disabled_reason = models.TextField(blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The first failure after the last success.",
    )

    objects = WebhookQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["station", "event", "enabled"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_host}"

    @property
    def endpoint_host(self) -> str:
        return urlsplit(self.endpoint).hostname or ""

    def signing_secrets(self, now: dt.datetime | None = None) -> list[str]:
        """The secrets that sign a call now: the current one, and the
        previous one for a day after a rotation."""
        return current_secrets(
            self.secret,
            self.previous_secret,
            self.previous_secret_expires_at,
            now or timezone.now(),
        )

    def rotate_secret(self) -> str:
        """Replace the secret; the old one keeps signing for 24 hours."""
        self.previous_secret = self.secret
        self.previous_secret_expires_at = timezone.now() + PREVIOUS_SECRET_LIFETIME
        self.secret = generate_secret()
        self.save(
            update_fields=[
                "previous_secret",
                "previous_secret_expires_at",
                "secret",
                "updated_at",
            ]
        )
        return self.secret

    def clear_health(self) -> None:
        """Start an enabled-again webhook's health afresh, so the days of
        failures that disabled it do not disable it again at the next one."""
        self.disabled_reason = ""
        self.disabled_at = None
        self.consecutive_failures = 0
        self.failing_since = None

    def disable(self, reason: str) -> None:
        self.enabled = False
        self.disabled_reason = reason
        self.disabled_at = timezone.now()
        self.save(
            update_fields=["enabled", "disabled_reason", "disabled_at", "updated_at"]
        )


class Event(models.Model):
    """One record change, with the record's representation as it committed."""

    # No index of its own: events are reached through their calls, and a
    # station is deleted rarely enough to scan for its events.
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=100, help_text="e.g. Listener.updated")
    sender_id = models.BigIntegerField()
    # The JSON text of the record's representation, stored once per event and
    # spliced into each call's body as it is.
    sender = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.key} #{self.sender_id}"


class CallStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # Waiting for its first or next attempt.
    DELIVERED = "delivered", "Delivered"  # An attempt was answered with a 2xx.
    FAILED = "failed", "Failed"  # Given up: attempts exhausted or refused for good.


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def unix_millis(at: dt.datetime) -> int:
    """The millisecond of ``at`` that a call id made at ``at`` carries."""
    return (at - EPOCH) // dt.timedelta(milliseconds=1)


def new_call_id(at: dt.datetime | None = None) -> uuid.UUID:
    """A fresh webhookCallId: a version 7 UUID (RFC 9562), 48 bits of the
    time in milliseconds (``at``, else now) and 74 random bits.

    Time-ordered, so the calls of one change land side by side in the
    call_id index instead of on random pages of it: with version 4 ids, a
    save with three webhooks wrote three index pages where one now does.
    The captures of record changes make them in SQL the same way: the
    PostgreSQL function of migration ``webhooks/0005``, and the SQLite
    statement of ``capture.py``.
    """
    millis = time.time_ns() // 1_000_000 if at is None else unix_millis(at)
    value = millis << 80 | int.from_bytes(os.urandom(10))
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # variant 10 (RFC 9562)
    return uuid.UUID(int=value)


class Call(models.Model):
    """One event for one webhook, retried until it lands or is given up."""

    call_id = models.UUIDField(
        "webhookCallId", default=new_call_id, unique=True, editable=False
    )
    # Indexed by call_station_time below, which leads with the station.
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="calls")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="calls")
    # Calls with the same webhook and ordering key go out in commit order:
    # "RecordName:sender_id".
    ordering_key = models.CharField(max_length=120)
    status = models.CharField(
        max_length=10, choices=CallStatus.choices, default=CallStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    # Failures since the last (re)delivery: the position in the retry schedule.
    retry_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Set while a worker owns the call; past it, another worker may claim it.
    leased_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="call_due",
                condition=models.Q(status="pending"),
            ),
            # The record, then the id: the calls of one change are appended
            # side by side, to one page of this index, not one per webhook.
            models.Index(
                fields=["ordering_key", "id", "webhook"],
                name="call_order",
                condition=models.Q(status="pending"),
            ),
            # Retention goes by id, which grows with created_at, so no index
            # of its own on created_at (each index is a page per change).
            models.Index(fields=["station", "created_at"], name="call_station_time"),
        ]

    def __str__(self) -> str:
        return str(self.call_id)


class Attempt(models.Model):
    """One request of a call, exactly as sent, and its outcome."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    sent_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    request_method = models.CharField(max_length=4)
    request_url = models.TextField()
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True, help_text="The first 16 KiB.")
    error = models.TextField(blank=True, help_text="Why no response was had.")
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["call", "number"]
        # Not unique: a call whose lease ran out while its worker was stalled
        # may be attempted twice under one number, and both are kept.
        indexes = [models.Index(fields=["call", "number"], name="attempt_call")]

    def __str__(self) -> str:
        return f"Attempt {self.number}"
