"""A full disk as SQLite sees it, for tests: the real disk is left alone.

``PRAGMA max_page_count`` is set to the database's size and a trigger on each table
named needs new pages for every row written there, so those writes fail with
``sqlite3.OperationalError: database or disk is full``, like on a full disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

_VERBS = ("insert", "update")


def fill(db: sqlite_utils.Database, *tables: str) -> None:
    """From now on, writing a row of any of ``tables`` finds the disk full."""
    db.execute("create table if not exists disk_filler (data blob)")
    for table in tables:
        for verb in _VERBS:
            db.execute(
                f"create trigger if not exists fill_{table}_{verb} before {verb} on {table} "
                "begin insert into disk_filler values (zeroblob(1000000)); end"
            )
    size = db.execute("pragma page_count").fetchone()[0]
    db.execute(f"pragma max_page_count = {size}")


def free(db: sqlite_utils.Database, *tables: str) -> None:
    """Room again on the disk."""
    db.execute("pragma max_page_count = 1073741823")
    for table in tables:
        for verb in _VERBS:
            db.execute(f"drop trigger if exists fill_{table}_{verb}")


@contextmanager
def disk_full(db: sqlite_utils.Database, *tables: str) -> Iterator[None]:
    """Until the block ends, writing a row of any of ``tables`` finds the disk full."""
    fill(db, *tables)
    try:
        yield
    finally:
        free(db, *tables)
