"""Schemathesis against the OpenAPI document: no 5xx, and every response
(its status, content type and body) as the document describes it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hookcast.records.models import Listener
from hookcast.stations.models import ApiKey, Station
from hookcast.webhooks.models import Webhook
from hookcast.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(db: None) -> Iterator[schemathesis.schemas.BaseSchema]:
    # The WSGI handler closes the database connection after each request,
    # which would end the test's transaction; Django's test client keeps it
    # open the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(station: Station) -> str:
    # Objects to find, so that reads, updates and deletes meet real rows too.
    listener = Listener.objects.create(station=station, first_name="John")
    Webhook.objects.create(
        station=station, event="Listener.updated", endpoint="https://example.test/"
    )
    listener.last_name = "Smith"
    listener.save()
    _, raw = ApiKey.issue(station)
    return raw


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, api_key: str) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key}"}, checks=CHECKS
    )
