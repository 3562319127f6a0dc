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

from core.matching import matches, normalize

COMMENTS_PAGE, LIKES_PAGE, MEMBERS_BATCH = 100, 1000, 500
TELEGRAM_MEMBER = ("creator", "administrator", "member")


def comment_counts(text: str, word: str, answers: Sequence[str], threshold: int = 85) -> bool:
    """Whether a comment meets the comment condition (a required word, a right answer)."""
    if answers:
        return matches(text, answers, threshold)
    if word:
        return f" {normalize(word)} " in f" {normalize(text)} "
    return True  # any comment counts, a picture or a sticker too


def _reader(platform):
    """The VK client that reads walls and likes: the user token, else the community's."""
    api = platform._user or platform._community
    if api is None:
        from core.errors import Forbidden

        raise Forbidden("VK: a token is needed to check the giveaway's conditions", "vk")
    return api


async def vk_comments(platform, post_id: int, until: int) -> dict[int, list[str]]:
    """Readers' comments on a community post made by ``until`` (unix time): id → texts."""
    api, owner = _reader(platform), -platform.group_id
    found: dict[int, list[str]] = {}
    offset = 0
    while True:
        params = {"owner_id": owner, "post_id": post_id, "offset": offset}
        params.update(count=COMMENTS_PAGE, sort="asc")
        page = await platform._call(api, "wall.getComments", params, sending=False)
        items = page.get("items", [])
        for item in items:
            author = int(item.get("from_id", 0))
            if author > 0 and int(item.get("date", 0)) <= until:
                found.setdefault(author, []).append(str(item.get("text", "")))
        offset += len(items)
        if not items or offset >= int(page.get("count", 0)):
            return found


async def vk_likers(platform, post_id: int, copies: bool = False) -> set[int]:
    """Who liked the post (or, with ``copies``, reposted it), 1000 a page."""
    api, owner = _reader(platform), -platform.group_id
    found: set[int] = set()
    offset = 0
    while True:
        params = {"type": "post", "owner_id": owner, "item_id": post_id, "offset": offset}
        params.update(filter="copies" if copies else "likes", count=LIKES_PAGE)
        page = await platform._call(api, "likes.getList", params, sending=False)
        items = page.get("items", [])
        found.update(int(i["id"] if isinstance(i, dict) else i) for i in items)
        offset += len(items)
        if not items or offset >= int(page.get("count", 0)):
            return found


async def vk_members(platform, user_ids: Iterable[int]) -> set[int]:
    """Which of ``user_ids`` are members of the community, 500 to a request."""
    api = platform._community or platform._user
    ids = sorted(set(user_ids))
    found: set[int] = set()
    for start in range(0, len(ids), MEMBERS_BATCH):
        batch = ids[start : start + MEMBERS_BATCH]
        params = {"group_id": platform.group_id, "user_ids": ",".join(map(str, batch))}
        answer = await platform._call(api, "groups.isMember", params, sending=False)
        found.update(int(a["user_id"]) for a in answer if a.get("member"))
    return found


async def vk_names(platform, user_ids: Sequence[int]) -> dict[int, str]:
    """Winners as VK mentions: ``[id…|Name Surname]`` (``id…`` if VK gives no name)."""
    if not user_ids:
        return {}
    api = platform._community or platform._user
    params = {"user_ids": ",".join(map(str, user_ids))}
    answer = await platform._call(api, "users.get", params, sending=False)
    names = {int(u["id"]): f"{u.get('first_name', '')} {u.get('last_name', '')}".strip()
             for u in answer}  # fmt: skip
    return {uid: f"[id{uid}|{names[uid]}]" if names.get(uid) else f"id{uid}" for uid in user_ids}


async def telegram_members(platform, chat: str, user_ids: Iterable[int]) -> set[int]:
    """Which of ``user_ids`` are in the channel now (getChatMember, one request each)."""
    import telegram as tg

    from bot.platforms.telegram import translating

    await platform._start()
    found: set[int] = set()
    for user_id in sorted(set(user_ids)):
        with translating("getChatMember", sending=False):
            try:
                member = await platform.reader.get_chat_member(chat, user_id)
            except tg.error.BadRequest:  # a reader Telegram no longer knows
                continue
        if member.status in TELEGRAM_MEMBER or getattr(member, "is_member", False) is True:
            found.add(user_id)
    return found
