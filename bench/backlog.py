"""Filling a backlog of calls and timing a worker as it drains it.

Used by the benchmarks after ``django.setup()``; calls are inserted in bulk
(events and calls are not records, so bulk writes are theirs to use).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.db.models import Max, Min, QuerySet
from sample import SENDER

from hookcast.stations.models import Station
from hookcast.webhooks.models import Call, CallStatus, Event, Webhook

CHUNK = 5000
DRAIN_TIMEOUT_S = 900


def station() -> Station:
    found, _ = Station.objects.get_or_create(
        subdomain="developerfm",
        defaults={"name": "Developer FM", "timezone": "Australia/Melbourne"},
    )
    return found


def listener_webhooks(station: Station, count: int) -> QuerySet[Webhook]:
    """``count`` webhooks of ``station`` subscribed to Listener.updated, to
    endpoints nothing is sent to: for measuring what a save costs."""
    return Webhook.objects.filter(
        pk__in=[
            Webhook.objects.create(
                station=station,
                event="Listener.updated",
                endpoint=f"https://app{i}.example/hook",
            ).pk
            for i in range(count)
        ]
    )


def fill(webhook: Webhook, calls: int) -> None:
    """``calls`` pending calls for ``webhook``, each about its own record."""
    sender = json.dumps(SENDER)
    for start in range(0, calls, CHUNK):
        size = min(CHUNK, calls - start)
        events = Event.objects.bulk_create(
            Event(
                station_id=webhook.station_id,
                key=webhook.event,
                sender_id=start + i,
                sender=sender,
            )
            for i in range(size)
        )
        Call.objects.bulk_create(
            Call(
                station_id=webhook.station_id,
                webhook=webhook,
                event=event,
                ordering_key=f"Listener:{event.sender_id}",
            )
            for event in events
        )


def drain(pending: QuerySet[Call], worker_env: dict[str, str] | None = None) -> None:
    """Run ``hookcast worker`` until none of ``pending`` is pending."""
    env = worker_env or os.environ.copy()
    # The worker's log goes to a file beside the data, not over the figures.
    log = (Path(env.get("HOOKCAST_DATA_DIR", ".")) / "worker.log").open("ab")
    worker = subprocess.Popen(["hookcast", "worker"], env=env, stderr=log)
    try:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while pending.filter(status=CallStatus.PENDING).exists():
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited with {worker.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the backlog was not drained in {DRAIN_TIMEOUT_S} s"
                )
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def delivery_rate(webhooks: Sequence[Webhook]) -> tuple[int, float]:
    """Calls delivered to ``webhooks`` and their rate, first to last delivery."""
    delivered = Call.objects.filter(webhook__in=webhooks, status=CallStatus.DELIVERED)
    span: dict[str, Any] = delivered.aggregate(
        first=Min("delivered_at"), last=Max("delivered_at")
    )
    count = delivered.count()
    if count < 2:
        return count, 0.0
    return count, (count - 1) / (span["last"] - span["first"]).total_seconds()
