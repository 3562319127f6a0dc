"""VK quiz operations: questions in a community chat (callback buttons) or on the wall.

Mixed into ``VkPlatform``. A target of 2000000000 or more is a community chat (a
conversation's peer_id): messages go there with the community token. Any other
target is the community wall, posted with the admin's user token.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import vk_api

from bot.platforms.vk_client import POST, READ
from core.errors import BadContent
from core.platform import Ask, PollSpec, Post, Published

CHAT_PEERS = 2_000_000_000
BUTTON_LABEL = 40  # VK's limit on a button's label
INLINE_BUTTONS, INLINE_ROWS = 10, 6  # VK's limits of an inline keyboard


def is_chat(target: str) -> bool:
    """True when ``target`` is a community chat rather than the wall."""
    return str(target).lstrip("-").isdigit() and int(target) >= CHAT_PEERS


class VkQuizMixin:
    """What a quiz needs from VK, on top of wall posts."""

    group_id: int
    _community: vk_api.VkApi | None

    async def _call(self, api, method, params, sending, priority=READ, raw=False) -> Any: ...

    def _need_user(self, purpose: str) -> vk_api.VkApi: ...

    async def publish(self, post: Post) -> Published: ...

    async def ask(self, ask: Ask) -> Published:
        """A chat message with callback buttons or text; on the wall a post (with a poll)."""
        if is_chat(ask.target):
            keyboard = _keyboard(ask) if ask.style == "buttons" else None
            return await self._chat_send(ask.target, ask.text, ask.guid, keyboard)
        poll = None
        if ask.style == "poll":
            poll = PollSpec(ask.text[:250], ask.options, len(ask.correct) > 1, anonymous=False)
        return await self.publish(Post(ask.target, ask.text, ask.image, ask.guid, poll))

    async def stop_question(self, target: str, remote_id: str, style: str, text: str = "") -> None:
        """Take the buttons off a chat question; a wall question needs nothing.

        VK refuses an edit without the text, and drops the keyboard from an edit
        without one: so the question's text goes again, with no keyboard.
        """
        if is_chat(target) and style == "buttons" and text:
            await self._chat_edit(target, remote_id, text, None)

    async def say(self, target: str, text: str, guid: str = "") -> Published:
        """A message to the chat, or a wall post."""
        if is_chat(target):
            return await self._chat_send(target, text, guid, None)
        return await self.publish(Post(target, text, guid=guid))

    async def edit(self, target: str, remote_id: str, text: str) -> None:
        """Replace the text of the community's chat message or wall post."""
        if is_chat(target):
            await self._chat_edit(target, remote_id, text, None)
            return
        api = self._need_user("edit a wall post")
        params = {"owner_id": -self.group_id, "post_id": int(remote_id), "message": text}
        await self._call(api, "wall.edit", params, sending=False, priority=POST)

    async def stop_poll(self, target: str, remote_id: str, poll_id: str) -> tuple[int, ...] | None:
        """VK closes polls by their end date: read the final votes per option."""
        api = self._need_user("read poll results")
        params = {"owner_id": -self.group_id, "poll_id": int(poll_id)}
        answer = await self._call(api, "polls.getById", params, sending=False)
        return tuple(int(a["votes"]) for a in answer["answers"])

    async def answer_press(self, event_id: str, user_id: int, peer_id: int, text: str) -> None:
        """A snackbar for the reader who pressed a callback button."""
        data = json.dumps({"type": "show_snackbar", "text": text[:90]}, ensure_ascii=False)
        params = {
            "event_id": event_id,
            "user_id": user_id,
            "peer_id": peer_id,
            "event_data": data,
        }
        await self._call(self._need_community(), "messages.sendMessageEventAnswer", params, False)

    # -- chat messages ---------------------------------------------------------------

    async def _chat_send(
        self, target: str, text: str, guid: str, keyboard: str | None
    ) -> Published:
        params: dict[str, Any] = {
            "peer_ids": str(target),
            # random_id makes a repeat after a lost answer harmless, like wall.post's guid
            "random_id": _random_id(guid),
            "message": text,
        }
        if keyboard:
            params["keyboard"] = keyboard
        answer = await self._call(
            self._need_community(), "messages.send", params, sending=True, priority=POST
        )
        sent = answer[0] if isinstance(answer, list) else {"conversation_message_id": answer}
        if "error" in sent:
            raise BadContent(f"VK: {sent['error']}", "vk")
        cmid = str(sent["conversation_message_id"])
        return Published(cmid, f"vk-chat:{target}:{cmid}")

    async def _chat_edit(
        self, target: str, remote_id: str, text: str | None, keyboard: str | None
    ) -> None:
        params: dict[str, Any] = {
            "peer_id": int(target),
            "conversation_message_id": int(remote_id),
        }
        if text is not None:
            params["message"] = text
        if keyboard is not None:
            params["keyboard"] = keyboard
        await self._call(self._need_community(), "messages.edit", params, False, priority=POST)

    def _need_community(self) -> vk_api.VkApi:
        from core.errors import Forbidden

        if self._community is None:
            raise Forbidden("VK: a community token is needed for chats and buttons", "vk")
        return self._community


def _random_id(guid: str) -> int:
    """A stable 31-bit random_id from the action's guid (0 would mean 'no de-duplication')."""
    if not guid:
        return 0
    return int(hashlib.sha256(guid.encode()).hexdigest()[:7], 16) + 1


def _keyboard(ask: Ask) -> str:
    """An inline keyboard, one callback button per option, and the send button if any."""
    rows = [
        [_button(f"{n}. {option}", data)]
        for n, (option, data) in enumerate(zip(ask.options, ask.buttons, strict=False), start=1)
    ]
    # VK: at most 6 rows in an inline keyboard; pair the buttons up when there are more.
    if len(rows) + bool(ask.send) > INLINE_ROWS:
        rows = [sum(rows[i : i + 2], []) for i in range(0, len(rows), 2)]
    if ask.send:
        rows.append([_button(ask.send, ask.buttons[-1], "positive")])
    return json.dumps({"inline": True, "buttons": rows}, ensure_ascii=False)


def _button(label: str, data: str, color: str = "secondary") -> dict:
    return {
        "action": {
            "type": "callback",
            "label": label[:BUTTON_LABEL],
            "payload": json.dumps({"a": data}),
        },
        "color": color,
    }
