"""Signed callback buttons: quiz answers, and poll votes where a network has no native polls.

A reader's client can send any callback data, so a button says what it is (a question and
option, or a poll action and option) and carries a short HMAC of that under the library's
secret: data that was not made by the bot, or names another question or poll, is rejected.

Button polls: one vote per person, a later press moves it. Each press is stored as a
``vote`` interaction; the totals are each voter's latest press, counted per option and
kept as poll totals (``votes_key``) so snapshots and results posts read them as they read
a native poll's totals.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import sqlite_utils

VOTE_PREFIX = "v"


def mac(secret: bytes, message: str) -> str:
    """The short signature of ``message`` under ``secret``."""
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()[:12]


def signed(secret: bytes, *parts: object) -> str:
    """``parts`` joined by colons, followed by their signature."""
    message = ":".join(str(p) for p in parts)
    return f"{message}:{mac(secret, message)}"


def read_signed(
    secret: bytes, data: object, prefix: str, count: int, limit: int
) -> list[int] | None:
    """The ``count`` numbers after ``prefix`` of data made by ``signed``; None if forged."""
    if not isinstance(data, str) or len(data) > limit:
        return None
    parts = data.split(":")
    if len(parts) != count + 2 or parts[0] != prefix:
        return None
    try:
        numbers = [int(p) for p in parts[1:-1]]
    except ValueError:
        return None
    if any(n < 0 for n in numbers):
        return None
    if not hmac.compare_digest(parts[-1], mac(secret, ":".join(parts[:-1]))):
        return None
    return numbers


# -- button polls ---------------------------------------------------------------------

VOTE_LIMIT = 128  # characters: far below any network's callback payload limit


def vote_data(secret: bytes, action_id: int, option: int, options: int) -> str:
    """The callback data of option ``option`` (0-based) of the poll posted by ``action_id``
    (``options``: how many the poll has, so a tally knows its zeros)."""
    return signed(secret, VOTE_PREFIX, action_id, option, options)


def poll_buttons(secret: bytes, action_id: int, options: int) -> tuple[str, ...]:
    """One signed button per option of a button poll, in order."""
    return tuple(vote_data(secret, action_id, n, options) for n in range(options))


def read_vote(secret: bytes, data: object) -> tuple[int, int, int] | None:
    """(action id, option, options) from ``vote_data``; None if forged or not a vote."""
    numbers = read_signed(secret, data, VOTE_PREFIX, 3, VOTE_LIMIT)
    if numbers is None or numbers[1] >= numbers[2]:
        return None
    return numbers[0], numbers[1], numbers[2]


def is_vote(data: object) -> bool:
    """Whether callback data claims to be a poll vote (signature not checked)."""
    return isinstance(data, str) and data.startswith(f"{VOTE_PREFIX}:")


def votes_key(network: str, poll_id: str) -> str:
    """The key of a button poll's totals (``poll_totals``): ids are per network."""
    return f"{network}:{poll_id}"


def tally(
    db: sqlite_utils.Database,
    network: str,
    target: str,
    remote_id: str,
    options: int,
    publication_id: int | None = None,
) -> dict[str, int]:
    """Votes per option of a button poll: each voter's latest press counts, once.

    ``publication_id``: the poll's publication, when known (its votes are found by index).
    """
    where = "network = ? and target = ? and remote_id = ? and kind = 'vote'"
    params: list[object] = [network, str(target), str(remote_id)]
    if publication_id is not None:
        where = "(publication_id = ? or publication_id is null) and " + where
        params.insert(0, publication_id)
    latest: dict[str, int] = {}
    for person, detail in db.execute(
        f"select person, detail from interactions where {where} order by at, id", params
    ):
        chosen = json.loads(detail or "{}").get("option_ids") or []
        if chosen and 0 <= int(chosen[0]) < options:
            latest[person] = int(chosen[0])
    totals = {str(n): 0 for n in range(options)}
    for option in latest.values():
        totals[str(option)] += 1
    return totals
