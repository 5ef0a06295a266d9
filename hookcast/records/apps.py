from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "hookcast.records"
    label = "records"
    verbose_name = "Records"
