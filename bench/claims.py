"""Benchmark of claiming on PostgreSQL: what delivered calls cost a claim.

    python bench/claims.py [--calls 50000]

Fills a backlog of ``--calls`` calls, lets one ``hookcast worker`` deliver
them to a local HTTPS receiver, then times a claim that finds nothing to
send (the median of 20), before and after a ``VACUUM`` of the call table.
Each delivered call leaves a dead entry in the indexes of pending calls that
every claim reads until the table is vacuumed; the difference is what the
migration ``webhooks/0004_call_autovacuum`` bounds by having autovacuum
vacuum the table after every 10,000 changed rows. It also says whether
autovacuum ran meanwhile. Runs on a scratch database ``hookcast_bench`` on
the local server, like ``bench/delivery.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from delivery import fresh_postgresql_database
from receivers import receivers

CLAIMS = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hookcast-bench-data-") as data:
        os.environ["HOOKCAST_DATA_DIR"] = data
        os.environ["HOOKCAST_LOG_LEVEL"] = "WARNING"
        os.environ["HOOKCAST_DATABASE_URL"] = fresh_postgresql_database()
        os.environ["DJANGO_SETTINGS_MODULE"] = "hookcast.settings"
        return measure(args.calls)


def measure(calls: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)
    import backlog

    from hookcast.delivery.claim import claimer_for
    from hookcast.webhooks.models import Call, Webhook

    claimer = claimer_for()

    def empty_claim_ms() -> float:
        times = []
        for _ in range(CLAIMS):
            now = timezone.now()
            started = time.perf_counter()
            if claimer.claim(now, now, 256):
                raise RuntimeError("a claim found calls; the backlog was not drained")
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    with receivers(["127.0.0.1"]) as (kind, tls, urls):
        os.environ["HOOKCAST_CA_BUNDLE"] = str(tls.ca_bundle)
        os.environ["HOOKCAST_ALLOWED_NETWORKS"] = "127.0.0.0/8"
        webhook = Webhook.objects.create(
            station=backlog.station(),
            event="Listener.updated",
            endpoint=urls[0] + "/hook",
        )
        backlog.fill(webhook, calls)
        backlog.drain(Call.objects.filter(webhook=webhook))
    before_ms = empty_claim_ms()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT autovacuum_count FROM pg_stat_user_tables "
            "WHERE relname = 'webhooks_call'"
        )
        autovacuums = cursor.fetchone()[0]
        cursor.execute("VACUUM webhooks_call")
    after_ms = empty_claim_ms()

    print(f"\nhookcast claim benchmark: {calls:,} calls delivered (receiver: {kind})")
    print(f"  empty claim before VACUUM  {before_ms:6.2f} ms")
    print(f"  empty claim after VACUUM   {after_ms:6.2f} ms")
    print(f"  autovacuum runs on the call table meanwhile: {autovacuums}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
