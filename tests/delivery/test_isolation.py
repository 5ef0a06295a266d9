"""A host at its in-flight cap holds up only its own calls."""

from __future__ import annotations

import pytest

from hookcast.records.models import Listener
from hookcast.webhooks.models import Webhook
from tests.receiver import Receiver, Reply

PER_HOST = 2


@pytest.fixture
def narrow_hosts(delivery_settings):  # type: ignore[no-untyped-def]
    delivery_settings.HOOKCAST_MAX_IN_FLIGHT_PER_HOST = PER_HOST


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("narrow_hosts", "worker"),
]


def test_a_slow_host_does_not_hold_up_another(station, receiver: Receiver):  # type: ignore[no-untyped-def]
    # Two hosts, one receiver: "127.0.0.1" is slow, "localhost" is not.
    Webhook.objects.create(
        station=station, event="Listener.created", endpoint=receiver.url + "/slow"
    )
    Webhook.objects.create(
        station=station,
        event="Listener.updated",
        endpoint=f"https://localhost:{receiver.port}/fast",
    )
    receiver.script("/slow", *[Reply(delay_s=5.0)] * 6)
    created = [
        Listener.objects.create(station=station, first_name=f"Slow {n}")
        for n in range(6)
    ]
    receiver.wait_for(PER_HOST, "/slow")

    created[0].first_name = "Fast"
    created[0].save()

    receiver.wait_for(1, "/fast")
    # The slow host still has only its cap in flight, the rest waiting.
    assert len(receiver.received("/slow")) == PER_HOST
