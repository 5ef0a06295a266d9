"""Expired idempotency keys, which hold API responses, are purged."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hookcast.stations.idempotency import KEY_LIFETIME, purge_expired
from hookcast.stations.models import IdempotencyKey


def key(station, name: str, age: dt.timedelta) -> IdempotencyKey:  # type: ignore[no-untyped-def]
    return IdempotencyKey.objects.create(
        station=station,
        key=name,
        fingerprint="0" * 64,
        response_status=201,
        response_body="{}",
        created_at=timezone.now() - age,
    )


def test_only_keys_older_than_their_lifetime_are_purged(station):
    key(station, "old", KEY_LIFETIME + dt.timedelta(minutes=1))
    key(station, "fresh", KEY_LIFETIME - dt.timedelta(minutes=1))

    assert purge_expired() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    assert purge_expired() == 0
