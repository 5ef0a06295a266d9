"""Retention: old calls are purged in batches, oldest first."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from hookcast.delivery.retention import (
    ProgressBar,
    created_before,
    main,
    purge,
    purge_batch,
)
from hookcast.webhooks.models import Attempt, Call, Event, Webhook

NOW = timezone.now()
CUTOFF = NOW - dt.timedelta(days=30)


@pytest.fixture
def webhook(station):  # type: ignore[no-untyped-def]
    return Webhook.objects.create(
        station=station, event="Listener.updated", endpoint="https://hooks.example.com/"
    )


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def make_event(webhook: Webhook, created_at: dt.datetime) -> Event:
    return Event.objects.create(
        station=webhook.station,
        key="Listener.updated",
        sender_id=1,
        sender="{}",
        created_at=created_at,
    )


def make_call(
    webhook: Webhook,
    created_at: dt.datetime,
    attempts: int = 0,
    event: Event | None = None,
) -> Call:
    call = Call.objects.create(
        station=webhook.station,
        webhook=webhook,
        event=event or make_event(webhook, created_at),
        ordering_key="Listener:1",
        created_at=created_at,
    )
    for number in range(1, attempts + 1):
        Attempt.objects.create(
            call=call,
            number=number,
            sent_at=created_at,
            request_method="POST",
            request_url="https://hooks.example.com/",
        )
    return call


def remaining(calls: list[Call]) -> list[int]:
    """Which of ``calls``, by position, are still stored."""
    kept = set(Call.objects.values_list("pk", flat=True))
    return [i for i, call in enumerate(calls) if call.pk in kept]


def test_batches_delete_the_oldest_calls_first_and_never_newer_ones(webhook):
    calls = [make_call(webhook, days_ago(d)) for d in (40, 38, 35, 31, 29, 1)]

    assert purge_batch(CUTOFF, batch_size=2) == 2
    assert remaining(calls) == [2, 3, 4, 5]  # 40 and 38 days old went first.

    assert purge_batch(CUTOFF, batch_size=2) == 2
    assert remaining(calls) == [4, 5]

    assert purge_batch(CUTOFF, batch_size=2) == 0
    assert remaining(calls) == [4, 5]


def test_a_call_out_of_id_order_is_never_purged_early(webhook):
    # Ids grow with creation time, up to a clock step back: the search for
    # the old calls goes by id, and a newer call among them is still kept.
    calls = [make_call(webhook, days_ago(d)) for d in (40, 29, 35, 1)]

    purge(CUTOFF)
    assert 0 not in remaining(calls)
    assert {1, 3} <= set(remaining(calls))


def test_finding_the_old_calls_takes_few_queries(
    webhook, django_assert_max_num_queries
):
    calls = [make_call(webhook, days_ago(40 - d / 10)) for d in range(200)]

    with django_assert_max_num_queries(12):  # log2(200) steps, and the ends
        old = sorted(created_before(CUTOFF).values_list("pk", flat=True))
    assert old == [call.pk for call in calls[:100]]


def test_attempts_go_with_their_calls(webhook):
    old = make_call(webhook, days_ago(40), attempts=3)
    new = make_call(webhook, days_ago(2), attempts=2)

    purge_batch(CUTOFF)

    assert not Call.objects.filter(pk=old.pk).exists()
    assert list(Attempt.objects.values_list("call_id", "number")) == [
        (new.pk, 1),
        (new.pk, 2),
    ]


def test_an_event_goes_once_no_call_refers_to_it(webhook, station):
    other = Webhook.objects.create(
        station=station, event="Listener.updated", endpoint="https://other.example/"
    )
    shared = make_event(webhook, days_ago(40))
    first = make_call(webhook, days_ago(40), event=shared)
    make_call(other, days_ago(40), event=shared)
    recent = make_call(webhook, days_ago(3))

    assert purge_batch(CUTOFF, batch_size=1) == 1
    assert not Call.objects.filter(pk=first.pk).exists()
    assert Event.objects.filter(pk=shared.pk).exists()  # Still has a call.

    assert purge_batch(CUTOFF, batch_size=1) == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [recent.event_id]


def test_events_left_without_calls_by_a_deleted_webhook_go_too(webhook, station):
    gone = Webhook.objects.create(
        station=station, event="Listener.updated", endpoint="https://gone.example/"
    )
    orphaned = make_call(gone, days_ago(45)).event_id
    gone.delete()  # Its calls go, their events stay.
    make_call(webhook, days_ago(40))
    recent = make_call(webhook, days_ago(3))

    purge_batch(CUTOFF)

    assert not Event.objects.filter(pk=orphaned).exists()
    assert list(Event.objects.values_list("pk", flat=True)) == [recent.event_id]


def test_a_call_a_worker_holds_is_left_for_later(webhook):
    now = timezone.now()
    held = make_call(webhook, days_ago(40))
    Call.objects.filter(pk=held.pk).update(leased_until=now + dt.timedelta(minutes=1))
    expired = make_call(webhook, days_ago(40))
    Call.objects.filter(pk=expired.pk).update(
        leased_until=now - dt.timedelta(minutes=1)
    )

    assert purge_batch(CUTOFF) == 1
    assert list(Call.objects.values_list("pk", flat=True)) == [held.pk]


def test_purge_runs_batches_until_done_and_reports_progress(webhook):
    for day in range(31, 38):
        make_call(webhook, days_ago(day), attempts=1)
    make_call(webhook, days_ago(1))
    seen: list[int] = []

    assert purge(CUTOFF, batch_size=3, progress=seen.append) == 7

    assert seen == [3, 6, 7]
    assert Call.objects.count() == 1


def test_main_prints_the_count_and_a_line_per_tenth(webhook, capsys):
    for day in range(31, 35):
        make_call(webhook, days_ago(day))
    make_call(webhook, days_ago(1))

    assert main(["--days", "30", "--batch-size", "3"]) == 0

    out, err = capsys.readouterr()
    assert out.startswith("Purged 4 calls created before ")
    assert out.endswith(", with their attempts and events.\n")
    assert err == "70% 3/4 calls\n100% 4/4 calls\n"
    assert Call.objects.count() == 1


def test_dry_run_counts_with_the_retention_setting_and_deletes_nothing(
    webhook, capsys, settings
):
    settings.HOOKCAST_RETENTION_DAYS = 10
    for day in (12, 11, 5):
        make_call(webhook, days_ago(day))

    assert main(["--dry-run"]) == 0
    assert main(["--dry-run", "--days", "12"]) == 0

    many, one = capsys.readouterr().out.splitlines()
    assert many.startswith("2 calls created before ")
    assert many.endswith(" would be purged.")
    assert one.startswith("1 call created before ")
    assert Call.objects.count() == 3


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--days", "-1"], "--days: expected a whole number, 0 or more, got '-1'"),
        (["--days", "week"], "--days: expected a whole number, 0 or more"),
        (["--batch-size", "0"], "--batch-size: expected a whole number, 1 or more"),
    ],
)
def test_bad_arguments_are_named(db, capsys, argv, named):
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert named in capsys.readouterr().err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_bar_is_redrawn_in_place():
    terminal = Terminal()
    bar = ProgressBar(4, terminal)

    bar.update(1)
    bar.update(4)
    bar.finish()

    assert terminal.getvalue() == (
        "\r[########......................]  25% 1/4 calls"
        "\r[##############################] 100% 4/4 calls\n"
    )
