"""Fixtures for the delivery tests: a worker in a thread, webhooks pointed at
the HTTPS receiver, and a way to wait for the worker's writes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from hookcast.stations.models import Station
from hookcast.webhooks.models import Call, Webhook
from tests.receiver import Receiver

# Every wait in these tests gives up after this long: far longer than any of
# them needs, so only a real failure runs into it.
WAIT_S = 20.0


@pytest.fixture
def worker(delivery_settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """A worker thread, woken in-process, with short retries and no jitter."""
    from hookcast.delivery.worker import run_worker

    delivery_settings.HOOKCAST_RETRY_SCHEDULE = [0.2, 0.2, 0.2]
    delivery_settings.HOOKCAST_RETRY_JITTER = 0.0
    delivery_settings.HOOKCAST_POLL_INTERVAL_S = 0.2
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            run_worker(stop=stop, in_process_wakeup=True, handle_signals=False)
        except BaseException as exc:  # Reported by the test, not lost.
            failure.append(exc)

    thread = threading.Thread(target=run, name="test-worker")
    thread.start()
    yield
    stop.set()
    thread.join(WAIT_S)
    assert not thread.is_alive(), "the worker did not stop"
    assert not failure, f"the worker crashed: {failure[0]!r}"


def wait_until(check: Callable[[], object], what: str, timeout_s: float = WAIT_S):  # type: ignore[no-untyped-def]
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def settled(call: Call) -> Call:
    """``call`` once the worker has written its final status."""
    return wait_until(
        lambda: Call.objects.exclude(status="pending").filter(pk=call.pk).first(),
        f"call {call.call_id} to be delivered or failed",
    )


def make_webhook(
    station: Station,
    receiver: Receiver,
    event: str,
    path: str = "/hook",
    method: str = "POST",
) -> Webhook:
    return Webhook.objects.create(
        station=station, event=event, endpoint=receiver.url + path, method=method
    )
