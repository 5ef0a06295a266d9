"""The ``hookcast`` command (SPEC section 6).

``up``, ``web``, ``worker`` and ``purge`` are handled here; ``station`` and
``apikey`` are management commands of the stations app; every other word is
passed to Django, so ``hookcast migrate`` and ``hookcast createsuperuser``
work as they do with ``django-admin``.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger(__name__)

USAGE = """\
usage: hookcast COMMAND [ARGS]

  up                     migrate, create the default station and admin, then
                         serve the web app and run the delivery worker
  web                    serve the admin panel, the API and /healthz
  worker                 run the delivery worker
  station create SUBDOMAIN --name NAME --timezone TZ
  station list
  apikey create STATION [--name NAME]
  purge [--days N] [--batch-size N] [--dry-run]
                         delete calls older than the retention period

Every Django management command works too: hookcast migrate,
hookcast createsuperuser, ... (hookcast help --commands lists them).
Settings come from HOOKCAST_* environment variables; see the README.
"""

DEFAULT_STATION = ("developerfm", "Developer FM", "Australia/Melbourne")
DEFAULT_ADMIN = "admin"
WEB_THREADS = 8


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hookcast.settings")
    if not args or args[0] in ("-h", "--help") or args == ["help"]:
        sys.stdout.write(USAGE)
        return
    command = COMMANDS.get(args[0])
    if command is None:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["hookcast", *args])
        return
    import django

    django.setup()
    sys.exit(command(args[1:]))


def up(args: list[str]) -> int:
    """Everything in one process, on the embedded SQLite default."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    _create_defaults()
    from hookcast.delivery.worker import run_worker

    stop = threading.Event()
    worker = threading.Thread(
        target=run_worker,
        kwargs={"stop": stop, "in_process_wakeup": True, "handle_signals": False},
        name="hookcast-worker",
        daemon=True,
    )
    worker.start()
    try:
        return _serve()
    finally:
        stop.set()
        worker.join(timeout=30)


def web(args: list[str]) -> int:
    return _serve()


def worker(args: list[str]) -> int:
    from hookcast.delivery.worker import run_worker

    run_worker(handle_signals=True)
    return 0


def purge(args: list[str]) -> int:
    from hookcast.delivery.retention import main as purge_main

    return purge_main(args)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "up": up,
    "web": web,
    "worker": worker,
    "purge": purge,
}


def _create_defaults() -> None:
    """The station ``developerfm`` and the superuser ``admin``, if missing.

    The admin's password is generated and printed this once; it is not
    stored anywhere but as Django's password hash.
    """
    from django.contrib.auth import get_user_model

    from hookcast.stations.models import Station

    subdomain, name, zone = DEFAULT_STATION
    station, created = Station.objects.get_or_create(
        subdomain=subdomain, defaults={"name": name, "timezone": zone}
    )
    if created:
        print(f"Created the station {station.subdomain} ({station.timezone}).")
    users = get_user_model()
    if not users.objects.filter(username=DEFAULT_ADMIN).exists():
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(DEFAULT_ADMIN, "", password)
        print(
            f"Created the superuser {DEFAULT_ADMIN} with the password {password}\n"
            "It is shown only this once: note it now, or later run "
            f"`hookcast changepassword {DEFAULT_ADMIN}`."
        )


def _serve() -> int:
    """Serve the WSGI app with waitress until SIGTERM or Ctrl-C."""
    from django.conf import settings
    from waitress.server import create_server

    from hookcast.wsgi import application

    server = create_server(
        application,
        host=settings.HOOKCAST_HOST,
        port=settings.HOOKCAST_PORT,
        threads=WEB_THREADS,
        ident="hookcast",
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    # A stop may come as soon as the line below is out: it is inside the try.
    try:
        print(
            f"hookcast is serving http://{settings.HOOKCAST_HOST}:"
            f"{settings.HOOKCAST_PORT}/admin/ (Ctrl-C stops it).",
            flush=True,
        )
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    main()
