"""API keys: shown once on creation, stored hashed, revocable."""

from __future__ import annotations

from django.urls import reverse

from hookcast.stations.models import ApiKey, hash_api_key

CHANGELIST = "/admin/stations/apikey/"


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(client, station):
    response = client.post(
        reverse("admin:stations_apikey_add"), {"station": station.pk, "name": "CRM"}
    )

    assert response.status_code == 200
    raw = response.context["raw_key"]
    assert raw.startswith("hck_") and raw in response.text
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get()
    assert (key.name, key.station) == ("CRM", station)
    assert key.key_hash == hash_api_key(raw)
    assert ApiKey.authenticate(raw) == key

    listing = client.get(CHANGELIST).text
    page = client.get(reverse("admin:stations_apikey_change", args=[key.pk])).text
    for later in (listing, page):
        assert raw not in later
        assert key.key_hash not in later
        assert key.prefix in later


def test_revoke_action(client, station):
    key, raw = ApiKey.issue(station, "CRM")

    response = client.post(
        CHANGELIST,
        {"action": "revoke_keys", "_selected_action": [key.pk]},
        follow=True,
    )

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert ApiKey.authenticate(raw) is None
    assert "Revoked 1 API key(s)" in response.text


def test_another_stations_key_cannot_be_revoked(client, other_station):
    key, _ = ApiKey.issue(other_station, "rock")

    client.post(CHANGELIST, {"action": "revoke_keys", "_selected_action": [key.pk]})

    key.refresh_from_db()
    assert key.revoked_at is None
