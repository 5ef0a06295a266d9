"""Test calls: a real call of one webhook, sent on request from the panel.

A test call is an :class:`Event` and a :class:`Call` inserted as event
capture inserts them, followed by the same wake-up, so the worker sends,
retries and logs it like any other; the web role never sends it itself
(SPEC section 7). Only the one webhook gets it, not every webhook of the
event.

Its sender is the station's most recently created record of the event's
type, as it stands now. A station with no such record gets a sample sender
instead: a record of that type that was never saved, with ``id`` and
``sender_id`` 0 and the nil UUID, values no stored record can have, so a
receiver can tell it from real data.
"""

from __future__ import annotations

import json
import logging
import uuid

from django.db import router, transaction

from hookcast.records.models import Record
from hookcast.records.registry import record_type
from hookcast.webhooks import wakeup
from hookcast.webhooks.models import Call, Event, Webhook, new_call_id

logger = logging.getLogger(__name__)

# A test call's ordering key. Its own key, so it neither waits behind the
# record's pending changes nor holds them up (calls with one key go in order).
TEST_ORDERING_PREFIX = "test:"
SAMPLE_SENDER_ID = 0
SAMPLE_UUID = uuid.UUID(int=0)


def sender_for(webhook: Webhook) -> Record:
    """The record a test call of ``webhook`` carries (see the module doc)."""
    model = record_type(webhook.event.partition(".")[0])
    latest = (
        model._default_manager.filter(station_id=webhook.station_id)
        .order_by("-pk")
        .first()
    )
    if latest is not None:
        return latest
    sample = model(station=webhook.station, uuid=SAMPLE_UUID)
    sample.pk = SAMPLE_SENDER_ID
    return sample


def is_sample(record: Record) -> bool:
    return record.pk == SAMPLE_SENDER_ID and record.uuid == SAMPLE_UUID


def is_test_call(call: Call) -> bool:
    return call.ordering_key.startswith(TEST_ORDERING_PREFIX)


def send_test_call(webhook: Webhook) -> Call:
    """Queue a test call of ``webhook`` and wake the worker; return the call."""
    using = router.db_for_write(Call)
    sender = sender_for(webhook)
    representation = json.dumps(
        sender.represent(webhook.station.zone), ensure_ascii=False
    )
    call_id = new_call_id()
    with transaction.atomic(using=using):
        event = Event.objects.using(using).create(
            station_id=webhook.station_id,
            key=webhook.event,
            sender_id=sender.pk,
            sender=representation,
        )
        call = Call.objects.using(using).create(
            call_id=call_id,
            station_id=webhook.station_id,
            webhook=webhook,
            event=event,
            ordering_key=f"{TEST_ORDERING_PREFIX}{call_id}",
            next_attempt_at=event.created_at,
            created_at=event.created_at,
        )
        wakeup.calls_added(using)
    logger.info(
        "Test call %s queued for webhook %s (%s)",
        call.call_id,
        webhook.pk,
        webhook.endpoint_host,
        extra={"action": "test_call_queued"},
    )
    return call
