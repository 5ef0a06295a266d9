"""Endpoint health: webhooks failing for five days are disabled, with why."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hookcast.delivery.health import FAILING_FOR_DAYS, disable_failing_webhooks
from hookcast.webhooks.models import Webhook

# 10:00 in Melbourne (UTC+10 in May), so dates there differ from UTC dates
# for times after 14:00 UTC.
NOW = dt.datetime(2024, 5, 10, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def make_webhook(station):  # type: ignore[no-untyped-def]
    def make(
        failing_since: dt.datetime | None,
        last_success_at: dt.datetime | None = None,
        enabled: bool = True,
    ) -> Webhook:
        webhook = Webhook.objects.create(
            station=station,
            event="Listener.updated",
            endpoint="https://hooks.example.com/listener",
            enabled=enabled,
        )
        Webhook.objects.filter(pk=webhook.pk).update(
            failing_since=failing_since, last_success_at=last_success_at
        )
        return webhook

    return make


def test_a_webhook_failing_for_five_days_is_disabled_with_the_first_failure(
    make_webhook,
):
    # 2024-05-04 20:00 UTC is 2024-05-05 06:00 in Melbourne.
    webhook = make_webhook(failing_since=dt.datetime(2024, 5, 4, 20, tzinfo=dt.UTC))

    assert disable_failing_webhooks([webhook.pk], NOW) == [webhook.pk]

    webhook.refresh_from_db()
    assert not webhook.enabled
    assert webhook.disabled_at == NOW
    assert webhook.disabled_reason == (
        "Disabled automatically on 2024-05-10: every attempt has failed since "
        "the first failure on 2024-05-05, for 5 days or more; enable the "
        "webhook again once the endpoint answers with a 2xx status."
    )


def test_the_reason_names_the_last_success_when_there_was_one(make_webhook):
    webhook = make_webhook(
        failing_since=dt.datetime(2024, 5, 1, 3, tzinfo=dt.UTC),
        last_success_at=dt.datetime(2024, 4, 30, 15, tzinfo=dt.UTC),
    )

    disable_failing_webhooks([webhook.pk], NOW)

    webhook.refresh_from_db()
    assert webhook.disabled_reason.startswith(
        "Disabled automatically on 2024-05-10: no call has succeeded since "
        "2024-05-01, for 5 days or more;"
    )


@pytest.mark.parametrize(
    ("failing_for", "disabled"),
    [
        (dt.timedelta(days=FAILING_FOR_DAYS), True),  # Exactly five days.
        (dt.timedelta(days=30), True),
        (dt.timedelta(days=FAILING_FOR_DAYS, seconds=-1), False),
        (dt.timedelta(hours=1), False),
    ],
)
def test_only_five_days_of_failure_disable(make_webhook, failing_for, disabled):
    webhook = make_webhook(failing_since=NOW - failing_for)

    assert disable_failing_webhooks([webhook.pk], NOW) == (
        [webhook.pk] if disabled else []
    )
    webhook.refresh_from_db()
    assert webhook.enabled is not disabled


def test_healthy_disabled_and_unlisted_webhooks_are_left_alone(make_webhook):
    long_ago = NOW - dt.timedelta(days=10)
    healthy = make_webhook(failing_since=None, last_success_at=long_ago)
    already = make_webhook(failing_since=long_ago, enabled=False)
    unlisted = make_webhook(failing_since=long_ago)
    failing = make_webhook(failing_since=long_ago)

    disabled = disable_failing_webhooks(iter([healthy.pk, already.pk, failing.pk]), NOW)

    assert disabled == [failing.pk]
    assert dict(Webhook.objects.values_list("pk", "enabled")) == {
        healthy.pk: True,
        already.pk: False,
        unlisted.pk: True,
        failing.pk: False,
    }
    assert Webhook.objects.get(pk=already.pk).disabled_reason == ""


def test_many_webhooks_take_one_query_to_find_and_one_to_update(make_webhook):
    long_ago = NOW - dt.timedelta(days=6)
    webhooks = [
        make_webhook(failing_since=long_ago - dt.timedelta(days=i)) for i in range(5)
    ]

    with CaptureQueriesContext(connection) as queries:
        disabled = disable_failing_webhooks([w.pk for w in webhooks], NOW)

    assert sorted(disabled) == sorted(w.pk for w in webhooks)
    statements = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    assert statements.count("SELECT") == 1
    assert statements.count("UPDATE") == 1
    reasons = set(Webhook.objects.values_list("disabled_reason", flat=True))
    assert len(reasons) == 5  # Each names its own first failure.


def test_no_ids_do_nothing(make_webhook):
    make_webhook(failing_since=NOW - dt.timedelta(days=10))

    assert disable_failing_webhooks([], NOW) == []
    assert Webhook.objects.get().enabled
