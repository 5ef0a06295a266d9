"""What only PostgreSQL offers: a NOTIFY wake-up across processes, several
workers sharing the queue, and autovacuum settings for the call table."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import connection

from hookcast.records.models import Listener
from hookcast.webhooks.models import Call
from tests.delivery.conftest import WAIT_S, make_webhook, wait_until
from tests.receiver import Receiver, Reply


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: LISTEN/NOTIFY, several workers sharing the "
            "queue with FOR UPDATE SKIP LOCKED, and autovacuum settings"
        )


pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql_only]


@pytest.fixture
def workers(delivery_settings) -> Iterator:  # type: ignore[no-untyped-def, type-arg]
    """Start workers woken by NOTIFY only: a poll would come too late."""
    from hookcast.delivery.worker import run_worker

    delivery_settings.HOOKCAST_POLL_INTERVAL_S = 3600.0
    delivery_settings.HOOKCAST_MAX_IN_FLIGHT_PER_HOST = 2
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start() -> None:
        thread = threading.Thread(
            target=run_worker, kwargs={"stop": stop, "handle_signals": False}
        )
        thread.start()
        threads.append(thread)

    yield start
    stop.set()
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive()


def test_notify_wakes_a_worker_that_is_not_polling(
    station, receiver: Receiver, workers
):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")
    workers()
    # Listening starts asynchronously; a first call shows it is up.
    Listener.objects.create(station=station, first_name="First")
    receiver.wait_for(1)

    Listener.objects.create(station=station, first_name="Second")

    receiver.wait_for(2)


def test_two_workers_share_the_queue_without_sending_twice(
    station, receiver: Receiver, workers
):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")
    receiver.script("/hook", *[Reply(delay_s=0.3)] * 20)
    for number in range(20):
        Listener.objects.create(station=station, first_name=f"Listener {number}")

    workers()
    workers()

    wait_until(
        lambda: not Call.objects.exclude(status="delivered").exists(),
        "every call to be delivered",
    )
    sent = Counter(r.headers["webhook-id"] for r in receiver.received())
    assert len(sent) == 20
    assert set(sent.values()) == {1}


def test_the_call_table_is_vacuumed_after_a_fixed_number_of_changes() -> None:
    # Each delivery leaves a dead entry that claims read until a vacuum, so
    # the call table is vacuumed after a fixed number of changes, not after
    # a fifth of it has changed (PostgreSQL's default).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT option_name, option_value "
            "FROM pg_options_to_table("
            "(SELECT reloptions FROM pg_class WHERE relname = 'webhooks_call'))"
        )
        options = dict(cursor.fetchall())

    assert options == {
        "autovacuum_vacuum_scale_factor": "0",
        "autovacuum_vacuum_threshold": "10000",
        "autovacuum_analyze_scale_factor": "0",
        "autovacuum_analyze_threshold": "10000",
    }
