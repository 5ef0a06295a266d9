"""What a Listener save writes on SQLite, and what each page written costs.

    python bench/pages.py [--saves 50]

A commit in WAL mode appends each page it changed to the ``-wal`` file, so
the pages a save writes are the frames it adds there. This prints the
median pages of a save with 0 and with 3 subscribed webhooks, which b-trees
the second touches, and the time a commit takes on this disk when it
changes 1, 4 and 14 pages of a plain table (so, roughly, what a page costs).
Runs on a scratch database in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import struct
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

WAL_HEADER = 32
FRAME_HEADER = 24
COMMITS = 3000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--saves", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hookcast-pages-") as tmp:
        os.environ["HOOKCAST_DATA_DIR"] = tmp
        os.environ.pop("HOOKCAST_DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hookcast.settings")
        pages_per_save(args.saves)
        commit_cost(Path(tmp) / "plain.sqlite3")
    return 0


def pages_per_save(saves: int) -> None:
    import django

    django.setup()
    import backlog
    from django.core.management import call_command
    from django.db import connection

    from hookcast.records.models import Listener

    call_command("migrate", interactive=False, verbosity=0)
    station = backlog.station()
    listeners = [
        Listener.objects.create(station=station, first_name="a") for _ in range(200)
    ]
    webhooks = backlog.listener_webhooks(station, 3)
    path = connection.settings_dict["NAME"]
    wal = Path(path + "-wal")
    n = 0
    print(f"pages a Listener save writes (median of {saves} saves):")
    written: dict[bool, list[list[int]]] = {}
    for enabled in (False, True):
        webhooks.update(enabled=enabled)
        written[enabled] = []
        for _ in range(saves):
            connection.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            n += 1
            listener = listeners[n % len(listeners)]
            listener.first_name = f"name {n}"
            listener.save()
            written[enabled].append(wal_pages(wal))
        median = statistics.median(len(pages) for pages in written[enabled])
        print(f"  {3 if enabled else 0} webhooks: {median:.0f}")
    # Named once the saves are done, so pages they added have their b-tree.
    names = dict(
        sqlite3.connect(path).execute("SELECT pageno, name FROM dbstat").fetchall()
    )
    per_save = Counter(
        name for pages in written[True] for name in {names.get(p, "?") for p in pages}
    )
    print(
        "  b-trees written by most saves with 3 webhooks (pages in one save):",
        ", ".join(
            f"{name} ({pages})"
            for name, pages in sorted(
                Counter(names.get(p, "?") for p in written[True][-1]).items()
            )
            if per_save[name] > saves // 2
        ),
    )


def wal_pages(wal: Path) -> list[int]:
    """The page number of each frame in the WAL file."""
    data = wal.read_bytes()
    if len(data) < WAL_HEADER:
        return []
    page_size = struct.unpack(">I", data[8:12])[0]
    return [
        struct.unpack(">I", data[at : at + 4])[0]
        for at in range(WAL_HEADER, len(data), FRAME_HEADER + page_size)
    ]


def commit_cost(path: Path) -> None:
    """Microseconds a commit takes that changes ``pages`` rows, one a page."""
    database = sqlite3.connect(path, isolation_level=None)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=NORMAL")
    print(f"a commit on this disk (median of {COMMITS}):")
    for pages in (1, 4, 14):
        for table in range(pages):
            database.execute(f"CREATE TABLE IF NOT EXISTS t{table} (v TEXT)")
            database.execute(f"INSERT INTO t{table} VALUES ('x')")
        times = []
        for k in range(COMMITS):
            started = time.perf_counter()
            database.execute("BEGIN IMMEDIATE")
            for table in range(pages):
                database.execute(f"UPDATE t{table} SET v = ?", (str(k),))
            database.execute("COMMIT")
            times.append((time.perf_counter() - started) * 1e6)
        print(f"  {pages:2d} pages: {statistics.median(times):.0f} us")
    database.close()


if __name__ == "__main__":
    sys.exit(main())
