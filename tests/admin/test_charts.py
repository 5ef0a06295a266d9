"""The webhook page's chart: hourly buckets and their SVG."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from hookcast.webhooks.charts import HourOfCalls, hours_of_calls, render_chart

NOW = dt.datetime(2020, 3, 18, 6, 41, 56, tzinfo=dt.UTC)
MELBOURNE = ZoneInfo("Australia/Melbourne")


def at(hours_ago: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours_ago)


def test_the_window_is_24_hours_ending_with_the_current_one():
    hours = hours_of_calls(NOW, [], [])

    assert len(hours) == 24
    assert hours[-1].start == dt.datetime(2020, 3, 18, 6, tzinfo=dt.UTC)
    assert hours[0].start == dt.datetime(2020, 3, 17, 7, tzinfo=dt.UTC)
    assert all(h.total == 0 and h.latency_ms is None for h in hours)


@pytest.mark.parametrize(
    ("row", "index", "expected"),
    [
        # In the current hour: the last bucket.
        ((at(0.1), "delivered", 3), -1, HourOfCalls(at(0.1), delivered=3)),
        # Five hours ago, in another time zone: the same instant's bucket.
        (
            (at(5).astimezone(MELBOURNE), "failed", 2),
            -6,
            HourOfCalls(at(5), failed=2),
        ),
        # The oldest hour still in the window.
        ((at(23.6), "pending", 1), 0, HourOfCalls(at(23.6), pending=1)),
    ],
)
def test_counts_land_in_their_hour(row, index, expected):
    hours = hours_of_calls(NOW, [row], [])

    got = hours[index]
    assert (got.delivered, got.failed, got.pending) == (
        expected.delivered,
        expected.failed,
        expected.pending,
    )
    assert sum(h.total for h in hours) == expected.total


def test_rows_outside_the_window_and_unknown_statuses_are_left_out():
    hours = hours_of_calls(
        NOW,
        [(at(25), "delivered", 9), (at(-2), "failed", 9), (at(1), "lost", 9)],
        [(at(30), 100.0)],
    )

    assert sum(h.total for h in hours) == 0
    assert all(h.latency_ms is None for h in hours)


def test_latency_is_kept_per_hour():
    hours = hours_of_calls(NOW, [], [(at(2), 120.5), (at(1), None)])

    assert hours[-3].latency_ms == 120.5
    assert hours[-2].latency_ms is None


def bar_heights(svg: str, status: str) -> list[float]:
    return [
        float(h)
        for h in re.findall(rf'<rect class="{status}" [^>]*height="([\d.]+)"', svg)
    ]


def test_the_svg_stacks_one_bar_per_status_and_draws_the_latency_line():
    hours = hours_of_calls(
        NOW,
        [(at(1), "delivered", 4), (at(1), "failed", 2), (at(0), "pending", 1)],
        [(at(1), 80.0), (at(0), 200.0)],
    )

    svg = render_chart(hours, MELBOURNE)

    assert svg.startswith("<svg") and svg.endswith("</svg>")
    delivered, failed, pending = (
        bar_heights(svg, s) for s in ("delivered", "failed", "pending")
    )
    assert len(delivered) == len(failed) == len(pending) == 1
    # Heights are proportional to the counts.
    assert delivered[0] == pytest.approx(2 * failed[0], rel=0.01)
    assert failed[0] == pytest.approx(2 * pending[0], rel=0.01)
    assert svg.count("<circle") == 2
    assert 'class="latency"' in svg
    assert "4 delivered, 2 failed, 0 pending; mean attempt 80 ms" in svg
    assert (
        'aria-label="Calls in the last 24 hours: 7 (4 delivered, 2 failed, 1 pending)"'
        in svg
    )


def test_hour_labels_are_in_the_stations_time():
    svg = render_chart(hours_of_calls(NOW, [], []), MELBOURNE)

    # 2020-03-17 07:00 UTC is 18:00 in Melbourne (UTC+11 in March).
    assert ">18:00</text>" in svg


def test_an_empty_day_says_so():
    svg = render_chart(hours_of_calls(NOW, [], []), MELBOURNE)

    assert "No calls in the last 24 hours" in svg
    assert "<rect class=" not in svg
    assert "<polyline" not in svg
