"""Stations (tenants), the staff who belong to them, and their API keys.

Every record, webhook, call and API key belongs to exactly one station
(SPEC section 1). This module knows nothing of records or webhooks.
"""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone as django_timezone

API_KEY_PREFIX = "hck_"
API_KEY_BYTES = 32  # 256 bits: a key cannot be guessed, so a fast hash will do.


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "%(value)s is not an IANA time zone name (for example "
            "Australia/Melbourne).",
            params={"value": value},
            code="invalid_timezone",
        )


class StationQuerySet(models.QuerySet["Station"]):
    def visible_to(self, user: Any) -> StationQuerySet:
        """The stations a user may see: all for a superuser, else their own."""
        if getattr(user, "is_superuser", False):
            return self
        return self.filter(memberships__user=user)


class Station(models.Model):
    subdomain = models.CharField(
        max_length=63,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
                "A subdomain has lower-case letters, digits and inner hyphens.",
            )
        ],
        help_text="Sent as the station field of every webhook call.",
    )
    name = models.CharField(max_length=200)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA name; every datetime in a call is rendered in it.",
    )
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    objects = StationQuerySet.as_manager()

    class Meta:
        ordering = ["subdomain"]

    def __str__(self) -> str:
        return self.subdomain

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Membership(models.Model):
    """A staff user's access to one station."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "station"], name="unique_membership"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.station}"


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A station's key for the REST API. Only its SHA-256 hash is stored."""

    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="The key's first characters."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @classmethod
    def issue(cls, station: Station, name: str = "") -> tuple[ApiKey, str]:
        """Create a key and return it with its raw value, shown only this once."""
        raw = API_KEY_PREFIX + secrets.token_urlsafe(API_KEY_BYTES)
        key = cls.objects.create(
            station=station,
            name=name,
            prefix=raw[:12],
            key_hash=hash_api_key(raw),
        )
        return key, raw

    @classmethod
    def authenticate(cls, raw: str) -> ApiKey | None:
        """The active key whose hash matches ``raw``, its use recorded."""
        key = (
            cls.objects.active()
            .select_related("station")
            .filter(key_hash=hash_api_key(raw))
            .first()
        )
        if key is None:
            return None
        now = django_timezone.now()
        # Written at most once a minute, so a busy client does not turn every
        # request into a write.
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            cls.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return key

    def revoke(self) -> None:
        self.revoked_at = django_timezone.now()
        self.save(update_fields=["revoked_at"])


class IdempotencyKey(models.Model):
    """A create request made with an ``Idempotency-Key`` header, and the
    response it got, so that a retry replays that response instead of
    creating twice (as Stripe's API does)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another
    # request is a client's mistake, refused rather than replayed.
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(default=django_timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["station", "key"], name="unique_idempotency_key"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return self.key
