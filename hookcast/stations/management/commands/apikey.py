"""``hookcast apikey create STATION [--name NAME]``: prints a new API key as
the last word of its output, the only time it is ever shown."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hookcast.stations.models import ApiKey, Station


class Command(BaseCommand):
    help = "Create a station's API key for the REST API."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create an API key.")
        create.add_argument("station", help="The station's subdomain or id.")
        create.add_argument("--name", default="", help="What the key is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = options["station"]
        lookup = {"id": int(wanted)} if wanted.isdigit() else {"subdomain": wanted}
        try:
            station = Station.objects.get(**lookup)
        except Station.DoesNotExist:
            raise CommandError(
                f"There is no station {wanted!r}; `hookcast station list` shows them."
            ) from None
        _, raw = ApiKey.issue(station, name=options["name"])
        self.stdout.write(
            f"Created an API key for {station.subdomain}. It is shown only "
            f"this once; send it as 'Authorization: Bearer <key>'. Key: {raw}"
        )
