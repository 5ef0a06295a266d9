"""Fixtures shared by the whole suite.

The suite runs against SQLite by default and against PostgreSQL when
``HOOKCAST_DATABASE_URL`` names one (the README's test command runs both).
Where PostgreSQL is asked for but not reachable, every test is skipped with
the reason, except in CI (``CI`` set), where that is an error.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from django.conf import settings

from tests.receiver import Receiver


def _postgresql_problem() -> str | None:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        return None
    import psycopg

    try:
        psycopg.connect(
            dbname=database["NAME"] or "postgres",
            user=database["USER"] or None,
            password=database["PASSWORD"] or None,
            host=database["HOST"] or None,
            port=database["PORT"] or None,
            connect_timeout=5,
        ).close()
    except psycopg.Error as exc:
        where = f"{database['HOST']}:{database['PORT']}"
        return f"PostgreSQL at {where} is not reachable ({exc})".strip()
    return None


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    problem = _postgresql_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{problem}; CI must run the PostgreSQL suite.")
    skip = pytest.mark.skip(reason=problem)
    for item in items:
        item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> str:
    engine = settings.DATABASES["default"]["ENGINE"]
    return f"hookcast database: {engine.rsplit('.', 1)[-1]}"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_bundle(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def server_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost", "::1").configure_cert(context)
    return context


@pytest.fixture
def receiver(server_ssl_context: ssl.SSLContext) -> Iterator[Receiver]:
    """A fresh HTTPS receiver on 127.0.0.1 for one test."""
    with Receiver(server_ssl_context) as running:
        yield running


@pytest.fixture
def delivery_settings(settings, ca_bundle: Path):  # type: ignore[no-untyped-def]
    """Settings under which the worker may reach the loopback receiver."""
    settings.HOOKCAST_CA_BUNDLE = str(ca_bundle)
    settings.HOOKCAST_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    return settings


@pytest.fixture
def station(db):  # type: ignore[no-untyped-def]
    from hookcast.stations.models import Station

    return Station.objects.create(
        subdomain="developerfm", name="Developer FM", timezone="Australia/Melbourne"
    )
