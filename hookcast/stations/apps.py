from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "hookcast.stations"
    label = "stations"
    verbose_name = "Stations"
