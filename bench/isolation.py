"""Benchmark of isolation: a dead endpoint must not slow the healthy ones.

    python bench/isolation.py [--calls-per-endpoint 12000]

Ten loopback endpoints, each its own host (127.0.0.2 to 127.0.0.11): nine
healthy HTTPS receivers and one that accepts connections and never answers.
One ``hookcast worker`` drains a backlog for the nine healthy endpoints
alone, then again with the dead one's calls mixed in. It prints the healthy
endpoints' deliveries per second in both runs and their ratio; the target is
at least 0.9. Runs on the embedded SQLite default.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from receivers import free_port, receivers

HEALTHY_HOSTS = [f"127.0.0.{i}" for i in range(2, 11)]
DEAD_HOST = "127.0.0.11"
TARGET_RATIO = 0.9


@contextlib.contextmanager
def dead_endpoint(host: str) -> Iterator[str]:
    """A port that accepts TCP connections and never says a word."""
    listener = socket.socket()
    listener.bind((host, free_port(host)))
    listener.listen(1024)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"https://{host}:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for connection in held:
            connection.close()
        listener.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Enough for the healthy endpoints to take about 20 s, several times the
    # 5 s a call to the dead endpoint takes to fail, so the breaker opens and
    # probes while they are measured.
    parser.add_argument("--calls-per-endpoint", type=int, default=12_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.child:
        with tempfile.TemporaryDirectory(prefix="hookcast-bench-data-") as data:
            env = {
                **os.environ,
                "HOOKCAST_DATA_DIR": data,
                "HOOKCAST_LOG_LEVEL": "WARNING",
            }
            env.pop("HOOKCAST_DATABASE_URL", None)
            return subprocess.run(
                [sys.executable, __file__, "--child",
                 "--calls-per-endpoint", str(args.calls_per_endpoint)],
                env=env,
                check=False,
            ).returncode  # fmt: skip

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hookcast.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    import backlog

    from hookcast.webhooks.models import Call, Webhook

    count = args.calls_per_endpoint
    with (
        receivers(HEALTHY_HOSTS) as (kind, tls, urls),
        dead_endpoint(DEAD_HOST) as dead,
    ):
        os.environ["HOOKCAST_CA_BUNDLE"] = str(tls.ca_bundle)
        os.environ["HOOKCAST_ALLOWED_NETWORKS"] = "127.0.0.0/8"
        station = backlog.station()
        rates = []
        for with_dead in (False, True):
            Webhook.objects.all().delete()
            healthy = [
                Webhook.objects.create(
                    station=station, event="Listener.updated", endpoint=url + "/hook"
                )
                for url in urls
            ]
            for webhook in healthy:
                backlog.fill(webhook, count)
            if with_dead:
                backlog.fill(
                    Webhook.objects.create(
                        station=station,
                        event="Listener.updated",
                        endpoint=dead + "/hook",
                    ),
                    count,
                )
            backlog.drain(Call.objects.filter(webhook__in=healthy))
            delivered, rate = backlog.delivery_rate(healthy)
            if delivered != count * len(healthy):
                raise RuntimeError(f"{delivered} of {count * len(healthy)} delivered")
            rates.append(rate)
    alone, beside_dead = rates
    print(
        f"\nhookcast isolation benchmark: 9 healthy endpoints x {count:,} calls "
        f"(receiver: {kind}), one endpoint that never answers\n"
        f"  healthy endpoints alone       {alone:8.0f} calls/s\n"
        f"  healthy beside the dead one   {beside_dead:8.0f} calls/s\n"
        f"  ratio {beside_dead / alone:.2f}   (target >= {TARGET_RATIO})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
