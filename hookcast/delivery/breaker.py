"""The circuit breaker: an endpoint that keeps failing is paused instead of
hammered (SPEC section 5, "Isolation").

Each host is in one of three states:

    closed     calls flow; consecutive failures are counted
    open       no call goes out until the cool-down has passed
    half-open  the cool-down has passed and exactly one call, the probe, may
               go; its outcome closes the breaker or opens it again for twice
               as long (up to a maximum), so a host that stays down is tried
               less and less often

Calls that a paused host holds back are not failed: they stay pending and
keep their place in the retry schedule, so nothing is lost while the host is
paused. The breaker is pure state in one worker's memory, fed by the
outcomes that worker sees, and is not safe to share between threads (the
worker drives it from its event loop). With several workers each keeps its
own, which still bounds what a dead endpoint receives.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# Five failures in a row is a pattern rather than a blip, yet few enough that
# a dead endpoint is paused within its first burst of calls.
THRESHOLD = 5
BASE_COOLDOWN_S = 30.0  # The first pause, about the first retry delays.
MAX_COOLDOWN_S = 3600.0  # A host is probed at least hourly.


@dataclass
class _Host:
    failures: int = 0  # Consecutive, since the last success.
    cooldown_s: float = 0.0  # The current pause; 0 while closed.
    open_until: float = 0.0  # When the current pause ends.
    probing: bool = False  # The one call of half-open is out.

    @property
    def is_open(self) -> bool:
        return self.cooldown_s > 0


class CircuitBreaker:
    """One breaker per host, in one object.

    ``clock`` returns seconds; a test passes a fake one.
    """

    def __init__(
        self,
        threshold: int = THRESHOLD,
        base_cooldown_s: float = BASE_COOLDOWN_S,
        max_cooldown_s: float = MAX_COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1:
            raise ValueError(f"threshold must be 1 or more, got {threshold}")
        if not 0 < base_cooldown_s <= max_cooldown_s:
            raise ValueError(
                "the cool-downs must satisfy 0 < base_cooldown_s <= "
                f"max_cooldown_s, got {base_cooldown_s} and {max_cooldown_s}"
            )
        self.threshold = threshold
        self.base_cooldown_s = base_cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self._clock = clock
        # Only hosts that have failed since their last success are kept, so
        # the map stays as small as the set of troubled endpoints.
        self._hosts: dict[str, _Host] = {}

    def allows(self, host: str) -> bool:
        """May a call to ``host`` go out now?

        While open, no. Once the cool-down has passed, yes for exactly one
        call, the probe, and no again until it has been reported; so every
        call allowed must be reported with ``record_success``,
        ``record_failure`` or ``record_not_its_fault``.
        """
        state = self._hosts.get(host)
        if state is None or not state.is_open:
            return True
        if state.probing or self._clock() < state.open_until:
            return False
        state.probing = True
        logger.info(
            "Probing %s after a pause of %.0f s",
            host,
            state.cooldown_s,
            extra={"action": "breaker_probe"},
        )
        return True

    def record_success(self, host: str) -> None:
        """A call to ``host`` succeeded: close its breaker, forget its past."""
        state = self._hosts.pop(host, None)
        if state is not None and state.is_open:
            logger.info(
                "%s answered again; calls resume",
                host,
                extra={"action": "breaker_closed"},
            )

    def record_failure(self, host: str) -> None:
        """A call to ``host`` failed: count it, and open the breaker after
        ``threshold`` in a row or when the probe failed."""
        state = self._hosts.setdefault(host, _Host())
        state.failures += 1
        if state.probing:
            state.probing = False
            self._open(host, state, min(state.cooldown_s * 2, self.max_cooldown_s))
        elif not state.is_open and state.failures >= self.threshold:
            self._open(host, state, self.base_cooldown_s)
        # Otherwise it is a call that was already out when the breaker
        # opened: it does not extend the pause, the host was not tried since.

    def record_not_its_fault(self, host: str) -> None:
        """A call to ``host`` failed for a reason that says nothing about the
        host (its address is refused, the GET URL is over the limit): it
        neither counts as a failure nor closes the breaker. A probe that
        ended this way tried nothing, so the next call may probe."""
        state = self._hosts.get(host)
        if state is not None:
            state.probing = False

    def paused_hosts(self) -> set[str]:
        """The hosts whose calls must not be claimed now: open and cooling
        down, or half-open with the probe already out."""
        now = self._clock()
        return {
            host
            for host, state in self._hosts.items()
            if state.is_open and (state.probing or now < state.open_until)
        }

    def _open(self, host: str, state: _Host, cooldown_s: float) -> None:
        state.cooldown_s = cooldown_s
        state.open_until = self._clock() + cooldown_s
        logger.warning(
            "Pausing calls to %s for %.0f s after %d failures in a row",
            host,
            cooldown_s,
            state.failures,
            extra={"action": "breaker_opened"},
        )
