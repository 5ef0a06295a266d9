"""Two stations, each with a staff member who may see only their own."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from hookcast.records.models import Listener
from hookcast.stations.models import Membership, Station
from hookcast.webhooks.models import Call, Webhook


def member_of(station: Station, username: str) -> User:
    user = User.objects.create_user(username, password="secret-pw-1", is_staff=True)
    Membership.objects.create(user=user, station=station)
    return user


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_station(db):  # type: ignore[no-untyped-def]
    return Station.objects.create(
        subdomain="rockfm", name="Rock FM", timezone="Europe/London"
    )


@pytest.fixture
def member(station):  # type: ignore[no-untyped-def]
    return member_of(station, "dev-admin")


@pytest.fixture
def client(member) -> Client:  # type: ignore[no-untyped-def]
    """Logged in as a staff member of developerfm only."""
    return client_for(member)


@pytest.fixture
def webhook(station):  # type: ignore[no-untyped-def]
    return Webhook.objects.create(
        station=station, event="Listener.updated", endpoint="https://dev.test/hook"
    )


@pytest.fixture
def other_webhook(other_station):  # type: ignore[no-untyped-def]
    return Webhook.objects.create(
        station=other_station,
        event="Listener.updated",
        endpoint="https://rock.test/hook",
    )


def updated_listener(station: Station, first_name: str = "John") -> Listener:
    """A listener created and then updated, so Listener.updated fires."""
    listener = Listener.objects.create(station=station, first_name=first_name)
    listener.last_name = "Smith"
    listener.save()
    return listener


def prize_form(station: Station, listener: Listener, **changes: object) -> dict:
    """The admin's Prize form, filled in."""
    return {
        "station": station.pk,
        "name": "Tickets",
        "value": "150.00",
        "status": "awarded",
        "listener": listener.pk,
        **changes,
    }


@pytest.fixture
def call(station, webhook) -> Call:  # type: ignore[no-untyped-def]
    listener = updated_listener(station)
    return Call.objects.get(webhook=webhook, event__sender_id=listener.pk)


@pytest.fixture
def other_call(other_station, other_webhook) -> Call:  # type: ignore[no-untyped-def]
    listener = updated_listener(other_station, "Rocky")
    return Call.objects.get(webhook=other_webhook, event__sender_id=listener.pk)
