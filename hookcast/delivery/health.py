"""Endpoint health: a webhook whose every attempt has failed for five days is
disabled, with the reason shown (SPEC section 5, "Endpoint health").

The worker keeps ``Webhook.failing_since`` (the first failure after the last
success) as it writes outcomes back, and passes the webhooks that just failed
to ``disable_failing_webhooks``. Disabling stops new calls from being
created for the webhook; its station sees why in the admin and the API, and
can enable it again once the endpoint is fixed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Case, TextField, Value, When

from hookcast.webhooks.models import Webhook

logger = logging.getLogger(__name__)

# Long enough to ride out a weekend outage and most of the retry schedule
# (about 28 hours), as Stripe and GitHub do before they give up on an
# endpoint.
FAILING_FOR_DAYS = 5


def disable_failing_webhooks(
    webhook_ids: Iterable[int], now: dt.datetime, *, using: str = "default"
) -> list[int]:
    """Disable each of ``webhook_ids`` that is enabled and has failed since
    at least ``FAILING_FOR_DAYS`` before ``now``; return the ids disabled."""
    ids = set(webhook_ids)
    if not ids:
        return []
    cutoff = now - dt.timedelta(days=FAILING_FOR_DAYS)

    with transaction.atomic(using=using):
        # Locked, so that a success written back meanwhile waits for this
        # transaction instead of being overtaken by it.
        failing = list(
            Webhook.objects.using(using)
            .select_for_update(of=("self",))
            .filter(pk__in=ids, enabled=True, failing_since__lte=cutoff)
            .order_by("pk")
            .values_list("pk", "failing_since", "last_success_at", "station__timezone")
        )
        if not failing:
            return []
        reasons: dict[int, str] = {}
        for pk, failing_since, last_success_at, tz in failing:
            assert failing_since is not None  # The filter above saw to it.
            reasons[pk] = disabled_reason(
                now, failing_since, last_success_at, ZoneInfo(tz)
            )
        Webhook.objects.using(using).filter(pk__in=reasons).update(
            enabled=False,
            disabled_reason=Case(
                *(When(pk=pk, then=Value(reason)) for pk, reason in reasons.items()),
                output_field=TextField(),
            ),
            disabled_at=now,
            updated_at=now,
        )

    for pk, reason in reasons.items():
        logger.warning(
            "Disabled webhook %s: %s",
            pk,
            reason,
            extra={"action": "webhook_disabled", "webhook_id": pk},
        )
    return list(reasons)


def disabled_reason(
    now: dt.datetime,
    failing_since: dt.datetime,
    last_success_at: dt.datetime | None,
    tz: ZoneInfo,
) -> str:
    """The sentence shown with a disabled webhook, dates in station time."""

    def day(moment: dt.datetime) -> str:
        return moment.astimezone(tz).date().isoformat()

    if last_success_at is not None:
        since = f"no call has succeeded since {day(last_success_at)}"
    else:
        since = (
            f"every attempt has failed since the first failure on {day(failing_since)}"
        )
    return (
        f"Disabled automatically on {day(now)}: {since}, for "
        f"{FAILING_FOR_DAYS} days or more; enable the webhook again once the "
        "endpoint answers with a 2xx status."
    )
