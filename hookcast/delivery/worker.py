"""The delivery worker: the one loop that sends calls (SPEC section 5).

    wake-up or poll → claim a batch (leased) → send each call, at most
    HOOKCAST_MAX_IN_FLIGHT_PER_HOST at once per endpoint host → decide
    (``retry``) → write outcomes back in batches → claim again

Claiming goes on while calls are being sent, so the pipe stays full, and a
host at its cap or paused by the circuit breaker is left out of claims, so
it never holds up calls to other hosts. All database work runs in the
worker's database process (``hookcast.delivery.database``), one job at a
time; the asyncio loop only ever waits for it, and keeps its interpreter
lock to itself.

On SIGTERM (or ``stop``) the worker stops claiming, lets the calls in flight
finish within a grace period, writes their outcomes, hands the calls it
claimed but did not send back to the queue, and exits. If it dies instead,
its leases run out and the calls are claimed again: a call is sent at least
once, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import threading
from collections import Counter, defaultdict, deque

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from hookcast.delivery.breaker import CircuitBreaker
from hookcast.delivery.claim import AttemptRecord, ClaimedCall, Outcome
from hookcast.delivery.database import DatabaseProcess
from hookcast.delivery.listen import in_process, listen, listen_params
from hookcast.delivery.retry import Decision, Verdict, decide
from hookcast.delivery.sender import MAX_CONNECTIONS, Sender
from hookcast.stations import idempotency
from hookcast.webhooks.models import CallStatus

logger = logging.getLogger(__name__)

# Calls being sent at once across all hosts: one connection each.
MAX_IN_FLIGHT = MAX_CONNECTIONS
# Calls leased per claim query: big enough to keep the pipe full, small
# enough that a claim is quick.
CLAIM_BATCH = 256
# Calls held (claimed, not yet decided) at once.
MAX_HELD = 1024
# A host drops out of claims once this many times its in-flight cap are
# held for it, so one busy endpoint cannot fill the worker (16 times the
# default cap of 16 is a quarter of MAX_HELD). It is also what a host has
# queued when the next claim for it starts, and that claim may wait behind
# a write-back in the database process: at 4 times the cap (64 calls, some
# 15 ms of sending to a fast endpoint) its senders ran out of calls before
# nearly every claim landed.
HOST_BACKLOG_FACTOR = 16
# How long calls in flight may take to finish after SIGTERM: longer than one
# attempt's 15 s timeout, shorter than the 30 s most supervisors wait.
SHUTDOWN_GRACE_S = 20.0
# After a database error, wait this long before trying again.
DATABASE_RETRY_S = 1.0
# Old calls are purged a small batch at a time, between other work.
RETENTION_INTERVAL_S = 60.0
RETENTION_BATCH = 500
# After outcomes are written, the next call of the same record may be
# claimable: the worker looks again within this long, rather than after every
# write-back, which at thousands of calls a second would be a claim each.
RECHECK_AFTER_WRITE_S = 0.05
# How often the worker checks the ``stop`` event of its caller.
STOP_CHECK_S = 0.05

CALL_STATUS = {
    Verdict.DELIVERED: CallStatus.DELIVERED,
    Verdict.RETRY: CallStatus.PENDING,
    Verdict.FAILED: CallStatus.FAILED,
    Verdict.DISABLE: CallStatus.FAILED,
}


def run_worker(
    *,
    stop: threading.Event | None = None,
    in_process_wakeup: bool = False,
    handle_signals: bool = True,
) -> None:
    """Run until SIGTERM/SIGINT (if handle_signals) or `stop` is set."""
    worker = Worker(in_process_wakeup=in_process_wakeup)
    asyncio.run(worker.run(stop=stop, handle_signals=handle_signals))


class Worker:
    """One delivery loop and its state; ``run_worker`` runs it."""

    def __init__(self, *, in_process_wakeup: bool = False) -> None:
        self.in_process_wakeup = in_process_wakeup
        self.vendor = connections["default"].vendor
        self.breaker = CircuitBreaker()
        self.per_host: int = settings.HOOKCAST_MAX_IN_FLIGHT_PER_HOST
        self.lease = dt.timedelta(seconds=settings.HOOKCAST_LEASE_S)
        self.database = DatabaseProcess()
        # Claimed and not yet decided, by call id; waiting per host; sending.
        self.held: dict[int, ClaimedCall] = {}
        self.waiting: defaultdict[str, deque[ClaimedCall]] = defaultdict(deque)
        self.in_flight: Counter[str] = Counter()
        self.held_per_host: Counter[str] = Counter()
        self.host_of_webhook: dict[int, str] = {}
        # Decided and not yet written; claimed but handed back unsent.
        self.outcomes: list[Outcome] = []
        self.released: list[int] = []
        self.tasks: set[asyncio.Task[None]] = set()
        # Set when outcomes were written since the last claim.
        self.recheck: asyncio.TimerHandle | None = None

    async def run(
        self, *, stop: threading.Event | None = None, handle_signals: bool = True
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.flush_needed = asyncio.Event()
        self.flush_lock = asyncio.Lock()
        self.slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        if handle_signals and threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self.loop.add_signal_handler(signum, self.request_stop)
        background = [
            asyncio.create_task(self.flusher()),
            asyncio.create_task(self.renew_leases()),
            asyncio.create_task(self.purge_old_calls()),
        ]
        if stop is not None:
            background.append(asyncio.create_task(self.watch(stop)))
        if self.vendor == "postgresql":
            background.append(asyncio.create_task(listen(listen_params(), self.wake)))
        wakeup = in_process(self.loop, self.wake)
        try:
            await self.database.start()
            logger.info(
                "Delivery worker started on %s.",
                self.vendor,
                extra={"action": "worker_started"},
            )
            async with Sender() as self.sender:
                with wakeup if self.in_process_wakeup else contextlib.nullcontext():
                    await self.claim_loop()
                await self.drain()
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await self.database.stop()
            logger.info("Delivery worker stopped.", extra={"action": "worker_stopped"})

    def request_stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    async def watch(self, stop: threading.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(STOP_CHECK_S)
        self.request_stop()

    # Claiming ---------------------------------------------------------------

    async def claim_loop(self) -> None:
        poll_s: float = settings.HOOKCAST_POLL_INTERVAL_S
        while not self.stopping.is_set():
            self.wake.clear()
            if self.recheck is not None:
                self.recheck.cancel()  # This claim looks anyway.
                self.recheck = None
            room = min(CLAIM_BATCH, MAX_HELD - len(self.held))
            try:
                wait_s = await self.claim(room, poll_s) if room > 0 else poll_s
            except DatabaseError as exc:
                log_database_error("claim calls", exc)
                wait_s = DATABASE_RETRY_S
            if wait_s > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), wait_s)

    async def claim(self, limit: int, poll_s: float) -> float:
        """Claim and start sending up to ``limit`` calls; return how long to
        wait before the next claim unless woken: none while calls are left,
        else until the next retry is due or the next poll."""
        now = timezone.now()
        rows, due = await self.database.run(
            "claim", now, now + self.lease, limit, self.excluded_webhooks()
        )
        for row in rows:
            self.hold(ClaimedCall(*row))
        if len(rows) == limit:
            return 0.0
        if due is None:
            return poll_s
        return min(poll_s, max((due - now).total_seconds(), 0.001))

    def excluded_webhooks(self) -> set[int]:
        """Webhooks whose host is paused by the breaker or already has all
        the calls it may have; their calls stay queued for later."""
        paused = self.breaker.paused_hosts()
        full = HOST_BACKLOG_FACTOR * self.per_host
        return {
            webhook_id
            for webhook_id, host in self.host_of_webhook.items()
            if host in paused or self.held_per_host[host] >= full
        }

    # Sending ----------------------------------------------------------------

    def hold(self, call: ClaimedCall) -> None:
        self.held[call.id] = call
        self.held_per_host[call.host] += 1
        self.host_of_webhook[call.webhook_id] = call.host
        self.waiting[call.host].append(call)
        self.start_sending(call.host)

    def let_go(self, call: ClaimedCall) -> None:
        """Stop counting ``call`` as held; wake the claim loop when that
        makes room where claims were held back."""
        host_was_full = (
            self.held_per_host[call.host] == HOST_BACKLOG_FACTOR * self.per_host
        )
        worker_was_full = len(self.held) == MAX_HELD
        del self.held[call.id]
        self.held_per_host[call.host] -= 1
        if host_was_full or worker_was_full:
            self.wake.set()

    def start_sending(self, host: str) -> None:
        """Start a sender for each of ``host``'s waiting calls, up to its cap.

        A sender sends one call after another from its host's queue until
        the queue is empty, rather than a task per call: creating and
        scheduling a task per call cost about a tenth of the sending loop.
        """
        waiting = self.waiting[host]
        while waiting and self.in_flight[host] < self.per_host:
            if self.stopping.is_set():
                return
            self.in_flight[host] += 1
            task = asyncio.create_task(self.send_from(host, waiting.popleft()))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def send_from(self, host: str, call: ClaimedCall) -> None:
        """Deliver ``call``, then the host's next waiting calls in turn."""
        waiting = self.waiting[host]
        try:
            while True:
                await self.deliver(call)
                if not waiting or self.stopping.is_set():
                    return
                call = waiting.popleft()
        finally:
            self.in_flight[host] -= 1
            # Only after a crash can calls be left waiting with no sender.
            self.start_sending(host)

    async def deliver(self, call: ClaimedCall) -> None:
        try:
            if not self.breaker.allows(call.host):
                # The endpoint is paused: the call goes back to the queue
                # without using an attempt.
                self.release(call)
                return
            async with self.slots:
                attempt = await self.sender.send(call)
            self.record(call, attempt)
        except asyncio.CancelledError:
            self.release(call)
            raise
        except Exception:
            # A bug must not strand the call: it goes back to the queue.
            logger.exception(
                "Could not send call %s to %s; it stays queued.",
                call.call_id,
                call.host,
                extra={"action": "call_crashed", "host": call.host},
            )
            self.release(call)

    def release(self, call: ClaimedCall) -> None:
        self.let_go(call)
        self.released.append(call.id)
        self.flush_needed.set()

    def record(self, call: ClaimedCall, attempt: AttemptRecord) -> None:
        decision = decide(
            status=attempt.status,
            retry_after=attempt.response_headers.get("Retry-After"),
            retryable=attempt.retryable,
            retry_count=call.retry_count,
            schedule=settings.HOOKCAST_RETRY_SCHEDULE,
            jitter=settings.HOOKCAST_RETRY_JITTER,
            now=dt.datetime.now(dt.UTC),
        )
        if attempt.succeeded:
            self.breaker.record_success(call.host)
        elif attempt.retryable:
            self.breaker.record_failure(call.host)
        else:
            # Refused before anything was sent: the host is not to blame.
            self.breaker.record_not_its_fault(call.host)
        log_outcome(call, attempt, decision)
        self.let_go(call)
        self.outcomes.append(
            Outcome(
                call=call,
                attempt=attempt,
                status=CALL_STATUS[decision.verdict],
                retry_count=decision.retry_count,
                next_attempt_at=decision.next_attempt_at or attempt.sent_at,
                disable_webhook=decision.verdict is Verdict.DISABLE,
            )
        )
        self.flush_needed.set()

    # Writing back -------------------------------------------------------------

    async def flusher(self) -> None:
        while True:
            await self.flush_needed.wait()
            self.flush_needed.clear()
            # Shielded: stopping the worker must not cut a write-back short.
            await asyncio.shield(self.flush())

    async def flush(self) -> None:
        """Write every outcome decided so far in one transaction."""
        async with self.flush_lock:
            outcomes, self.outcomes = self.outcomes, []
            released, self.released = self.released, []
            try:
                if outcomes:
                    await self.database.run(
                        "write_back", [outcome.to_row() for outcome in outcomes]
                    )
                if released:
                    await self.database.run("set_lease", released, None)
            except DatabaseError as exc:
                log_database_error("write outcomes back", exc)
                # Kept for the next flush; until then the calls stay leased.
                self.outcomes[:0] = outcomes
                self.released[:0] = released
                await asyncio.sleep(DATABASE_RETRY_S)
                self.flush_needed.set()
                return
        if outcomes and self.recheck is None:
            self.recheck = self.loop.call_later(RECHECK_AFTER_WRITE_S, self.wake.set)

    async def renew_leases(self) -> None:
        """Keep the leases of held calls alive while they wait their turn, so
        only a dead worker's calls are ever claimed again."""
        interval_s = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.database.run(
                    "set_lease", list(self.held), timezone.now() + self.lease
                )
            except DatabaseError as exc:
                log_database_error("renew leases", exc)

    async def purge_old_calls(self) -> None:
        while True:
            await asyncio.sleep(RETENTION_INTERVAL_S)
            before = timezone.now() - dt.timedelta(
                days=settings.HOOKCAST_RETENTION_DAYS
            )
            try:
                while (
                    await self.database.run("purge_old_calls", before, RETENTION_BATCH)
                    == RETENTION_BATCH
                ):
                    await asyncio.sleep(0)
                while (
                    await self.database.run("purge_idempotency_keys")
                    == idempotency.PURGE_BATCH
                ):
                    await asyncio.sleep(0)
            except DatabaseError as exc:
                log_database_error("purge old calls", exc)

    # Stopping -----------------------------------------------------------------

    async def drain(self) -> None:
        """Finish what is in flight, hand back what is not, write it all."""
        for waiting in self.waiting.values():
            while waiting:
                self.release(waiting.popleft())
        if self.tasks:
            logger.info(
                "Stopping: waiting for %d calls in flight.",
                len(self.tasks),
                extra={"action": "worker_stopping"},
            )
            _, unfinished = await asyncio.wait(self.tasks, timeout=SHUTDOWN_GRACE_S)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        await self.flush()
        if self.outcomes or self.released:
            await self.flush()  # One more try after a database error.


def log_outcome(call: ClaimedCall, attempt: AttemptRecord, decision: Decision) -> None:
    if decision.verdict is Verdict.DELIVERED and not logger.isEnabledFor(logging.INFO):
        return  # Thousands a second: not even the arguments are built.
    extra = {"host": call.host, "webhook_call_id": call.call_id}
    result = f"HTTP {attempt.status}" if attempt.status else attempt.summary
    if decision.verdict is Verdict.DELIVERED:
        logger.info(
            "Delivered call %s to %s (%s).",
            call.call_id,
            call.host,
            result,
            extra={"action": "call_delivered", **extra},
        )
    elif decision.verdict is Verdict.RETRY:
        logger.warning(
            "Call %s to %s failed (%s); retry %d at %s.",
            call.call_id,
            call.host,
            result,
            decision.retry_count,
            decision.next_attempt_at,
            extra={"action": "call_retry", **extra},
        )
    else:
        why = (
            "the endpoint answered 410 Gone, so its webhook is disabled"
            if decision.verdict is Verdict.DISABLE
            else result
        )
        logger.error(
            "Gave up call %s to %s after %d attempts (%s).",
            call.call_id,
            call.host,
            call.attempt_count + 1,
            why,
            extra={"action": "call_failed", **extra},
        )


def log_database_error(doing: str, exc: DatabaseError) -> None:
    logger.warning(
        "Could not %s (%s); trying again shortly.",
        doing,
        exc,
        extra={"action": "database_error"},
    )
