"""What a contest sends beyond posts: entries with their files, replies, moderation.

Through the adapters' own clients, with errors translated as for every other call
(``bot.platforms.telegram.translating``; the VK adapter's ``_call`` translates itself).
Telegram entries are sent again by the file_id Telegram gave the bot; VK entries by
their attachment string (photo/video with its access key).
"""

from __future__ import annotations

import hashlib
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode

from bot.platforms.telegram import message_url, translating
from bot.platforms.vk import post_url
from bot.platforms.vk_client import POST
from core.platform import Post, Published


async def post_entry(platform: Any, target: str, entry: dict, text: str, guid: str) -> Published:
    """The entry as its own post in ``target``: the file with ``text`` under it, or the text."""
    if platform.network == "telegram":
        await platform._start()
        bot, media = platform.bot, entry.get("media")
        if entry["type"] == "photo" and media:
            with translating("sendPhoto", sending=True):
                message = await bot.send_photo(
                    target, media, caption=text, parse_mode=ParseMode.HTML
                )
        elif entry["type"] == "video" and media:
            with translating("sendVideo", sending=True):
                message = await bot.send_video(
                    target, media, caption=text, parse_mode=ParseMode.HTML
                )
        else:
            with translating("sendMessage", sending=True):
                message = await bot.send_message(target, text, parse_mode=ParseMode.HTML)
        return Published(
            str(message.message_id),
            message_url(message.chat.id, message.chat.username, message.message_id),
        )
    if entry["type"] in ("photo", "video") and entry.get("media"):
        api = platform._need_user("post to the community wall")
        params = {
            "owner_id": -platform.group_id,
            "from_group": 1,
            "message": text,
            "guid": guid,
            "attachments": entry["media"],
        }
        answer = await platform._call(api, "wall.post", params, sending=True, priority=POST)
        post_id = answer["post_id"]
        return Published(str(post_id), post_url(platform.group_id, post_id))
    return await platform.publish(Post(target, text, guid=guid))


async def reply(platform: Any, where: dict, text: str, key: str) -> None:
    """Answer a reader where they wrote: their private chat, or under their comment."""
    if platform.network == "telegram":
        await platform._start()
        with translating("sendMessage", sending=True):
            await platform.bot.send_message(
                where["chat"],
                text,
                reply_parameters=ReplyParameters(
                    where["message"], allow_sending_without_reply=True
                ),
            )
        return
    api = platform._need_community()
    if "peer" in where:
        params = {"peer_id": where["peer"], "random_id": _random_id(key), "message": text}
        await platform._call(api, "messages.send", params, sending=True, priority=POST)
    else:
        params = {
            "owner_id": -platform.group_id,
            "post_id": where["post"],
            "message": text,
            "reply_to_comment": where["comment"],
        }
        await platform._call(api, "wall.createComment", params, sending=True, priority=POST)


async def moderate(platform: Any, admin: int, entry: dict, text: str, buttons: list) -> None:
    """The entry to an admin in private, with Approve / Reject buttons."""
    await platform._start()
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons]
    )
    bot, media = platform.bot, entry.get("media")
    if entry["network"] == "telegram" and entry["type"] == "photo" and media:
        with translating("sendPhoto", sending=True):
            await bot.send_photo(admin, media, caption=text[:1024], reply_markup=markup)
    elif entry["network"] == "telegram" and entry["type"] == "video" and media:
        with translating("sendVideo", sending=True):
            await bot.send_video(admin, media, caption=text[:1024], reply_markup=markup)
    else:
        if entry["network"] == "vk" and media:
            text += f"\nhttps://vk.com/{media}"
        with translating("sendMessage", sending=True):
            await bot.send_message(admin, text[:4096], reply_markup=markup)


def _random_id(key: str) -> int:
    """A stable random_id: a repeat after a lost answer is not a second message."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:7], 16) + 1
