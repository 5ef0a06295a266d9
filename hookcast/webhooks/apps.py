from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "hookcast.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from hookcast.records.changes import subscribe
        from hookcast.webhooks.capture import capture

        subscribe(capture)
