"""When a failed call is tried again, or whether it is given up (SPEC section 5).

Each decision is a small pure function of the outcome, the call's position in
the retry schedule, the schedule, the jitter, a random source and the time, so
the whole policy is pinned down by one table of tests.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# RFC 9110 section 10.2.3: Retry-After is honoured on these statuses only.
RETRY_AFTER_STATUSES = frozenset({429, 503})
# However long a receiver asks us to wait, a call is tried again within a day,
# so a wrong header cannot park it for good.
MAX_RETRY_AFTER_S = 24 * 60 * 60
# RFC 9110 section 15.5.11: the resource is gone for good, so the webhook is
# disabled rather than retried.
GONE = 410

Uniform = Callable[[float, float], float]


class Verdict(enum.Enum):
    DELIVERED = "delivered"  # A 2xx: the call is done.
    RETRY = "retry"  # Tried again at ``Decision.next_attempt_at``.
    FAILED = "failed"  # Given up: attempts exhausted or refused for good.
    DISABLE = "disable"  # 410 Gone: the call fails and its webhook is disabled.


@dataclass(slots=True)
class Decision:
    verdict: Verdict
    next_attempt_at: dt.datetime | None = None
    retry_count: int = 0  # The call's position in the schedule after this.


def is_success(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def decide(
    *,
    status: int | None,
    retry_after: str | None,
    retryable: bool,
    retry_count: int,
    schedule: Sequence[float],
    jitter: float,
    now: dt.datetime,
    uniform: Uniform = random.uniform,
) -> Decision:
    """What follows an attempt answered with ``status`` (None: no response).

    ``retry_count`` is the number of failures since the call was last queued;
    ``retryable`` is False when trying again cannot help (the address is
    refused, the GET URL is too long).
    """
    if is_success(status):
        return Decision(Verdict.DELIVERED, retry_count=retry_count)
    if status == GONE:
        return Decision(Verdict.DISABLE, retry_count=retry_count)
    if not retryable or retry_count >= len(schedule):
        return Decision(Verdict.FAILED, retry_count=retry_count)
    delay_s = jittered(schedule[retry_count], jitter, uniform)
    if status in RETRY_AFTER_STATUSES and retry_after is not None:
        asked_s = retry_after_seconds(retry_after, now)
        if asked_s is not None:
            delay_s = min(max(asked_s, delay_s), MAX_RETRY_AFTER_S)
    return Decision(
        Verdict.RETRY,
        next_attempt_at=now + dt.timedelta(seconds=delay_s),
        retry_count=retry_count + 1,
    )


def jittered(delay_s: float, jitter: float, uniform: Uniform) -> float:
    """``delay_s`` moved by up to ``jitter`` (0.2: ±20 %), so the calls that
    failed together during an outage do not all come back at once."""
    return max(0.0, delay_s * (1 + uniform(-jitter, jitter)))


def retry_after_seconds(value: str, now: dt.datetime) -> float | None:
    """The wait a ``Retry-After`` value asks for (RFC 9110 section 10.2.3):
    delta-seconds or an HTTP-date. None when it is neither."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # An HTTP-date is always GMT (RFC 9110 5.6.7).
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())
