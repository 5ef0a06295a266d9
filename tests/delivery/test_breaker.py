"""The circuit breaker, driven by a fake clock, one scenario a row."""

from __future__ import annotations

import pytest

from hookcast.delivery.breaker import CircuitBreaker

HOST = "hooks.example.com"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(steps: str) -> list[object]:
    """Play ``steps`` against a breaker (threshold 3, cool-down 10 s up to
    40 s) and return what each question step answered.

    Steps, separated by spaces: ``F`` a failure, ``S`` a success, ``X`` a
    failure that is not the host's (a refused address), ``+N`` N
    seconds pass, ``?`` does ``allows(HOST)`` (answered ``Y``/``N``), ``P``
    is HOST among ``paused_hosts()`` (answered ``paused``/``-``).
    """
    clock = FakeClock()
    breaker = CircuitBreaker(
        threshold=3, base_cooldown_s=10, max_cooldown_s=40, clock=clock
    )
    answers: list[object] = []
    for step in steps.split():
        if step == "F":
            breaker.record_failure(HOST)
        elif step == "X":
            breaker.record_not_its_fault(HOST)
        elif step == "S":
            breaker.record_success(HOST)
        elif step.startswith("+"):
            clock.now += float(step[1:])
        elif step == "?":
            answers.append("Y" if breaker.allows(HOST) else "N")
        elif step == "P":
            answers.append("paused" if HOST in breaker.paused_hosts() else "-")
        else:
            raise ValueError(step)
    return answers


@pytest.mark.parametrize(
    ("steps", "answers"),
    [
        # A new host is allowed and not paused.
        ("? P", "Y -"),
        # Failures below the threshold keep it closed.
        ("F F ? P", "Y -"),
        # A success in between resets the count.
        ("F F S F F ?", "Y"),
        # The threshold opens it: refused and paused.
        ("F F F ? P", "N paused"),
        # Still open just before the cool-down ends.
        ("F F F +9.9 ? P", "N paused"),
        # After the cool-down it is no longer paused, and exactly one probe
        # is allowed; the host is paused again while the probe is out.
        ("F F F +10 P ? ? P", "- Y N paused"),
        # A successful probe closes it: calls flow and failures count anew.
        ("F F F +10 ? S ? ? P F F ?", "Y Y Y - Y"),
        # A failed probe reopens it for twice the cool-down (20 s).
        ("F F F +10 ? F ? +19.9 ? +0.1 ?", "Y N N Y"),
        # Each failed probe doubles it again, up to the 40 s maximum.
        (
            "F F F +10 ? F +20 ? F +39.9 ? +0.1 ? F +39.9 ? +0.1 ?",
            "Y Y N Y N Y",
        ),
        # A success resets the cool-down to the base, not the doubled one.
        ("F F F +10 ? F +20 ? S F F F +10 ?", "Y Y Y"),
        # Late failures of calls already out while open do not extend it.
        ("F F F +5 F F +5 ?", "Y"),
        # A success of a call that was already out closes it too.
        ("F F F S ? P", "Y -"),
        # Failures that are not the host's do not count towards opening it...
        ("X X X ? P", "Y -"),
        ("F F X ? P", "Y -"),
        # ...nor reset the count of those that are.
        ("F F X F ? P", "N paused"),
        # A probe that ends so tried nothing: the next call probes instead.
        ("F F F +10 ? X P ? P", "Y - Y paused"),
    ],
)
def test_breaker(steps, answers):
    assert run(steps) == answers.split()


def test_hosts_are_broken_apart():
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=2, clock=clock)
    for host in ("down.example.com", "down.example.com", "up.example.com"):
        breaker.record_failure(host)

    assert breaker.paused_hosts() == {"down.example.com"}
    assert not breaker.allows("down.example.com")
    assert breaker.allows("up.example.com")
    assert breaker.allows("other.example.com")


def test_the_defaults_open_after_five_and_double_from_30_s_to_an_hour():
    clock = FakeClock()
    breaker = CircuitBreaker(clock=clock)
    for _ in range(4):
        breaker.record_failure(HOST)
    assert breaker.allows(HOST)

    breaker.record_failure(HOST)
    pauses = []
    for _ in range(9):  # Each pause ends in a probe that fails.
        assert not breaker.allows(HOST)
        waited = 0
        while not breaker.allows(HOST):
            clock.now += 30
            waited += 30
        pauses.append(waited)
        breaker.record_failure(HOST)

    assert pauses == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0}, "threshold must be 1 or more"),
        ({"base_cooldown_s": 0}, "0 < base_cooldown_s <= max_cooldown_s"),
        ({"base_cooldown_s": 60, "max_cooldown_s": 30}, "got 60 and 30"),
    ],
)
def test_a_nonsensical_configuration_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CircuitBreaker(**kwargs)
