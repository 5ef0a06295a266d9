"""What a claim returns and what is written back, shared by every database.

A backend module (``sqlite``, ``postgresql``) supplies the claim itself; the
rest (releasing, renewing leases, writing outcomes back) is the same SQL on
both and lives here. Everything runs in the worker's database process
(``hookcast.delivery.database``); claimed calls and outcomes cross to and
from the sending loop as plain rows (``claimed_row``, ``Outcome.to_row``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hookcast.webhooks.models import CallStatus, Method
from hookcast.webhooks.signing import current_secrets

T = TypeVar("T")

# The columns every claim selects, in the order claimed_row reads them: all
# that sending needs, so no query is made per call.
CLAIM_COLUMNS = """
    c.id, c.call_id, c.webhook_id, c.ordering_key, c.attempt_count,
    c.retry_count,
    w.endpoint, w.method, w.secret, w.previous_secret,
    w.previous_secret_expires_at, e.key, e.sender_id, e.sender,
    s.subdomain, s.timezone
"""

# A call may be sent only when it is due, nobody holds it, its webhook is
# enabled, and no earlier call about the same record for the same webhook is
# still pending (SPEC section 5, "Order"). Parameters: now, now.
CLAIMABLE = """
    c.status = 'pending'
    AND c.next_attempt_at <= %s
    AND (c.leased_until IS NULL OR c.leased_until < %s)
    AND w.enabled
    AND NOT EXISTS (
        SELECT 1 FROM webhooks_call p
        WHERE p.webhook_id = c.webhook_id
          AND p.ordering_key = c.ordering_key
          AND p.status = 'pending'
          AND p.id < c.id
    )
"""

NEXT_DUE = """
    SELECT MIN(next_attempt_at) FROM webhooks_call
    WHERE status = 'pending' AND next_attempt_at > %s
"""

SET_LEASE = "UPDATE webhooks_call SET leased_until = %s WHERE id = %s"

WRITE_CALL = """
    UPDATE webhooks_call
    SET status = %s, attempt_count = attempt_count + 1, retry_count = %s,
        next_attempt_at = %s, leased_until = NULL, last_attempt_at = %s,
        last_status_code = %s, last_error = %s, delivered_at = %s
    WHERE id = %s
"""

# A success resets the webhook's failure streak; later failures in the same
# flush then count from it.
WEBHOOK_SUCCEEDED = """
    UPDATE webhooks_webhook
    SET consecutive_failures = %s, last_success_at = %s, failing_since = %s
    WHERE id = %s
"""

WEBHOOK_FAILED = """
    UPDATE webhooks_webhook
    SET consecutive_failures = consecutive_failures + %s,
        failing_since = COALESCE(failing_since, %s)
    WHERE id = %s
"""

# RFC 9110 section 15.5.11 (410 Gone), SPEC section 5.
DISABLE_WEBHOOK = """
    UPDATE webhooks_webhook
    SET enabled = %s, disabled_reason = %s, disabled_at = %s
    WHERE id = %s AND enabled
"""

GONE_REASON = (
    "Disabled because the endpoint answered 410 Gone: it says it no longer "
    "exists. Change the endpoint or enable the webhook again to resume."
)


# The records below, Payload and retry.Decision are made once or more per
# call in the sending loop, and are never changed once made; they are not
# frozen because a frozen dataclass sets each field through
# object.__setattr__: a ClaimedCall, an AttemptRecord and an Outcome took
# 3.9 us to make frozen and 1.0 us not.
@dataclass(slots=True)
class ClaimedCall:
    """A leased call with everything needed to render, sign and send it."""

    id: int
    call_id: str
    webhook_id: int
    ordering_key: str
    attempt_count: int
    retry_count: int
    endpoint: str
    method: Method
    secret: str
    previous_secret: str
    previous_secret_expires_at: dt.datetime | None
    event_key: str
    sender_id: int
    sender_json: str
    station: str
    timezone: str
    host: str = field(init=False)

    def __post_init__(self) -> None:
        self.host = host_of(self.endpoint)

    def signing_secrets(self, now: dt.datetime) -> list[str]:
        """As ``Webhook.signing_secrets``, from the claimed columns."""
        return current_secrets(
            self.secret, self.previous_secret, self.previous_secret_expires_at, now
        )


def claimed_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """A row of CLAIM_COLUMNS as the fields of ClaimedCall, in order: the
    database process sends these, and the sending loop makes each call with
    ``ClaimedCall(*row)``."""
    (id_, call_id, webhook_id, ordering_key, attempts, retries, endpoint,
     method, secret, previous, expires, key, sender_id, sender, station,
     zone) = row  # fmt: skip
    return (
        id_, canonical_uuid(call_id), webhook_id, ordering_key, attempts,
        retries, endpoint, Method(method), secret, previous or "",
        aware(expires), key, sender_id, sender, station, zone,
    )  # fmt: skip


@dataclass(slots=True)
class AttemptRecord:
    """One request as sent and what came back: a row of webhooks_attempt."""

    sent_at: dt.datetime
    duration_ms: int
    method: str
    url: str
    headers: dict[str, str]
    body: str
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    error: str = ""
    # False when sending again cannot help (a refused address, a GET URL
    # over the limit): the call fails without retries.
    retryable: bool = True

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def summary(self) -> str:
        """What went wrong, for ``Call.last_error``."""
        if self.error:
            return self.error
        if self.succeeded:
            return ""
        return f"The endpoint answered HTTP {self.status}."


class WrittenCall(NamedTuple):
    """What writing an outcome back needs of its call."""

    id: int
    attempt_count: int
    webhook_id: int


@dataclass(slots=True)
class Outcome:
    """What the worker decided about one attempt of a claimed call."""

    call: ClaimedCall | WrittenCall
    attempt: AttemptRecord
    status: CallStatus
    retry_count: int
    next_attempt_at: dt.datetime
    disable_webhook: bool = False

    def to_row(self) -> tuple[Any, ...]:
        """The outcome as the sending loop sends it to be written: only what
        the write-back needs of the call, and no objects but datetimes and
        the header dicts (``from_row`` reads it back)."""
        call, a = self.call, self.attempt
        return (
            call.id, call.attempt_count, call.webhook_id, self.status.value,
            self.retry_count, self.next_attempt_at, self.disable_webhook,
            a.sent_at, a.duration_ms, a.method, a.url, a.headers, a.body,
            a.status, a.response_headers, a.response_body, a.error, a.retryable,
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Outcome:
        (call_id, attempts, webhook_id, status, retries, next_at, disable,
         *attempt) = row  # fmt: skip
        return cls(
            call=WrittenCall(call_id, attempts, webhook_id),
            attempt=AttemptRecord(*attempt),
            status=CallStatus(status),
            retry_count=retries,
            next_attempt_at=next_at,
            disable_webhook=disable,
        )


# Endpoints whose host is kept: a claim's calls mostly share a few.
HOST_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=HOST_CACHE_SIZE)
def host_of(endpoint: str) -> str:
    return urlsplit(endpoint).hostname or ""


def canonical_uuid(value: Any) -> str:
    """A call id as raw SQL reads it (a UUID from PostgreSQL, 32 hex digits
    from SQLite) in its hyphenated form; without parsing it, for SQLite's,
    since every claimed call needs it."""
    if isinstance(value, str) and len(value) == 32:
        value = value.lower()
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(str(value)))


def aware(value: Any) -> dt.datetime | None:
    """A datetime read by raw SQL: SQLite gives naive UTC, as a datetime or as
    text depending on the column's declared type."""
    parsed = parse_datetime(value) if isinstance(value, str) else value
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


class Claimer:
    """Claims due calls and writes their outcomes back, on one database."""

    # Set by each backend: the claim, with ``{excluded}`` where the filter on
    # webhook ids goes, and the attempt insert.
    CLAIM: str = ""
    INSERT_ATTEMPT: str = ""

    def __init__(self, using: str = "default") -> None:
        self.using = using

    @property
    def connection(self) -> BaseDatabaseWrapper:
        return connections[self.using]

    def run(self, job: Callable[..., T], *args: Any) -> T:
        """Run one database job of the worker (in its database process)."""
        return job(*args)

    def param(self, value: dt.datetime | None) -> Any:
        """A datetime as this database's raw SQL expects it."""
        return self.connection.ops.adapt_datetimefield_value(value)

    def claim(
        self,
        now: dt.datetime,
        lease_until: dt.datetime,
        limit: int,
        excluded_webhooks: Collection[int] = (),
    ) -> list[tuple[Any, ...]]:
        """Lease up to ``limit`` due calls, skipping ``excluded_webhooks`` (of
        hosts that are paused or at their in-flight cap): their
        ``claimed_row`` rows."""
        excluded, excluded_params = self.excluded_filter(excluded_webhooks)
        at = self.param(now)
        with transaction.atomic(using=self.using), self.connection.cursor() as c:
            return self.lease(
                c,
                self.CLAIM.format(excluded=excluded),
                [at, at, *excluded_params, limit],
                self.param(lease_until),
            )

    def lease(
        self, cursor: CursorWrapper, claim: str, params: list[Any], until: Any
    ) -> list[tuple[Any, ...]]:
        """Run ``claim`` with ``params`` and lease the calls it selects until
        ``until``, inside the claim's transaction."""
        raise NotImplementedError

    def excluded_filter(self, webhook_ids: Collection[int]) -> tuple[str, list[int]]:
        if not webhook_ids:
            return "", []
        marks = ", ".join(["%s"] * len(webhook_ids))
        return f"AND c.webhook_id NOT IN ({marks})", list(webhook_ids)

    def next_due(self, now: dt.datetime) -> dt.datetime | None:
        """When the next call that is not yet due becomes due."""
        with self.connection.cursor() as cursor:
            cursor.execute(NEXT_DUE, [self.param(now)])
            row = cursor.fetchone()
        return aware(row[0]) if row else None

    def set_lease(self, call_ids: Iterable[int], until: dt.datetime | None) -> None:
        """Extend the lease of calls still held, or clear it (``until`` None)
        to hand calls that were claimed but not sent back to the queue."""
        at = self.param(until)
        rows = [(at, call_id) for call_id in call_ids]
        if rows:
            with transaction.atomic(using=self.using):
                self.execute_rows(SET_LEASE, rows)

    def write_back(self, outcomes: Sequence[Outcome], now: dt.datetime) -> set[int]:
        """Store outcomes, attempts and webhook health in one transaction.

        Returns the webhooks whose last attempt in the batch failed: those
        the endpoint health check looks at.
        """
        if not outcomes:
            return set()
        # Bound once per batch: looking the connection up per value cost as
        # much as the rows themselves.
        adapt = self.connection.ops.adapt_datetimefield_value
        call_rows, attempt_rows = outcome_rows(outcomes, adapt)
        succeeded, failed = webhook_health(outcomes)
        statements = [
            (WRITE_CALL, call_rows),
            (self.INSERT_ATTEMPT, attempt_rows),
            (
                WEBHOOK_SUCCEEDED,
                [
                    (failures, adapt(at), adapt(since), webhook_id)
                    for webhook_id, (at, failures, since) in succeeded.items()
                ],
            ),
            (
                WEBHOOK_FAILED,
                [
                    (failures, adapt(since), webhook_id)
                    for webhook_id, (failures, since) in failed.items()
                ],
            ),
            (
                DISABLE_WEBHOOK,
                [
                    (False, GONE_REASON, adapt(now), o.call.webhook_id)
                    for o in outcomes
                    if o.disable_webhook
                ],
            ),
        ]
        # No savepoint: the worker already wraps this in its transaction.
        with transaction.atomic(using=self.using, savepoint=False):
            for sql, rows in statements:
                if rows:
                    self.execute_rows(sql, rows)
        return set(failed) | {
            webhook_id for webhook_id, (_, n, _) in succeeded.items() if n
        }

    def execute_rows(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run ``sql`` once for each of ``rows``, inside a transaction."""
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def repeats_a_call(sql: str, rows: Sequence[tuple[Any, ...]]) -> bool:
    """Whether WRITE_CALL ``rows`` hold a call twice: those must run a row at
    a time, in order, where one statement for all rows would apply one of
    them. (Its rows end with the call's id.)"""
    return sql == WRITE_CALL and len({row[-1] for row in rows}) < len(rows)


def outcome_rows(
    outcomes: Sequence[Outcome], adapt: Callable[[dt.datetime | None], Any]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The WRITE_CALL and INSERT_ATTEMPT rows of ``outcomes``, with datetimes
    as ``adapt`` gives them to the database.

    The hottest loop of the database process, so each attempt's time is
    converted once for the three columns that hold it.
    """
    call_rows = []
    attempt_rows = []
    dumps = json.dumps
    delivered_status = CallStatus.DELIVERED
    for outcome in outcomes:
        attempt, call = outcome.attempt, outcome.call
        sent_at = adapt(attempt.sent_at)
        next_at = (
            sent_at
            if outcome.next_attempt_at is attempt.sent_at
            else adapt(outcome.next_attempt_at)
        )
        call_rows.append(
            (
                outcome.status.value,
                outcome.retry_count,
                next_at,
                sent_at,
                attempt.status,
                attempt.summary,
                sent_at if outcome.status is delivered_status else None,
                call.id,
            )
        )
        attempt_rows.append(
            (
                call.id,
                call.attempt_count + 1,
                sent_at,
                attempt.duration_ms,
                attempt.method,
                attempt.url,
                dumps(attempt.headers),
                attempt.body,
                attempt.status,
                dumps(attempt.response_headers),
                attempt.response_body,
                attempt.error,
                attempt.succeeded,
            )
        )
    return call_rows, attempt_rows


INSERT_ATTEMPT_COLUMNS = """
    INSERT INTO webhooks_attempt (
        call_id, number, sent_at, duration_ms, request_method, request_url,
        request_headers, request_body, response_status, response_headers,
        response_body, error, succeeded
    )
"""


def webhook_health(
    outcomes: Sequence[Outcome],
) -> tuple[
    dict[int, tuple[dt.datetime, int, dt.datetime | None]],
    dict[int, tuple[int, dt.datetime]],
]:
    """Fold a batch into per-webhook health changes, in the order sent.

    Returns, for webhooks with a success, (last success, failures after it,
    first failure after it); for webhooks with failures only, (failures,
    first failure).
    """
    succeeded: dict[int, tuple[dt.datetime, int, dt.datetime | None]] = {}
    failed: dict[int, tuple[int, dt.datetime]] = {}
    for outcome in sorted(outcomes, key=lambda o: o.attempt.sent_at):
        webhook_id, at = outcome.call.webhook_id, outcome.attempt.sent_at
        if outcome.attempt.succeeded:
            succeeded[webhook_id] = (at, 0, None)
            failed.pop(webhook_id, None)
        elif webhook_id in succeeded:
            last, failures, since = succeeded[webhook_id]
            succeeded[webhook_id] = (last, failures + 1, since or at)
        else:
            failures, first = failed.get(webhook_id, (0, at))
            failed[webhook_id] = (failures + 1, first)
    return succeeded, failed
