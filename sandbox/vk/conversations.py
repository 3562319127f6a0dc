"""VkStandIn's handles on messaging: readers' dialogs with a community and group chats.

A mixin of VkStandIn (kept apart so the stand-in module stays small): readers write to a
community or in a chat the community's bot is in, and press callback buttons, each action
adding the Bots Long Poll event VK would send (``message_new``, ``message_event``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sandbox.vk import audience, chats, snapshot
from sandbox.vk.events import EventHub
from sandbox.vk.world import Community, World


class Conversations:
    """Messaging actions; the host class provides lock, world, events and _community."""

    lock: threading.RLock
    world: World
    events: EventHub
    _community: Callable[[int | str | None], Community]  # VkStandIn's lookup

    def write(
        self,
        user_id: int,
        text: str,
        payload: Any = None,
        group_id: int | None = None,
        peer_id: int | None = None,
        attachments: list[str] | None = None,
    ) -> int:
        """A reader writes to a community (message_new), with ``attachments`` of their own
        ("photo", "video") if given; returns the message id. With a chat's ``peer_id`` it
        writes there instead and returns the conversation_message_id."""
        if peer_id is not None and chats.is_chat(peer_id):
            return self.write_in_chat(user_id, peer_id, text, group_id=group_id)
        with self.lock:
            group = self._community(group_id).id
            return audience.write(
                self.world, self.events, user_id, text, payload, group, attachments
            ).id

    def write_doc(
        self,
        user_id: int,
        file_name: str,
        data: bytes,
        base_url: str,
        text: str = "",
        group_id: int | None = None,
    ) -> int:
        """A reader sends the community a file of their own (a doc attachment with its
        ``url`` under ``base_url``, the stand-in's address, where it is downloaded), with
        ``text`` if given; returns the message id."""
        if not data:
            raise ValueError("a document needs some bytes")
        with self.lock:
            group = self._community(group_id).id
            sent = audience.write(
                self.world,
                self.events,
                user_id,
                text,
                None,
                group,
                None,
                doc=(file_name, data, base_url.rstrip("/")),
            )
            return sent.id

    def add_chat(
        self,
        group_id: int | None = None,
        title: str = "Викторина в библиотеке",
        members: list[int] | None = None,
    ) -> int:
        """A group chat with the community's bot and ``members`` (the first one owns it;
        none: the admin does); returns its peer_id (2000000000 + chat_id)."""
        with self.lock:
            group = self._community(group_id).id
            return chats.add_chat(self.world, group, title, list(members or [])).peer_id

    def chats(self, group_id: int | None = None) -> list[dict[str, Any]]:
        """The community's chats: peer_id, chat_id, title, owner, members, message count."""
        with self.lock:
            group = self._community(group_id).id
            return [
                chats.members_state(self.world, chat)
                for (owner, _), chat in self.world.chats.items()
                if owner == group
            ]

    def write_in_chat(
        self,
        user_id: int,
        peer_id: int,
        text: str,
        reply_to: int | None = None,
        group_id: int | None = None,
    ) -> int:
        """A reader writes in a chat (message_new with that peer_id; ``reply_to`` is the
        conversation_message_id answered); returns the message's conversation_message_id."""
        with self.lock:
            group = self._community(group_id).id
            sent = chats.write_in_chat(
                self.world, self.events, group, user_id, int(peer_id), text, reply_to
            )
            return sent.conversation_message_id

    def press_button(
        self,
        user_id: int,
        payload: Any,
        message_id: int | None = None,
        group_id: int | None = None,
        peer_id: int | None = None,
        conversation_message_id: int | None = None,
    ) -> str:
        """A reader presses a callback button (message_event); returns the event_id.

        In a chat (``peer_id``) the press lands on the named community message (its
        conversation_message_id, or message_id), else the last one with callback buttons; a
        message without them is an error. The payload is not checked against the buttons:
        clients can send any, so tests can forge one."""
        with self.lock:
            group = self._community(group_id).id
            return audience.press_button(
                self.world,
                self.events,
                user_id,
                payload,
                message_id,
                group,
                None if peer_id is None else int(peer_id),
                conversation_message_id,
            )

    def button_answer(self, event_id: str) -> dict[str, Any]:
        """Whether and how the bot answered a button press (messages.sendMessageEventAnswer)."""
        with self.lock:
            return dict(self.world.button_presses[event_id])

    def messages(self, user_id: int, group_id: int | None = None) -> list[dict[str, Any]]:
        """The dialog between a community and a reader, oldest first."""
        return self.chat_messages(user_id, group_id)

    def chat_messages(self, peer_id: int, group_id: int | None = None) -> list[dict[str, Any]]:
        """A conversation of the community (a chat's peer_id, or a reader's id), oldest first."""
        with self.lock:
            group = self._community(group_id).id
            return [
                snapshot.message_state(m)
                for m in self.world.messages
                if m.peer_id == int(peer_id) and m.group_id == group
            ]
