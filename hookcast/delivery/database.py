"""The worker's database process: where the delivery loop's queries run.

The sending loop is bound by its process's one interpreter lock (GIL). With
the database work on a thread beside it, that thread took the lock for
every row it built and every statement it ran, and each hand-over slowed the
loop as well. So the worker starts one child process,
``python -m hookcast.delivery.database``, which holds the worker's
database connection and runs its jobs (``hookcast.delivery.jobs``) one at a
time, in the order they were asked for, as the one thread did:

    sending loop ──(job, arguments)──▶ database process
    sending loop ◀──(result | error)── database process

Messages are pickles of plain values, each after its length, over a socket
pair; the loop reads its answers with asyncio and never blocks on the
socket. Claims come back as rows of values and outcomes go as rows; the SQL,
the JSON of the headers and the datetime conversion all happen in the child.

The child lives as long as its socket: it exits when the worker closes it,
and when the worker is killed, since the kernel closes it then. It ignores
SIGINT and SIGTERM, which a terminal or a supervisor may send to the whole
process group, so that the worker can still write back what it has sent
before it stops. If the child dies, the jobs waiting for it fail with a
``DatabaseError``, which the worker handles like any other (waits, then
tries again), and the next job starts a new child.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError

logger = logging.getLogger(__name__)

# Each message is its length, then a pickle: (job, args) one way, (failed,
# result or exception) the other.
LENGTH = struct.Struct("!I")
# How long a new child may take to import Django and answer its first job.
START_TIMEOUT_S = 60.0

Jobs = dict[str, Callable[..., Any]]


class DatabaseProcessExited(DatabaseError):
    """The database process exited before it answered."""


class DatabaseProcess:
    """The worker's side: ``await database.run("claim", now, ...)``."""

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self.process: subprocess.Popen[bytes] | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reading: asyncio.Task[None] | None = None
        # The jobs sent and not yet answered, oldest first: the child answers
        # in the order it was asked.
        self.unanswered: deque[asyncio.Future[Any]] = deque()
        self.starting = asyncio.Lock()

    async def start(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hookcast.delivery.database",
                    str(theirs.fileno()),
                ],
                pass_fds=[theirs.fileno()],
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        reader, self.writer = await asyncio.open_unix_connection(sock=ours)
        self.reading = asyncio.create_task(self.read_answers(reader))
        try:
            await asyncio.wait_for(
                self.send("configure", configuration(self.using)), START_TIMEOUT_S
            )
        except BaseException:
            await self.stop()
            raise

    async def run(self, job: str, *args: Any) -> Any:
        """Run ``job`` of ``hookcast.delivery.jobs`` in the child; its result,
        or the exception it raised."""
        async with self.starting:
            if self.writer is None or self.writer.is_closing():
                if self.process is not None:
                    await self.stop()
                    logger.warning(
                        "The database process exited; starting a new one.",
                        extra={"action": "database_process_restarted"},
                    )
                await self.start()
        return await self.send(job, *args)

    async def send(self, job: str, *args: Any) -> Any:
        assert self.writer is not None
        message = pickle.dumps((job, args), protocol=pickle.HIGHEST_PROTOCOL)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.unanswered.append(answer)
        self.writer.writelines([LENGTH.pack(len(message)), message])
        return await answer

    async def read_answers(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                (length,) = LENGTH.unpack(await reader.readexactly(LENGTH.size))
                failed, value = pickle.loads(await reader.readexactly(length))
                answer = self.unanswered.popleft()
                if answer.done():
                    continue  # Its caller stopped waiting.
                if failed:
                    answer.set_exception(value)
                else:
                    answer.set_result(value)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # The child has gone.
        finally:
            if self.writer is not None:
                self.writer.close()
            while self.unanswered:
                answer = self.unanswered.popleft()
                if not answer.done():
                    answer.set_exception(
                        DatabaseProcessExited(
                            "The worker's database process exited before it answered."
                        )
                    )

    async def stop(self) -> None:
        """Close the socket, which ends the child, and wait for it."""
        if self.writer is not None:
            self.writer.close()
        if self.reading is not None:
            await asyncio.gather(self.reading, return_exceptions=True)
        if self.process is not None:
            await asyncio.to_thread(self.process.wait)
        self.writer = self.reading = self.process = None


def configuration(using: str) -> dict[str, Any]:
    """What the child needs to open the same database with the same
    settings, as the worker has them now (tests change them at run time)."""
    from django.conf import settings
    from django.db import connections

    return {
        "using": using,
        "database": dict(connections[using].settings_dict),
        "settings": {
            name: getattr(settings, name)
            for name in dir(settings)
            if name.startswith("HOOKCAST_")
        },
    }


# The child ------------------------------------------------------------------


def serve(sock: socket.socket) -> None:
    """Answer the worker's jobs, one at a time, until its socket closes.
    The first is ``configure``, which adds the others."""
    jobs: Jobs = {}
    jobs["configure"] = lambda configuration: jobs.update(configured(configuration))
    stream = sock.makefile("rwb")
    try:
        while True:
            length = stream.read(LENGTH.size)
            if len(length) < LENGTH.size:
                return  # The worker has closed the socket, or died.
            job, args = pickle.loads(stream.read(LENGTH.unpack(length)[0]))
            try:
                answer = (False, jobs[job](*args))
            except Exception as exc:
                answer = (True, sendable(exc))
            message = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
            stream.write(LENGTH.pack(len(message)))
            stream.write(message)
            stream.flush()
    except BrokenPipeError:
        return  # The worker died while this job ran.
    finally:
        if "close" in jobs:
            jobs["close"]()


def sendable(exc: Exception) -> Exception:
    """``exc`` as the worker can unpickle and handle it: a database error
    keeps its class and message, anything else becomes a RuntimeError."""
    if isinstance(exc, DatabaseError):
        return type(exc)(*exc.args)
    return RuntimeError(f"{type(exc).__name__}: {exc}")


def configured(configuration: dict[str, Any]) -> Jobs:
    """Django set up as the worker has it; the jobs on its database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hookcast.settings")
    import django
    from django.conf import settings
    from django.db import connections

    django.setup()
    for name, value in configuration["settings"].items():
        setattr(settings, name, value)
    # The worker's database as it has it (under test, the test database),
    # before the connection is opened.
    connections[configuration["using"]].settings_dict.update(configuration["database"])
    from hookcast.delivery import jobs

    return jobs.for_database(configuration["using"])


def main() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    serve(socket.socket(fileno=int(sys.argv[1])))


if __name__ == "__main__":
    main()
