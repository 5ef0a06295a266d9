"""The ``hookcast worker`` process: killed mid-batch it loses no call, and
on SIGTERM it exits cleanly having written what was in flight. Its database
process exits with it, and is replaced if it dies alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from hookcast.records.models import Listener
from hookcast.webhooks.models import Call
from tests.delivery.conftest import WAIT_S, make_webhook, wait_until
from tests.receiver import Receiver, Reply

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_S = 2  # So that a killed worker's calls come back quickly.


def database_url() -> str:
    """The URL of the test database, as ``HOOKCAST_DATABASE_URL``."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(Path(db["NAME"]).resolve())
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    return (
        f"postgresql://{credentials}{'@' if credentials else ''}"
        f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def start_worker(ca_bundle: Path, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """Start ``hookcast worker`` processes on the test database."""
    env = {
        **os.environ,
        "HOOKCAST_DATABASE_URL": database_url(),
        "HOOKCAST_DATA_DIR": str(tmp_path),
        "HOOKCAST_SECRET_KEY": "test-only",
        "HOOKCAST_ALLOWED_NETWORKS": "127.0.0.0/8",
        "HOOKCAST_CA_BUNDLE": str(ca_bundle),
        "HOOKCAST_LEASE_S": str(LEASE_S),
        "HOOKCAST_POLL_INTERVAL_S": "0.2",
        "HOOKCAST_MAX_IN_FLIGHT_PER_HOST": "4",
    }
    processes: list[subprocess.Popen[bytes]] = []
    hookcast = Path(sys.executable).with_name("hookcast")

    def start(*, new_session: bool = False) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"worker-{len(processes)}.log").open("wb")
        process = subprocess.Popen(
            [str(hookcast), "worker"],
            env=env,
            stderr=log,
            start_new_session=new_session,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT_S)


def listeners(station, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    for number in range(count):
        Listener.objects.create(station=station, first_name=f"Listener {number}")
    return [str(call_id) for call_id in Call.objects.values_list("call_id", flat=True)]


# The tests that look for the worker's database process read /proc.
needs_proc = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(),
    reason="finds the worker's child process through /proc (Linux)",
)


def database_process(worker: subprocess.Popen[bytes]) -> int:
    """The pid of ``worker``'s database process (``hookcast.delivery.database``)."""

    def find() -> int | None:
        for task in Path(f"/proc/{worker.pid}/task").iterdir():
            for pid in (task / "children").read_text().split():
                if (
                    b"hookcast.delivery.database"
                    in Path(f"/proc/{pid}/cmdline").read_bytes()
                ):
                    return int(pid)
        return None

    return wait_until(find, "the worker to start its database process")


def exited(pid: int) -> bool:
    """Whether ``pid`` has exited (gone, or a zombie nobody has reaped yet)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


def test_a_killed_worker_loses_no_call(station, receiver: Receiver, start_worker):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")
    receiver.script("/hook", *[Reply(delay_s=1.0)] * 12)
    call_ids = listeners(station, 12)

    worker = start_worker()
    receiver.wait_for(4, timeout_s=WAIT_S)  # A batch is in flight...
    worker.kill()  # ...and the worker dies with it: SIGKILL.
    worker.wait(WAIT_S)
    start_worker()

    wait_until(
        lambda: not Call.objects.exclude(status="delivered").exists(),
        "every call to be delivered after the restart",
    )
    received = [r.headers["webhook-id"] for r in receiver.received()]
    assert set(received) == set(call_ids)
    # The calls in flight at the kill were sent again: at least once.
    assert len(received) > len(call_ids)


# A terminal's Ctrl-C, or a supervisor stopping a service, signals every
# process of the group: the database process must outlive the worker's last
# write-back all the same.
@pytest.mark.parametrize("signalled", ["worker", "process group"])
def test_sigterm_writes_what_was_in_flight_and_hands_back_the_rest(
    station, receiver: Receiver, start_worker, tmp_path: Path, signalled: str
):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")
    receiver.script("/hook", *[Reply(delay_s=1.0)] * 4)
    listeners(station, 8)

    worker = start_worker(new_session=True)
    in_flight = receiver.wait_for(4, timeout_s=WAIT_S)
    if signalled == "worker":
        worker.send_signal(signal.SIGTERM)
    else:
        os.killpg(worker.pid, signal.SIGTERM)

    assert worker.wait(WAIT_S) == 0
    # The outcomes were written by the database process the worker started
    # with: the signal did not end it before the last write-back.
    log = (tmp_path / "worker-0.log").read_text()
    assert "Delivery worker stopped." in log
    assert "starting a new one" not in log
    sent = {r.headers["webhook-id"] for r in in_flight}
    assert len(receiver.received()) == 4, "nothing new is sent once stopping"
    for call in Call.objects.all():
        assert call.leased_until is None
        if str(call.call_id) in sent:
            assert (call.status, call.attempt_count) == ("delivered", 1)
            assert call.attempts.get().response_status == 200
        else:
            assert (call.status, call.attempt_count) == ("pending", 0)


@needs_proc
def test_a_killed_worker_takes_its_database_process_with_it(
    station, receiver: Receiver, start_worker
):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")
    listeners(station, 1)
    worker = start_worker()
    receiver.wait_for(1, timeout_s=WAIT_S)
    child = database_process(worker)

    worker.kill()
    worker.wait(WAIT_S)
    wait_until(lambda: exited(child), "the database process to exit")


@needs_proc
def test_a_dead_database_process_is_replaced(
    station, receiver: Receiver, start_worker, tmp_path: Path
):  # type: ignore[no-untyped-def]
    make_webhook(station, receiver, "Listener.created")
    first = listeners(station, 3)
    worker = start_worker()
    receiver.wait_for(3, timeout_s=WAIT_S)
    child = database_process(worker)

    os.kill(child, signal.SIGKILL)
    wait_until(lambda: exited(child), "the database process to die")
    for number in range(3):
        Listener.objects.create(station=station, first_name=f"Later {number}")

    wait_until(
        lambda: not Call.objects.exclude(status="delivered").exists(),
        "every call to be delivered by a new database process",
    )
    assert database_process(worker) != child
    assert worker.poll() is None
    received = {r.headers["webhook-id"] for r in receiver.received()}
    assert received == {str(c) for c in Call.objects.values_list("call_id", flat=True)}
    assert set(first) <= received
    log = (tmp_path / "worker-0.log").read_text()
    assert "The database process exited; starting a new one." in log
