"""The webhook page's chart: the last hours of calls, drawn as inline SVG.

Two pure functions, so the chart is tested without a database or a browser:
:func:`hours_of_calls` puts counted rows into hourly buckets, and
:func:`render_chart` draws the buckets: one stacked bar per hour (delivered,
failed, pending calls, by when the call was created) and a line of the mean
attempt duration in that hour, on its own scale at the right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from zoneinfo import ZoneInfo

HOURS = 24  # The chart covers the last day, one bar an hour.

WIDTH_PX = 720
HEIGHT_PX = 210
MARGIN_LEFT_PX = 40
MARGIN_RIGHT_PX = 56  # Room for the latency scale.
MARGIN_TOP_PX = 30  # Room for the legend.
MARGIN_BOTTOM_PX = 26  # Room for the hour labels.
LABEL_EVERY_HOURS = 3

# Colours chosen to be told apart with the common forms of colour blindness,
# and each also named in the legend and in every bar's tooltip.
COLOURS = {
    "delivered": "#1b7f3b",
    "failed": "#c0392b",
    "pending": "#9aa0a6",
    "latency": "#1f5fbf",
}
STATUSES = ("delivered", "failed", "pending")


@dataclass(frozen=True, slots=True)
class HourOfCalls:
    start: dt.datetime  # Aware, on the hour, UTC.
    delivered: int = 0
    failed: int = 0
    pending: int = 0
    latency_ms: float | None = None  # Mean attempt duration; None: no attempt.

    @property
    def total(self) -> int:
        return self.delivered + self.failed + self.pending


def floor_hour(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def hours_of_calls(
    now: dt.datetime,
    status_counts: Iterable[tuple[dt.datetime, str, int]],
    latencies: Iterable[tuple[dt.datetime, float | None]],
    hours: int = HOURS,
) -> list[HourOfCalls]:
    """The ``hours`` hours up to and including ``now``'s, oldest first.

    ``status_counts`` holds (a moment in the hour, call status, how many);
    ``latencies`` (a moment in the hour, mean attempt duration in ms). Rows
    outside the window and unknown statuses are left out.
    """
    last = floor_hour(now)
    starts = [last - dt.timedelta(hours=hours - 1 - i) for i in range(hours)]
    counts: dict[dt.datetime, dict[str, int]] = {s: {} for s in starts}
    for moment, status, count in status_counts:
        bucket = counts.get(floor_hour(moment))
        if bucket is not None and status in STATUSES:
            bucket[status] = bucket.get(status, 0) + count
    means = {
        floor_hour(moment): float(mean)
        for moment, mean in latencies
        if mean is not None
    }
    return [
        HourOfCalls(start, **counts[start], latency_ms=means.get(start))
        for start in starts
    ]


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2 or 5 times 10^n at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 1.0
    while magnitude * 10 < value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # Not reached: the loop ends at 10 times magnitude.


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _tooltip(hour: HourOfCalls, zone: ZoneInfo) -> str:
    start = hour.start.astimezone(zone)
    end = start + dt.timedelta(hours=1)
    latency = (
        f"; mean attempt {hour.latency_ms:.0f} ms"
        if hour.latency_ms is not None
        else ""
    )
    return (
        f"{start:%H:%M} to {end:%H:%M}: {hour.delivered} delivered, "
        f"{hour.failed} failed, {hour.pending} pending{latency}"
    )


def render_chart(hours: Sequence[HourOfCalls], zone: ZoneInfo) -> str:
    """An ``<svg>`` element of ``hours``, its labels in ``zone``'s time."""
    plot_w = WIDTH_PX - MARGIN_LEFT_PX - MARGIN_RIGHT_PX
    plot_h = HEIGHT_PX - MARGIN_TOP_PX - MARGIN_BOTTOM_PX
    bottom = MARGIN_TOP_PX + plot_h
    slot = plot_w / max(len(hours), 1)
    calls_max = _nice_ceiling(max((h.total for h in hours), default=0))
    latency_values = [h.latency_ms for h in hours if h.latency_ms is not None]
    latency_max = _nice_ceiling(max(latency_values, default=0))
    total_calls = sum(h.total for h in hours)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="call-chart" '
        f'width="{WIDTH_PX}" height="{HEIGHT_PX}" '
        f'viewBox="0 0 {WIDTH_PX} {HEIGHT_PX}" role="img" '
        f'aria-label="{escape(_summary(hours, total_calls))}" '
        f'font-family="sans-serif" font-size="11">',
        *_legend(),
        *_axes(plot_w, bottom, calls_max, latency_max, bool(latency_values)),
    ]
    for index, hour in enumerate(hours):
        x = MARGIN_LEFT_PX + index * slot
        parts.append(f"<g><title>{escape(_tooltip(hour, zone))}</title>")
        parts.append(
            f'<rect x="{x:.1f}" y="{MARGIN_TOP_PX}" width="{slot:.1f}" '
            f'height="{plot_h}" fill="transparent"/>'
        )
        top = float(bottom)
        for status in STATUSES:
            count = getattr(hour, status)
            if not count:
                continue
            height = count / calls_max * plot_h
            top -= height
            parts.append(
                f'<rect class="{status}" x="{x + slot * 0.15:.1f}" y="{top:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{height:.1f}" '
                f'fill="{COLOURS[status]}"/>'
            )
        parts.append("</g>")
        if index % LABEL_EVERY_HOURS == 0:
            label = hour.start.astimezone(zone).strftime("%H:%M")
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{bottom + 16}" '
                f'text-anchor="middle" fill="#555">{label}</text>'
            )
    parts.extend(_latency_line(hours, slot, plot_h, bottom, latency_max))
    if not total_calls:
        parts.append(
            f'<text x="{MARGIN_LEFT_PX + plot_w / 2:.1f}" '
            f'y="{MARGIN_TOP_PX + plot_h / 2:.1f}" text-anchor="middle" '
            f'fill="#555">No calls in the last {len(hours)} hours</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _summary(hours: Sequence[HourOfCalls], total_calls: int) -> str:
    delivered = sum(h.delivered for h in hours)
    failed = sum(h.failed for h in hours)
    pending = sum(h.pending for h in hours)
    return (
        f"Calls in the last {len(hours)} hours: {total_calls} "
        f"({delivered} delivered, {failed} failed, {pending} pending)"
    )


def _legend() -> list[str]:
    parts = []
    x = MARGIN_LEFT_PX
    for name in (*STATUSES, "latency"):
        label = "mean attempt duration (ms)" if name == "latency" else name
        if name == "latency":
            parts.append(
                f'<line x1="{x}" y1="11" x2="{x + 14}" y2="11" '
                f'stroke="{COLOURS[name]}" stroke-width="2"/>'
            )
        else:
            parts.append(
                f'<rect x="{x}" y="5" width="12" height="12" fill="{COLOURS[name]}"/>'
            )
        parts.append(f'<text x="{x + 18}" y="15" fill="#333">{label}</text>')
        x += 30 + 7 * len(label)
    return parts


def _axes(
    plot_w: float, bottom: float, calls_max: float, latency_max: float, latency: bool
) -> list[str]:
    right = MARGIN_LEFT_PX + plot_w
    parts = [
        f'<line x1="{MARGIN_LEFT_PX}" y1="{bottom}" x2="{right}" y2="{bottom}" '
        f'stroke="#999"/>',
    ]
    for fraction in (0.5, 1.0):
        y = bottom - fraction * (bottom - MARGIN_TOP_PX)
        parts.append(
            f'<line x1="{MARGIN_LEFT_PX}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
            f'stroke="#e3e3e3"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT_PX - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'fill="#555">{_number(calls_max * fraction)}</text>'
        )
        if latency:
            parts.append(
                f'<text x="{right + 6}" y="{y + 4:.1f}" fill="{COLOURS["latency"]}">'
                f"{_number(latency_max * fraction)} ms</text>"
            )
    parts.append(
        f'<text x="{MARGIN_LEFT_PX - 6}" y="{bottom + 4}" text-anchor="end" '
        f'fill="#555">0</text>'
    )
    return parts


def _latency_line(
    hours: Sequence[HourOfCalls],
    slot: float,
    plot_h: float,
    bottom: float,
    latency_max: float,
) -> list[str]:
    points = [
        (
            MARGIN_LEFT_PX + (index + 0.5) * slot,
            bottom - hour.latency_ms / latency_max * plot_h,
        )
        for index, hour in enumerate(hours)
        if hour.latency_ms is not None
    ]
    if not points:
        return []
    joined = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    parts = [
        f'<polyline class="latency" points="{joined}" fill="none" '
        f'stroke="{COLOURS["latency"]}" stroke-width="2"/>'
    ]
    parts.extend(
        # A white ring keeps a point visible where it falls on a bar.
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{COLOURS["latency"]}" '
        'stroke="#fff" stroke-width="1.5"/>'
        for x, y in points
    )
    return parts
