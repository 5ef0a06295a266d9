"""Authentication, station isolation, idempotent creates and error bodies."""

from __future__ import annotations

import json

import pytest

from hookcast.records.models import Campaign, Listener, Prize
from hookcast.stations.models import ApiKey
from hookcast.webhooks.models import Call, Webhook
from tests.api.conftest import ApiClient

# Authentication.


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Basic dXNlcjpwdw==", "Bearer hck_not-a-key"],
)
def test_a_missing_or_wrong_key_is_a_401_in_json(station, authorization):
    client = ApiClient(None)
    headers = {"Authorization": authorization} if authorization else {}

    response = client.request("get", "listeners", headers=headers)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json; charset=utf-8"
    [error] = response.json()["detail"]
    assert error["field"] == "Authorization"
    assert error["message"]


def test_a_revoked_key_is_refused(station):
    key, raw = ApiKey.issue(station)
    key.revoke()

    response = ApiClient(raw).get("listeners")

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"][0]["message"]


def test_the_openapi_document_and_docs_need_no_key(client):
    document = client.get("/api/v1/openapi.json")
    docs = client.get("/api/v1/docs")

    assert document.status_code == 200
    paths = document.json()["paths"]
    assert "/api/v1/calls/{webhookCallId}/redeliver" in paths
    assert set(paths["/api/v1/listeners/{id}"]["patch"]["responses"]) >= {
        "200", "401", "404", "413", "422",
    }  # fmt: skip
    assert docs.status_code == 200


# Station isolation.


@pytest.fixture
def theirs(other_station):  # type: ignore[no-untyped-def]
    listener = Listener.objects.create(station=other_station, first_name="Theirs")
    campaign = Campaign.objects.create(station=other_station, name="Theirs")
    prize = Prize.objects.create(station=other_station, name="T", listener=listener)
    webhook = Webhook.objects.create(
        station=other_station, event="Listener.updated", endpoint="https://t.test/"
    )
    listener.last_name = "X"
    listener.save()
    return {
        "listeners": listener.pk, "campaigns": campaign.pk, "prizes": prize.pk,
        "webhooks": webhook.pk, "calls": Call.objects.get().call_id,
    }  # fmt: skip


def test_another_stations_objects_are_404_and_unlisted(api, theirs):
    for resource, pk in theirs.items():
        assert api.get(resource).json()["count"] == 0, resource
        assert api.get(f"{resource}/{pk}").status_code == 404, resource
    for resource in ("listeners", "campaigns", "prizes", "webhooks"):
        pk = theirs[resource]
        assert api.patch(f"{resource}/{pk}", {}).status_code == 404, resource
        assert api.delete(f"{resource}/{pk}").status_code == 404, resource
    assert api.get(f"webhooks/{theirs['webhooks']}/secret").status_code == 404
    assert api.post(f"webhooks/{theirs['webhooks']}/secret/rotate").status_code == 404
    assert api.post(f"calls/{theirs['calls']}/redeliver").status_code == 404
    assert Listener.objects.filter(pk=theirs["listeners"]).exists()


def test_a_prize_cannot_point_at_another_stations_campaign(api, station, theirs):
    mine = Listener.objects.create(station=station)

    response = api.post(
        "prizes",
        {"name": "A", "listener_id": mine.pk, "campaign_id": theirs["campaigns"]},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "campaign_id"


# Idempotent creates.


def test_a_retried_create_with_the_same_key_creates_once(api, station):
    Webhook.objects.create(station=station, event="Listener.created",
                           endpoint="https://app.test/")  # fmt: skip
    headers = {"Idempotency-Key": "create-john-1"}

    first = api.post("listeners", {"first_name": "John"}, headers=headers)
    retry = api.post("listeners", {"first_name": "John"}, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert Listener.objects.count() == 1
    assert Call.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(api):
    headers = {"Idempotency-Key": "k1"}
    api.post("listeners", {"first_name": "John"}, headers=headers)

    response = api.post("listeners", {"first_name": "Jane"}, headers=headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "Idempotency-Key"
    assert "different request" in response.json()["detail"][0]["message"]
    assert Listener.objects.count() == 1


def test_keys_are_per_station_and_a_failed_create_leaves_the_key_free(api, other_api):
    headers = {"Idempotency-Key": "k1"}
    assert api.post("listeners", {"email": "bad"}, headers=headers).status_code == 422
    assert (
        api.post("listeners", {"email": "a@b.test"}, headers=headers).status_code == 201
    )
    assert (
        other_api.post("listeners", {"email": "c@d.test"}, headers=headers).status_code
        == 201
    )
    assert Listener.objects.count() == 2


def test_a_webhook_create_is_idempotent_too(api):
    body = {"event": "Listener.updated", "endpoint": "https://app.test/"}
    headers = {"Idempotency-Key": "hook-1"}

    first = api.post("webhooks", body, headers=headers)
    retry = api.post("webhooks", body, headers=headers)

    assert retry.json() == first.json()
    assert Webhook.objects.count() == 1


# Error bodies.


@pytest.mark.parametrize(
    ("raw", "status", "field"),
    [
        ("{not json", 400, "body"),
        ("[1, 2]", 422, "body"),
        ('"text"', 422, "body"),
        ("\xff\xfe", 400, "body"),
    ],
)
def test_malformed_bodies_get_json_errors(api, raw, status, field):
    response = api.post("listeners", raw=raw)

    assert response.status_code == status
    assert response.json()["detail"][0]["field"] == field


def test_an_empty_body_names_the_required_fields(api):
    response = api.client.post("/api/v1/webhooks", headers=api.headers,
                               content_type="application/json")  # fmt: skip

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"field": "event", "message": "This field is required."},
        {"field": "endpoint", "message": "This field is required."},
    ]


def test_a_body_over_one_mebibyte_is_a_json_413(api):
    body = json.dumps({"first_name": "x" * (1024 * 1024)})

    response = api.post("listeners", raw=body)

    assert response.status_code == 413
    assert response.json()["detail"][0]["field"] == "body"
    assert "1048576 bytes" in response.json()["detail"][0]["message"]
    assert not Listener.objects.exists()


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("listeners", {"limit": "0"}, "limit"),
        ("listeners", {"limit": "many"}, "limit"),
        ("listeners", {"updated_since": "yesterday"}, "updated_since"),
        ("listeners", {"updated_since": "0001-01-01T00:00:00+14:00"}, "updated_since"),
        ("listeners/99999999999999999999", {}, "id"),
        ("calls", {"status": "lost"}, "status"),
        ("calls", {"created_after": "2024-13-01T00:00:00Z"}, "created_after"),
    ],
)
def test_bad_query_and_path_values_name_the_parameter(api, path, query, field):
    response = api.get(path, **query)

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field


def test_an_unknown_url_under_the_api_is_a_json_404(api):
    response = api.get("listeners/1/nothing")

    assert response.status_code == 404
    assert response.json()["detail"][0]["message"]
