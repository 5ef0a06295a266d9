"""A station's member sees and changes only that station's objects."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from hookcast.records.models import Listener, Prize
from hookcast.stations.models import ApiKey, Station
from hookcast.webhooks.models import Webhook
from tests.admin.conftest import client_for, member_of, prize_form


def change_url(obj: object) -> str:
    meta = obj._meta  # type: ignore[attr-defined]
    return reverse(
        f"admin:{meta.app_label}_{meta.model_name}_change",
        args=[obj.pk],  # type: ignore[attr-defined]
    )


def test_another_stations_objects_are_404_even_by_url(
    client, other_station, other_webhook, other_call
):
    listener = Listener.objects.create(station=other_station, first_name="Rocky")
    key, _ = ApiKey.issue(other_station, "rock key")

    for obj in (other_webhook, listener, other_call, key):
        assert client.get(change_url(obj)).status_code == 404, obj
        delete_url = change_url(obj).replace("/change/", "/delete/")
        assert client.get(delete_url).status_code == 404, obj


def test_own_stations_objects_open(client, station, webhook, call):
    listener = Listener.objects.get(pk=call.event.sender_id)
    key, _ = ApiKey.issue(station, "dev key")

    for obj in (webhook, listener, call, key):
        assert client.get(change_url(obj)).status_code == 200, obj


def test_an_unknown_or_malformed_id_is_404_not_500(client):
    assert client.get("/admin/webhooks/webhook/999999/change/").status_code == 404
    assert client.get("/admin/webhooks/webhook/not-a-number/change/").status_code == 404
    assert client.get("/admin/records/listener/%20/change/").status_code == 404


def test_lists_show_only_the_members_station(
    client, station, other_station, webhook, other_webhook, call, other_call
):
    ApiKey.issue(station, "dev key")
    ApiKey.issue(other_station, "rock key")

    webhooks = client.get(reverse("admin:webhooks_webhook_changelist"))
    assert "dev.test" in webhooks.text and "rock.test" not in webhooks.text
    listeners = client.get(reverse("admin:records_listener_changelist"))
    assert "John" in listeners.text and "Rocky" not in listeners.text
    calls = client.get(reverse("admin:webhooks_call_changelist"))
    assert str(call.call_id) in calls.text
    assert str(other_call.call_id) not in calls.text
    keys = client.get(reverse("admin:stations_apikey_changelist"))
    assert "dev key" in keys.text and "rock key" not in keys.text


def test_filters_and_selects_offer_only_the_members_station(
    client, station, other_station, webhook, other_webhook
):
    # The webhook filter shows once there are two webhooks to choose from.
    Webhook.objects.create(
        station=station, event="Prize.created", endpoint="https://prizes.dev.test/"
    )
    calls = client.get(reverse("admin:webhooks_call_changelist"))
    assert "prizes.dev.test" in calls.text and "rock.test" not in calls.text

    add = client.get(reverse("admin:webhooks_webhook_add"))
    stations = add.context["adminform"].form.fields["station"]
    assert list(stations.queryset) == [station]
    # One station: nothing to pick, it is preset.
    assert stations.empty_label is None
    assert f'<option value="{station.pk}" selected>' in add.text
    assert "rockfm" not in add.text


def test_autocomplete_offers_only_the_members_listeners(client, station, other_station):
    Listener.objects.create(station=station, first_name="John")
    Listener.objects.create(station=other_station, first_name="Johanna")

    found = client.get(
        "/admin/autocomplete/",
        {
            "term": "Jo",
            "app_label": "records",
            "model_name": "prize",
            "field_name": "listener",
        },
    ).json()

    assert [r["text"] for r in found["results"]] == ["John"]


def test_another_stations_listener_cannot_be_posted(client, station, other_station):
    stranger = Listener.objects.create(station=other_station, first_name="Rocky")

    response = client.post(
        reverse("admin:records_prize_add"), prize_form(station, stranger)
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Prize.objects.exists()


def test_another_station_cannot_be_posted_for_a_webhook(client, other_station):
    response = client.post(
        reverse("admin:webhooks_webhook_add"),
        {
            "station": other_station.pk,
            "event": "Listener.updated",
            "endpoint": "https://dev.test/hook",
            "method": "POST",
            "enabled": "on",
        },
    )

    assert "Select a valid choice" in response.text
    assert not Webhook.objects.exists()


def test_a_superuser_sees_every_station(station, other_station, webhook, other_webhook):
    root = User.objects.create_superuser("root", password="secret-pw-1")
    client = client_for(root)

    page = client.get(reverse("admin:webhooks_webhook_changelist"))

    assert "dev.test" in page.text and "rock.test" in page.text
    assert client.get(change_url(other_webhook)).status_code == 200


def test_stations_and_memberships_are_for_superusers_only(client, station):
    assert client.get(reverse("admin:stations_station_changelist")).status_code == 403
    assert client.get(change_url(station)).status_code == 403
    index = client.get(reverse("admin:index"))
    assert "Webhooks" in index.text
    assert reverse("admin:stations_station_changelist") not in index.text


def test_a_member_of_two_stations_picks_one_and_sees_both(station, other_station):
    both = member_of(station, "both")
    both.memberships.create(station=other_station)
    client = client_for(both)

    add = client.get(reverse("admin:webhooks_webhook_add"))
    field = add.context["adminform"].form.fields["station"]

    assert set(field.queryset) == {station, other_station}
    assert field.empty_label is not None


def test_staff_without_a_station_sees_nothing(db):
    loner = User.objects.create_user("loner", password="secret-pw-1", is_staff=True)
    client = client_for(loner)

    assert client.get(reverse("admin:webhooks_webhook_changelist")).status_code == 403
    assert "Webhooks" not in client.get(reverse("admin:index")).text


@pytest.mark.parametrize("station_count", [1, 2])
def test_the_station_column_only_for_users_of_several(station_count, station):
    user = member_of(station, "viewer")
    if station_count == 2:
        second = Station.objects.create(subdomain="jazzfm", name="Jazz FM")
        user.memberships.create(station=second)
    Webhook.objects.create(
        station=station, event="Prize.created", endpoint="https://dev.test/"
    )
    client = client_for(user)

    page = client.get(reverse("admin:webhooks_webhook_changelist"))

    assert ("column-station" in page.text) is (station_count == 2)


def test_a_superuser_creates_a_station_with_a_member(db):
    root = User.objects.create_superuser("root", password="secret-pw-1")
    staff = User.objects.create_user("jazz-admin", is_staff=True)
    client = client_for(root)

    response = client.post(
        reverse("admin:stations_station_add"),
        {
            "subdomain": "jazzfm",
            "name": "Jazz FM",
            "timezone": "Europe/Paris",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": staff.pk,
        },
    )

    assert response.status_code == 302
    jazz = Station.objects.get(subdomain="jazzfm")
    assert list(jazz.memberships.values_list("user__username", flat=True)) == [
        "jazz-admin"
    ]
    assert (
        client_for(staff).get(reverse("admin:webhooks_webhook_changelist")).status_code
        == 200
    )
