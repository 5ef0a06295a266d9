"""``hookcast station`` and ``hookcast apikey``."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hookcast.stations.models import ApiKey, Station


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_station_create_makes_a_station():
    output = run(
        "station",
        "create",
        "rockfm",
        "--name",
        "Rock FM",
        "--timezone",
        "Australia/Perth",
    )

    station = Station.objects.get(subdomain="rockfm")
    assert (station.name, station.timezone) == ("Rock FM", "Australia/Perth")
    assert "Created the station rockfm" in output


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("subdomain", "zone", "problem"),
    [
        ("rockfm", "Mars/Olympus", "timezone: Mars/Olympus is not an IANA time zone"),
        ("Rock FM", "UTC", "subdomain: A subdomain has lower-case letters"),
    ],
)
def test_station_create_refuses_bad_input_and_says_why(subdomain, zone, problem):
    with pytest.raises(CommandError, match=problem):
        run("station", "create", subdomain, "--name", "x", "--timezone", zone)
    assert not Station.objects.exists()


def test_apikey_create_prints_the_key_last_and_stores_only_its_hash(station):
    output = run("apikey", "create", "developerfm", "--name", "app")
    raw = output.split()[-1]

    key = ApiKey.authenticate(raw)
    assert key is not None and key.station == station and key.name == "app"
    assert raw not in {key.key_hash, key.prefix}
    assert ApiKey.authenticate(raw + "x") is None


def test_a_revoked_key_no_longer_authenticates(station):
    key, raw = ApiKey.issue(station)
    key.revoke()
    assert ApiKey.authenticate(raw) is None


@pytest.mark.django_db
def test_apikey_create_for_an_unknown_station_says_so():
    with pytest.raises(CommandError, match="There is no station 'nope'"):
        run("apikey", "create", "nope")
