"""Sizes and figures of the reliability suite (crashes, a hostile audience, secrets,
database faults).

``make test`` runs each check in its short size; ``make reliability`` sets
``BIBLIOBOT_RELIABILITY=full`` and runs the full sizes, with pytest's ``-s`` so that
each check's one line of figures (``reliability <check>: name=value ...``) is shown.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.server import Sandbox

FULL = os.environ.get("BIBLIOBOT_RELIABILITY", "").strip().lower() == "full"


def size(short: int, full: int) -> int:
    """The short size in ``make test``, the full one in ``make reliability``."""
    return full if FULL else short


def figures(check: str, **values: object) -> str:
    """Print (and return) one summary line of a check's figures."""
    line = f"reliability {check} ({'full' if FULL else 'short'}): " + " ".join(
        f"{name}={value}" for name, value in values.items()
    )
    print(line)
    return line


def wake_long_polls(box: Sandbox) -> None:
    """End the long polls a stopped bot left waiting on the stand-ins (a new update in each
    stream), so that the stand-ins stop at once instead of waiting for them to time out."""
    info = box.info()
    reader = box.vk.add_reader("Последний", "Читатель")
    for community in info["vk"]["communities"]:
        box.vk.join(reader, community["group_id"])
    box.telegram.post_as_admin(info["telegram"]["channel_id"], "·")
