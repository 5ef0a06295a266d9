"""Retention: calls older than the retention period are purged in batches
(SPEC section 5, "Log").

Each batch is one short transaction that deletes the oldest calls, their
attempts, and the events no call refers to any more, so the purge never
holds locks for long beside the worker's writes. The worker purges a batch
now and then; ``hookcast purge`` (``main``) purges everything due at once.

A call a worker holds right now (its lease has not run out) is left for a
later batch: deleting it would make that worker's write-back fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Callable
from typing import TextIO

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from hookcast.webhooks.models import Attempt, Call, Event

logger = logging.getLogger(__name__)

# Small enough that a batch holds its locks for milliseconds, large enough
# that a month of calls is purged in reasonable time.
BATCH_SIZE = 500


def purge_batch(
    before: dt.datetime, batch_size: int = BATCH_SIZE, *, using: str = "default"
) -> int:
    """Delete up to ``batch_size`` of the oldest calls created before
    ``before``, their attempts, and the events left without calls; return
    how many calls were deleted."""
    now = timezone.now()
    with transaction.atomic(using=using):
        batch = list(
            created_before(before, using)
            # A call being claimed this moment is skipped, not waited for.
            .select_for_update(skip_locked=True, of=("self",))
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .order_by("id")
            .values_list("id", "event_id")[:batch_size]
        )
        if not batch:
            return 0
        call_ids = [call_id for call_id, _ in batch]
        # Their attempts go with them (on_delete=CASCADE). Only the ids are
        # loaded to delete by, not the rows.
        _, deleted = (
            Call.objects.using(using).filter(id__in=call_ids).only("id").delete()
        )
        events = _delete_orphan_events(
            before, max(event_id for _, event_id in batch), batch_size, using
        )

    logger.info(
        "Purged %d calls created before %s, %d attempts and %d events",
        len(call_ids),
        before.isoformat(),
        deleted.get(Attempt._meta.label, 0),
        events,
        extra={"action": "calls_purged"},
    )
    return len(call_ids)


def created_before(before: dt.datetime, using: str = "default") -> QuerySet[Call]:
    """The calls created before ``before``, found by id.

    Ids grow with creation time, so these calls are the ones below the
    oldest call created since, found in a few steps of a binary search over
    the primary key; created_at has no index, which would cost every
    captured change a page write.
    """
    calls = Call.objects.using(using)
    first = calls.order_by("id").values_list("id", "created_at").first()
    last = calls.order_by("-id").values_list("id", flat=True).first()
    if first is None or last is None or first[1] >= before:
        return calls.none()
    # Invariant: the first call at or after id ``low`` was created before
    # ``before``; the first at or after ``high``, if any, was not.
    low, high = first[0], last + 1
    while high - low > 1:
        middle = (low + high) // 2
        found = (
            calls.filter(id__gte=middle).order_by("id").values_list("created_at")
        ).first()
        if found is not None and found[0] < before:
            low = middle
        else:
            high = middle
    # created_at is still checked: a call committed a moment out of id
    # order is left for a later purge rather than purged early.
    return calls.filter(id__lt=high, created_at__lt=before)


def _delete_orphan_events(
    before: dt.datetime, up_to_id: int, limit: int, using: str
) -> int:
    """Delete events up to ``up_to_id`` that no call refers to: those of the
    calls just purged, and any older ones whose webhook was deleted.

    Bounding the scan by id keeps it short: calls go oldest first, so little
    below the newest purged event is left.
    """
    orphans = (
        Event.objects.using(using)
        .filter(id__lte=up_to_id, created_at__lt=before)
        .filter(~Exists(Call.objects.filter(event_id=OuterRef("id"))))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    # Listed first: a DELETE whose subquery has a LIMIT is not portable.
    ids = list(orphans)
    if not ids:
        return 0
    deleted, _ = Event.objects.using(using).filter(id__in=ids).only("id").delete()
    return deleted


def purge(
    before: dt.datetime,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Purge batch after batch until no call created before ``before`` is
    left; ``progress`` is told the number purged so far after each batch.
    Returns the number of calls purged."""
    total = 0
    while True:
        purged = purge_batch(before, batch_size)
        total += purged
        if progress is not None:
            progress(total)
        if purged < batch_size:
            return total


class ProgressBar:
    """A text bar redrawn in place on a terminal; in a log, a line each time
    another tenth is done, so the log stays readable."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.redraw = stream.isatty()
        self._tenths = 0

    def update(self, done: int) -> None:
        if self.total <= 0:
            return
        # More calls may come of age while the purge runs.
        fraction = min(done / self.total, 1.0)
        if self.redraw:
            filled = round(fraction * self.WIDTH)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {fraction:4.0%} {done}/{self.total} calls")
        elif int(fraction * 10) > self._tenths:
            self._tenths = int(fraction * 10)
            self.stream.write(f"{self._tenths * 10}% {done}/{self.total} calls\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.redraw and self.total > 0:
            self.stream.write("\n")
            self.stream.flush()


def main(argv: list[str]) -> int:
    """``hookcast purge [--days N] [--batch-size N] [--dry-run]``."""
    parser = argparse.ArgumentParser(
        prog="hookcast purge",
        description=(
            "Delete the webhook calls older than the retention period, with "
            "their attempts and events."
        ),
    )
    parser.add_argument(
        "--days",
        type=_whole_number(0),
        default=settings.HOOKCAST_RETENTION_DAYS,
        help="keep the calls of the last N days (default: HOOKCAST_RETENTION_DAYS, "
        "%(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=_whole_number(1),
        default=BATCH_SIZE,
        help="calls deleted per transaction (default: %(default)s)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="count the calls that would be purged, and delete nothing",
    )
    args = parser.parse_args(argv)

    before = timezone.now() - dt.timedelta(days=args.days)
    due = created_before(before).count()
    when = f"{before:%Y-%m-%d %H:%M} UTC"
    if args.dry_run:
        print(f"{_calls(due)} created before {when} would be purged.")
        return 0

    bar = ProgressBar(due, sys.stderr)
    purged = purge(before, args.batch_size, bar.update)
    bar.finish()
    purged_before = f"Purged {_calls(purged)} created before {when}"
    print(f"{purged_before}, with their attempts and events.")
    return 0


def _calls(count: int) -> str:
    return f"{count} call" if count == 1 else f"{count} calls"


def _whole_number(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if number < minimum:
            raise argparse.ArgumentTypeError(
                f"expected a whole number, {minimum} or more, got {value!r}"
            )
        return number

    return parse
