"""The retry policy as a table: outcome and position in, decision out."""

from __future__ import annotations

import datetime as dt

import pytest

from hookcast.delivery.retry import Verdict, decide, retry_after_seconds

NOW = dt.datetime(2026, 3, 18, 6, 41, 56, tzinfo=dt.UTC)
SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]
HTTP_DATE_IN_10_MIN = "Wed, 18 Mar 2026 06:51:56 GMT"
HTTP_DATE_IN_2_DAYS = "Fri, 20 Mar 2026 06:41:56 GMT"


def at_edge(low: float, high: float) -> float:
    """A random source that always picks the top of the jitter range."""
    return high


def at_bottom(low: float, high: float) -> float:
    return low


def centred(low: float, high: float) -> float:
    return 0.0


@pytest.mark.parametrize(
    ("status", "retry_after", "retryable", "retry_count", "uniform", "expected"),
    [
        # Any 2xx is a delivery, whatever came before.
        (200, None, True, 0, centred, (Verdict.DELIVERED, None)),
        (204, None, True, 6, centred, (Verdict.DELIVERED, None)),
        # The first failure waits the first step of the schedule.
        (500, None, True, 0, centred, (Verdict.RETRY, 5)),
        # No response at all (None) is retried like a 5xx.
        (None, None, True, 1, centred, (Verdict.RETRY, 300)),
        # A redirect is a failure, retried on schedule.
        (302, None, True, 2, centred, (Verdict.RETRY, 1800)),
        # Jitter moves the delay by up to +20 %...
        (500, None, True, 3, at_edge, (Verdict.RETRY, 7200 * 1.2)),
        # ...and by up to -20 %.
        (500, None, True, 4, at_bottom, (Verdict.RETRY, 18000 * 0.8)),
        # The seventh failure waits the last step: the eighth attempt follows.
        (503, None, True, 6, centred, (Verdict.RETRY, 36000)),
        # After the eighth attempt the call is given up.
        (500, None, True, 7, centred, (Verdict.FAILED, None)),
        # A refused address or an over-long GET URL fails at once.
        (None, None, False, 0, centred, (Verdict.FAILED, None)),
        # 410 Gone disables the webhook, even on the first attempt.
        (410, None, True, 0, centred, (Verdict.DISABLE, None)),
        # Retry-After in delta-seconds on 429 is waited out...
        (429, "120", True, 0, centred, (Verdict.RETRY, 120)),
        # ...and as an HTTP-date on 503.
        (503, HTTP_DATE_IN_10_MIN, True, 0, centred, (Verdict.RETRY, 600)),
        # Never sooner than the schedule says.
        (429, "1", True, 2, centred, (Verdict.RETRY, 1800)),
        # Never later than a day.
        (503, HTTP_DATE_IN_2_DAYS, True, 0, centred, (Verdict.RETRY, 86400)),
        (429, "999999", True, 0, centred, (Verdict.RETRY, 86400)),
        # Retry-After on other statuses is ignored (RFC 9110 10.2.3).
        (500, "120", True, 0, centred, (Verdict.RETRY, 5)),
        # A Retry-After that is neither form is ignored.
        (429, "soon", True, 0, centred, (Verdict.RETRY, 5)),
        # Retry-After does not outlive the schedule.
        (429, "60", True, 7, centred, (Verdict.FAILED, None)),
    ],
)
def test_decision(status, retry_after, retryable, retry_count, uniform, expected):  # type: ignore[no-untyped-def]
    decision = decide(
        status=status,
        retry_after=retry_after,
        retryable=retryable,
        retry_count=retry_count,
        schedule=SCHEDULE,
        jitter=0.2,
        now=NOW,
        uniform=uniform,
    )

    verdict, delay_s = expected
    assert decision.verdict is verdict
    if delay_s is None:
        assert decision.next_attempt_at is None
        assert decision.retry_count == retry_count
    else:
        assert decision.next_attempt_at == NOW + dt.timedelta(seconds=delay_s)
        assert decision.retry_count == retry_count + 1


def test_default_schedule_gives_eight_attempts_over_about_28_hours(settings):  # type: ignore[no-untyped-def]
    schedule = settings.HOOKCAST_RETRY_SCHEDULE
    assert len(schedule) + 1 == 8
    assert sum(schedule) / 3600 == pytest.approx(28, abs=0.5)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        (" 30 ", 30.0),
        (HTTP_DATE_IN_10_MIN, 600.0),
        # A date in the past asks for no wait.
        ("Tue, 17 Mar 2026 06:41:56 GMT", 0.0),
        ("-5", None),
        ("", None),
    ],
)
def test_retry_after_forms(value: str, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds
