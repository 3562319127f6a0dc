"""VK players' names for quiz standings: learnt with one ``users.get`` per batch.

A VK update names a reader only by id. Standings name players by a mention, which VK
shows as a link to them; its text is their name when ``users.get`` gave it, else
``id…``. Names are asked for only while a quiz question is open, once per reader.
"""

from __future__ import annotations

from typing import Any

MAX_IDS = 1000  # users.get takes at most this many ids a call
_KEEP = 50_000  # names remembered; beyond that the memory starts afresh
_UNSAFE = str.maketrans({"[": "(", "]": ")", "|": "/"})  # would break the mention markup


class VkNames:
    """The names of readers seen in this community's quiz answers."""

    def __init__(self) -> None:
        self._known: dict[int, str] = {}

    def unknown(self, updates: list[dict[str, Any]]) -> list[int]:
        """Readers in these updates whose names are not known yet (at most MAX_IDS)."""
        found: list[int] = []
        for update in updates:
            user = _author(update)
            if user is not None and user > 0 and user not in self._known and user not in found:
                found.append(user)
        return found[:MAX_IDS]

    def learn(self, asked: list[int], people: Any) -> None:
        """Take in a ``users.get`` answer; an id it did not name stays ``id…``."""
        if len(self._known) > _KEEP:
            self._known.clear()
        for user in asked:
            self._known[user] = ""
        for person in people if isinstance(people, list) else []:
            if not isinstance(person, dict) or not isinstance(person.get("id"), int):
                continue
            name = " ".join(
                str(person.get(part) or "").strip() for part in ("first_name", "last_name")
            )
            self._known[person["id"]] = name.strip().translate(_UNSAFE)[:64]

    def mention(self, user_id: int) -> str:
        """How a player is named in standings: ``[id1|Анна Петрова]``."""
        return f"[id{user_id}|{self._known.get(user_id) or f'id{user_id}'}]"


def _author(update: dict[str, Any]) -> int | None:
    """Who made a quiz-relevant update: a chat message, a button, a comment, a vote."""
    kind, obj = update.get("type"), update.get("object")
    if not isinstance(obj, dict):
        return None
    if kind == "message_new":
        obj = obj.get("message", obj)
        value = obj.get("from_id") if isinstance(obj, dict) else None
    elif kind in ("wall_reply_new", "wall_reply_edit"):
        value = obj.get("from_id")
    elif kind in ("message_event", "poll_vote_new"):
        value = obj.get("user_id")
    else:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
