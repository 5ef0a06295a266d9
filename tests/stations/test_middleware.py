"""The administration panel shows dates in the station's time zone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from hookcast.stations.models import Membership, Station
from hookcast.webhooks.models import Webhook


@pytest.fixture
def webhook(station):  # type: ignore[no-untyped-def]
    return Webhook.objects.create(
        station=station,
        event="Listener.updated",
        endpoint="https://app.example/hook",
        created_at=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
    )


def page(client, user, webhook) -> str:  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client.get(f"/admin/webhooks/webhook/{webhook.pk}/change/").text


def test_a_station_member_sees_station_time(client, station, webhook):
    user = User.objects.create_user("dj", password="x", is_staff=True)
    Membership.objects.create(user=user, station=station)

    # 03:04 UTC is 14:04 in Melbourne, in summer time (+11:00).
    assert "Jan. 2, 2026, 2:04 p.m." in page(client, user, webhook)


def test_a_superuser_over_stations_in_several_zones_sees_utc(client, station, webhook):
    Station.objects.create(
        subdomain="perthfm", name="Perth FM", timezone="Australia/Perth"
    )
    user = User.objects.create_superuser("root", password="x")

    assert "Jan. 2, 2026, 3:04 a.m." in page(client, user, webhook)
