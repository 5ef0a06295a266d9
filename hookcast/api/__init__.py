"""The REST API: ``v1`` builds it; ``errors``, ``fields`` and ``pages`` are
the error shape, the accepted value types and the pagination it shares with
the routers of ``records.api`` and ``webhooks.api``."""
