"""``hookcast station create SUBDOMAIN --name NAME --timezone TZ`` and
``hookcast station list``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hookcast.stations.models import Station


class Command(BaseCommand):
    help = "Create or list stations."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a station.")
        create.add_argument("subdomain", help="e.g. developerfm")
        create.add_argument("--name", required=True, help="The display name.")
        create.add_argument(
            "--timezone", default="UTC", help="IANA name, e.g. Australia/Melbourne."
        )
        actions.add_parser("list", help="List the stations.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for station in Station.objects.all():
                self.stdout.write(
                    f"{station.id}\t{station.subdomain}\t{station.timezone}\t{station.name}"
                )
            return
        station = Station(
            subdomain=options["subdomain"],
            name=options["name"],
            timezone=options["timezone"],
        )
        try:
            station.full_clean()
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}"
                for field, messages in exc.message_dict.items()
            )
            raise CommandError(f"The station was not created. {problems}") from exc
        station.save()
        self.stdout.write(
            f"Created the station {station.subdomain} (id {station.id}, "
            f"{station.timezone})."
        )
