"""The database's files and the report files: for their owner only; a read-only database
is named in one line.

The database holds each library's secret key and players' names, so it, its ``-wal``
and ``-shm`` files, and the report files are created 0600 whatever the umask. A
database that cannot be written stops ``plan``, ``collect`` and ``run`` with one line
and exit code 2. Tests run as root, whom permission bits do not stop: the commands are
run in a child process without the capability that lets root write anyway
(CAP_DAC_OVERRIDE), which is what an ordinary user is.
"""

from __future__ import annotations

import ctypes
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.config import ReportRules
from core.config_file import load_config
from core.storage import ReadOnlyDatabase, open_db, read_only
from reports.figures import build_report
from reports.output import FORMATS, write_all
from reports.period import parse_period
from tests.conftest import write_config

PROJECT = Path(__file__).resolve().parent.parent
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_database_and_its_wal_and_shm_are_for_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bibliobot.db"
    with _umask(0o022):  # the usual umask: files would be 0644
        db = open_db(path)
        db["libraries"].insert({"id": "central", "secret": "k"})
    files = {p.name: _mode(p) for p in path.parent.iterdir()}
    assert files == {"bibliobot.db": 0o600, "bibliobot.db-wal": 0o600, "bibliobot.db-shm": 0o600}
    assert _mode(path.parent) == 0o700  # a folder made for it, too
    db.close()


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "bibliobot.db"
    open_db(path).close()
    path.chmod(0o640)  # the owner's choice, e.g. for a backup group
    open_db(path).close()
    assert _mode(path) == 0o640


def test_report_files_are_for_the_owner_only(tmp_path: Path) -> None:
    db = open_db(tmp_path / "bibliobot.db")
    db["libraries"].insert({"id": "central", "name": "Ц", "timezone": "Europe/Moscow", "paused": 0})
    report = build_report(
        db, parse_period("2026-Q4"), ReportRules(), now=datetime(2026, 12, 31, tzinfo=UTC)
    )
    targets = [(fmt, tmp_path / f"report.{fmt}") for fmt in FORMATS]
    (tmp_path / "report.csv.part").write_text("left over")
    (tmp_path / "report.csv.part").chmod(0o644)
    with _umask(0o022):
        write_all(report, targets)
    assert {path.name: _mode(path) for _, path in targets} == {
        f"report.{fmt}": 0o600 for fmt in FORMATS
    }


# -- a read-only database -------------------------------------------------------------


def _as_ordinary_user() -> Callable[[], None] | None:
    """For a child process: without root's power to write whatever the permission bits."""
    if os.geteuid() != 0:
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def drop() -> None:
        for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


def _bibliobot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_as_ordinary_user(),
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def _writable_here(path: Path) -> bool:
    """Whether a child process like the commands' can still write ``path``."""
    probe = f"open({str(path)!r}, 'ab').close()"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, preexec_fn=_as_ordinary_user()
    )
    return done.returncode == 0


@pytest.mark.parametrize("made_read_only", ["file", "folder"])
def test_a_read_only_database_stops_the_writing_commands_in_one_line(
    tmp_path: Path, made_read_only: str
) -> None:
    config_path = write_config(tmp_path)
    config_path.write_text(
        config_path.read_text(encoding="utf-8").replace(
            'storage = "bibliobot.db"', 'storage = "data/bibliobot.db"'
        ),
        encoding="utf-8",
    )
    storage = load_config(config_path).storage
    open_db(storage).close()
    locked = storage if made_read_only == "file" else storage.parent
    locked.chmod(0o444 if made_read_only == "file" else 0o555)
    try:
        probe = storage if made_read_only == "file" else storage.parent / "x"
        assert not _writable_here(probe), "the commands' process must not bypass permission bits"
        expected = (
            f"cannot write to the database {storage}: read-only {made_read_only}; "
            "check its permissions"
        )
        for command in ("plan", "collect", "run"):
            done = _bibliobot(command, "-c", str(config_path))
            assert (done.returncode, done.stderr.strip()) == (2, expected), (command, done)
            assert "Traceback" not in done.stderr + done.stdout
    finally:
        locked.chmod(0o700)


def test_a_refused_write_is_told_as_a_read_only_database(tmp_path: Path) -> None:
    path = tmp_path / "bibliobot.db"
    refused = read_only(path, sqlite3.OperationalError("attempt to write a readonly database"))
    assert isinstance(refused, ReadOnlyDatabase)
    assert str(refused) == f"cannot write to the database {path}: read-only; check its permissions"
    assert read_only(path, sqlite3.OperationalError("database is locked")) is None
