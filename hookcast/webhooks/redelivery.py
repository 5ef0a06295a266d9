"""Sending calls again (SPEC section 5, "Redelivery").

A redelivered call keeps its webhookCallId, so a receiver that already has it
can tell; it starts the retry schedule afresh and keeps its earlier attempts.
Used by the admin's actions and the API alike.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from hookcast.webhooks import wakeup
from hookcast.webhooks.models import Call, CallStatus, Webhook


def redeliver(calls: QuerySet[Call]) -> int:
    """Queue ``calls`` to be sent again now; returns how many were queued.

    A call that a worker is sending right now is left to that worker.
    """
    now = timezone.now()
    with transaction.atomic(using=calls.db):
        count = calls.filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=now)
        ).update(
            status=CallStatus.PENDING,
            retry_count=0,
            next_attempt_at=now,
            leased_until=None,
            delivered_at=None,
        )
        if count:
            wakeup.calls_added(calls.db)
    return count


def redeliver_failed_since(webhook: Webhook, since: dt.datetime) -> int:
    """Queue every failed call of ``webhook`` created at or after ``since``."""
    return redeliver(
        Call.objects.filter(
            webhook=webhook, status=CallStatus.FAILED, created_at__gte=since
        )
    )
