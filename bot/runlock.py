"""One running bot per database: ``bibliobot run`` holds a lock file next to it.

Two bots on one database would both fire the same actions and fight over SQLite's
write lock ("database is locked"), leaving posts half sent and marked uncertain. So
``bibliobot run`` takes an ``fcntl.flock`` on ``<database>.lock`` (mode 0600) before
anything else, and a second one refuses to start, naming the first by its pid, which
the file holds. The kernel drops the lock when its process ends, however it ends (a
crash, SIGKILL), so a lock file left behind does not block the next start; the file
itself stays, since removing it would let two processes lock two different files.

A flock belongs to an open file description: two ``hold`` calls in one process
conflict as two processes do. ``demo`` and tests that build the app directly do
not take the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from core import messages
from core.errors import BibliobotError


class AlreadyRunning(BibliobotError):
    """Another ``bibliobot run`` holds the database."""


class RunLock:
    """A held lock; released by ``release`` or on leaving a ``with`` block (or at exit)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        """Forget the pid and let go of the lock."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # still held: nobody reads a half-cleared file
        finally:
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def lock_path(database: Path) -> Path:
    """Where the lock of ``database`` lives: ``<database>.lock`` beside it."""
    return database.with_name(database.name + ".lock")


def hold(database: Path) -> RunLock:
    """Take the run lock of ``database``; AlreadyRunning naming the holder's pid if taken."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise AlreadyRunning(
            messages.text("run.already_running", database=database, pid=holder)
        ) from None
    except BaseException:
        os.close(fd)
        raise
    # A file left wider (by hand, or another tool) is narrowed; if it is someone else's,
    # the lock still works.
    with contextlib.suppress(OSError):
        os.fchmod(fd, 0o600)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return RunLock(path, fd)
