"""Who met a giveaway's conditions, asked of the platforms at draw time.

VK: ``wall.getComments`` (pages of 100), ``likes.getList`` (type=post; ``filter=likes``
and ``filter=copies`` for reposts; pages of 1000) and ``groups.isMember`` (batches of up
to 500 user_ids). Telegram: the comments the update intake kept for the giveaway's post
(a bot cannot read a discussion's history), and ``getChatMember`` per commenter for
membership (the bot must be an administrator of the channel).

Which way a network takes is its registry entry's ``entrants_from_api``; the adapters
answer with platform user ids, which ``bot.giveaway.engine`` turns into pseudonyms before
anything is published.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.matching import matches, normalize
from core.platform import EntrantsPlatform


def comment_counts(text: str, word: str, answers: Sequence[str], threshold: int = 85) -> bool:
    """Whether a comment meets the comment condition (a required word, a right answer)."""
    if answers:
        return matches(text, answers, threshold)
    if word:
        return f" {normalize(word)} " in f" {normalize(text)} "
    return True  # any comment counts, a picture or a sticker too


async def commenters(
    platform: EntrantsPlatform, remote_id: str, until: int
) -> dict[int, list[str]]:
    """Readers' comments on the library's post made by ``until`` (unix time): id → texts."""
    found: dict[int, list[str]] = {}
    for comment in await platform.comments(remote_id):
        if comment.author > 0 and comment.date <= until:  # not the community's own
            found.setdefault(comment.author, []).append(comment.text)
    return found
