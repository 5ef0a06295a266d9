"""Idempotent creates: a retried POST with the same ``Idempotency-Key``
creates nothing twice and gets the original response back.

Keys are per station and live for a day, long enough for any client's
retries. The create and the stored key commit together, so a create that
rolls back leaves its key free for the corrected retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from hookcast.stations.models import IdempotencyKey, Station

KEY_LIFETIME = dt.timedelta(hours=24)
# Expired keys are deleted this many at a time (``purge_expired``): they hold
# the responses, listeners' personal data among them.
PURGE_BATCH = 500

Response = tuple[int, Any]


class KeyReused(Exception):
    """The key was first used with a different request."""


def fingerprint(method: str, path: str, payload: object) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def respond(
    station: Station, key: str | None, print_: str, produce: Callable[[], Response]
) -> Response:
    """``produce()``'s response, or the stored one if ``key`` was seen."""
    if key is None:
        return produce()
    try:
        with transaction.atomic():
            stored = _stored(station, key)
            if stored is not None:
                return _replay(stored, print_)
            status, body = produce()
            IdempotencyKey.objects.create(
                station=station,
                key=key,
                fingerprint=print_,
                response_status=status,
                response_body=json.dumps(body),
            )
            return status, body
    except IntegrityError:
        # A concurrent request with the same key committed first; this one
        # rolled back whole, and answers as that one did.
        stored = _stored(station, key)
        if stored is None:
            raise
        return _replay(stored, print_)


def _stored(station: Station, key: str) -> IdempotencyKey | None:
    stored = IdempotencyKey.objects.filter(station=station, key=key).first()
    if stored is not None and stored.created_at < timezone.now() - KEY_LIFETIME:
        stored.delete()
        return None
    return stored


def _replay(stored: IdempotencyKey, print_: str) -> Response:
    if stored.fingerprint != print_:
        raise KeyReused(
            "This Idempotency-Key was already used with a different request; "
            "use a new key for a new request."
        )
    return stored.response_status, json.loads(stored.response_body)


def purge_expired(now: dt.datetime | None = None, *, using: str = "default") -> int:
    """Delete up to ``PURGE_BATCH`` keys older than ``KEY_LIFETIME``; return
    how many were deleted. The delivery worker calls it now and then."""
    before = (now or timezone.now()) - KEY_LIFETIME
    expired = list(
        IdempotencyKey.objects.using(using)
        .filter(created_at__lt=before)
        .order_by("created_at")
        .values_list("id", flat=True)[:PURGE_BATCH]
    )
    if not expired:
        return 0
    IdempotencyKey.objects.using(using).filter(id__in=expired).delete()
    return len(expired)
