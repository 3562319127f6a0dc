"""What the contest says to entrants and admins, per language (the posts are templates).

The words are the catalogue's ``contest`` part (``core/catalogue/contest.toml``).
"""

from __future__ import annotations

from core import messages


def say(language: str, key: str, **values: object) -> str:
    """The phrase ``contest.<key>``, filled in (a test checks every key said in bot/contest)."""
    return messages.text_in(language, f"contest.{key}", **values)


def per_person(language: str, n: int) -> str:
    """ "one entry" / "up to 3 entries"."""
    if n == 1:
        return messages.text_in(language, "contest.per_person_one")
    return messages.text_in(language, "contest.per_person_many", n=n)
