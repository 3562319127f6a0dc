"""Who met a giveaway's conditions, asked of the platforms at draw time.

VK: ``wall.getComments`` (pages of 100), ``likes.getList`` (type=post; ``filter=likes``
and ``filter=copies`` for reposts; pages of 1000) and ``groups.isMember`` (batches of up
to 500 user_ids). Telegram: the comments the update intake kept for the giveaway's post
(a bot cannot read a discussion's history), and ``getChatMember`` per commenter for
membership (the bot must be an administrator of the channel).

Each function returns platform user ids; ``bot.giveaway.engine`` turns them into
pseudonyms before anything is published.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from core.matching import matches, normalize

if TYPE_CHECKING:
    from bot.platforms.telegram import TelegramPlatform
    from bot.platforms.vk import VkPlatform


def comment_counts(text: str, word: str, answers: Sequence[str], threshold: int = 85) -> bool:
    """Whether a comment meets the comment condition (a required word, a right answer)."""
    if answers:
        return matches(text, answers, threshold)
    if word:
        return f" {normalize(word)} " in f" {normalize(text)} "
    return True  # any comment counts, a picture or a sticker too


async def vk_comments(platform: VkPlatform, post_id: int, until: int) -> dict[int, list[str]]:
    """Readers' comments on a community post made by ``until`` (unix time): id → texts."""
    found: dict[int, list[str]] = {}
    for comment in await platform.comments(post_id):
        if comment.author > 0 and comment.date <= until:  # not the community's own
            found.setdefault(comment.author, []).append(comment.text)
    return found


async def vk_likers(platform: VkPlatform, post_id: int, copies: bool = False) -> set[int]:
    """Who liked the post (or, with ``copies``, reposted it)."""
    return await platform.likers(post_id, reposts=copies)


async def vk_members(platform: VkPlatform, user_ids: Iterable[int]) -> set[int]:
    """Which of ``user_ids`` are members of the community."""
    return await platform.members_among(user_ids)


async def vk_names(platform: VkPlatform, user_ids: Sequence[int]) -> dict[int, str]:
    """Winners as VK mentions: ``[id…|Name Surname]`` (``id…`` if VK gives no name)."""
    names = await platform.user_names(user_ids)
    return {uid: f"[id{uid}|{names[uid]}]" if names.get(uid) else f"id{uid}" for uid in user_ids}


async def telegram_members(
    platform: TelegramPlatform, chat: str, user_ids: Iterable[int]
) -> set[int]:
    """Which of ``user_ids`` are in the channel now (one request each)."""
    return await platform.members_among(chat, user_ids)
