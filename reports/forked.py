"""When a report may fork: its work split over child processes, on every core.

A report's parts share nothing (libraries when gathering, formats when writing), and
SQLite and Python each use one core per process; threads ran no faster. Forking is
safe only in a process with no other threads: a lock held by another thread at the
moment of the fork would stay held in the child forever. ``bibliobot report`` has
none; the bot, the demo and tests with running stand-ins do their reports in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading


def safe() -> bool:
    """Whether this process may fork children now."""
    return threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def context():
    """The multiprocessing context of forked children."""
    return multiprocessing.get_context("fork")
