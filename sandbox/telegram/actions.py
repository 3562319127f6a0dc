"""The stand-in's Python control surface: what tests and demos do as readers and librarian.

TelegramStandIn inherits these methods; each runs under the stand-in's lock on its World
and returns a deep copy, so callers never hold live state. sandbox.telegram.control
exposes the same methods over HTTP.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from typing import Any

from sandbox.faults import FaultInjector, FaultRule, parse_rules
from sandbox.telegram import audience, callbacks, members, polls, reactions
from sandbox.telegram.errors import ApiError
from sandbox.telegram.limits import FloodControl, RateLimits
from sandbox.telegram.world import World


class Actions:
    """Control methods; the host class provides _lock, _world, _failures, _answers, _faults,
    _flood."""

    _lock: threading.Lock
    _world: World
    _failures: dict[str, list[ApiError]]
    _answers: dict[str, list[tuple[int, bytes]]]
    _faults: FaultInjector
    _flood: FloodControl
    _clock: Callable[[], float]
    _base_clock: Callable[[], float]

    # -- readers and the librarian ---------------------------------------------------

    def set_member_count(self, chat_id: int | str, count: int) -> int:
        """Set a chat's member (subscriber) count."""
        return self._locked(lambda world: audience.set_member_count(world, chat_id, count))

    def add_members(self, chat_id: int | str, count: int) -> int:
        """Add (or with a negative count remove) members; returns the new count."""

        def change(world: World) -> int:
            chat = world.chat(chat_id)
            return audience.set_member_count(world, chat_id, chat.member_count + count)

        return self._locked(change)

    def messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        """All messages stored in a chat, oldest first."""
        return self._locked(lambda world: list(world.chat(chat_id).messages.values()))

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued for the bot and not yet confirmed."""
        return self._locked(lambda world: world.updates)

    def add_user(
        self,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "ru",
    ) -> dict[str, Any]:
        """Create a reader; names come from the seed when not given."""
        return self._locked(
            lambda world: world.add_user(first_name, last_name, username, language_code)
        )

    def post_as_user(
        self, user_id: int, chat_id: int | str, text: str, reply_to_message_id: int | None = None
    ) -> dict[str, Any]:
        """A reader writes in the group, or privately to the bot when chat_id == user_id."""
        return self._locked(
            lambda world: audience.post_as_user(world, user_id, chat_id, text, reply_to_message_id)
        )

    def photo_as_user(
        self,
        user_id: int,
        chat_id: int | str,
        data: bytes,
        caption: str = "",
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A reader sends a photo in a group, or privately to the bot when chat_id == user_id."""
        return self._locked(
            lambda world: audience.photo_as_user(
                world, user_id, chat_id, data, caption, reply_to_message_id
            )
        )

    def video_as_user(
        self,
        user_id: int,
        chat_id: int | str,
        data: bytes,
        caption: str = "",
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """A reader sends a video in a group, or privately to the bot when chat_id == user_id."""
        return self._locked(
            lambda world: audience.video_as_user(
                world, user_id, chat_id, data, caption, reply_to_message_id
            )
        )

    def document_as_user(
        self,
        user_id: int,
        chat_id: int | str,
        data: bytes,
        file_name: str,
        caption: str = "",
        mime_type: str = "application/octet-stream",
    ) -> dict[str, Any]:
        """A reader sends a file (a document), privately to the bot when chat_id == user_id."""
        return self._locked(
            lambda world: audience.document_as_user(
                world, user_id, chat_id, data, file_name, caption, mime_type
            )
        )

    def comment_on_post(self, user_id: int, channel_post_id: int, text: str) -> dict[str, Any]:
        """A reader comments on a channel post (a reply in the discussion group)."""
        return self._locked(
            lambda world: audience.comment_on_post(world, user_id, channel_post_id, text)
        )

    def post_as_admin(self, chat_id: int | str, text: str) -> dict[str, Any]:
        """The librarian posts by hand in a chat; the bot gets channel_post or message."""
        return self._locked(lambda world: audience.post_as_admin(world, chat_id, text))

    def vote_as_user(
        self, user_id: int, chat_id: int | str, message_id: int, option_ids: list[int]
    ) -> dict[str, Any]:
        """A reader answers a poll (empty option_ids retracts the vote); returns the poll."""
        return self._locked(
            lambda world: polls.vote(world, user_id, chat_id, message_id, option_ids)
        )

    def vote_many(
        self, chat_id: int | str, message_id: int, votes: list[tuple[int, list[int]]]
    ) -> dict[str, Any]:
        """Many readers answer a poll at once: ``votes`` is [(user_id, option_ids), ...]; a
        poll_answer each (non-anonymous polls), one poll update with the totals; returns it."""
        return self._locked(lambda world: polls.vote_many(world, chat_id, message_id, votes))

    def add_users(self, count: int) -> list[dict[str, Any]]:
        """``count`` readers with names from the seed (a crowd of players); returns them."""
        return self._locked(lambda world: [world.add_user() for _ in range(int(count))])

    def forge_callback(
        self, user_id: int, chat_id: int | str, message_id: int, data: str
    ) -> dict[str, Any]:
        """A modified client sends callback ``data`` that no button of the bot's message
        carries (forged or replayed): the bot gets the callback_query all the same."""
        return self._locked(
            lambda world: callbacks.forge_callback(world, user_id, chat_id, message_id, data)
        )

    def press_as_user(
        self, user_id: int, chat_id: int | str, message_id: int, callback_data: str
    ) -> dict[str, Any]:
        """A reader presses an inline button; returns the callback query the bot receives."""
        return self._locked(
            lambda world: callbacks.press_button(world, user_id, chat_id, message_id, callback_data)
        )

    def callback_answers(self) -> list[dict[str, Any]]:
        """Callback queries with the answers the bot gave (what readers saw)."""
        return self._locked(lambda world: list(world.callback_queries.values()))

    def advance_clock(self, seconds: float) -> int:
        """Move the stand-in's clock forward (polls close on time); returns the new now."""

        def advance(world: World) -> int:
            world.clock_offset += seconds
            polls.close_expired(world)
            return world.now()

        return self._locked(advance)

    def freeze_clock(self, frozen: bool = True) -> float:
        """Stop (or restart) the stand-in's clock, so only advance_clock moves it; returns now.

        Flood limits and poll deadlines then depend on nothing but the test's own steps."""
        with self._lock:
            world = self._world
            if frozen:
                fixed = world.exact_now() - world.clock_offset
                self._clock = lambda: fixed
            else:
                self._clock = self._base_clock
            world.set_clock(self._clock)
            return world.exact_now()

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next calls of a method fail as given (e.g. 429 with retry_after)."""
        with self._lock:
            failure = ApiError(error_code, description, retry_after)
            self._failures.setdefault(method.lower(), []).extend([failure] * times)

    def answer_next(
        self, method: str, body: bytes | dict[str, Any], status: int = 200, times: int = 1
    ) -> None:
        """Carry out the next calls of a method, then answer them with ``body`` as it is
        (bytes are sent raw): an answer the client cannot parse, after the work was done."""
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        with self._lock:
            self._answers.setdefault(method.lower(), []).extend([(status, raw)] * times)

    def _locked(self, action: Callable[[World], Any]) -> Any:
        with self._lock:
            return copy.deepcopy(action(self._world))

    def edit_as_user(
        self, user_id: int, chat_id: int | str, message_id: int, text: str
    ) -> dict[str, Any]:
        """A reader edits their own message in a group or private chat (edited_message)."""
        return self._locked(
            lambda world: audience.edit_as_user(world, user_id, chat_id, message_id, text)
        )

    def react(
        self, user_id: int, chat_id: int | str, message_id: int, emoji: str | list[str] | None
    ) -> dict[str, Any]:
        """A reader sets reactions (None or [] removes them): message_reaction in groups."""
        return self._locked(
            lambda world: reactions.react(world, user_id, chat_id, message_id, emoji)
        )

    def react_anonymously(
        self, chat_id: int | str, message_id: int, emoji: str, count: int = 1
    ) -> dict[str, Any]:
        """count subscribers react to a channel post: message_reaction_count with the totals."""
        return self._locked(
            lambda world: reactions.react_anonymously(world, chat_id, message_id, emoji, count)
        )

    def join(self, user_id: int, chat_id: int | str) -> dict[str, Any]:
        """A reader joins a group or channel (chat_member; a service message in groups)."""
        return self._locked(lambda world: members.join(world, user_id, chat_id))

    def leave(self, user_id: int, chat_id: int | str) -> dict[str, Any]:
        """A reader leaves a group or channel (chat_member; a service message in groups)."""
        return self._locked(lambda world: members.leave(world, user_id, chat_id))

    def add_bot_to(
        self, chat_id: int | str, admin: bool = True, by_user_id: int | None = None
    ) -> dict[str, Any]:
        """Add, promote (admin=True) or demote (admin=False) the bot: my_chat_member."""
        return self._locked(lambda world: members.add_bot_to(world, chat_id, admin, by_user_id))

    def set_bot_rights(
        self, chat_id: int | str, rights: dict[str, bool], by_user_id: int | None = None
    ) -> dict[str, Any]:
        """Give or take administrator rights of the bot (``{"can_post_messages": False}``):
        my_chat_member; a channel admin without can_post_messages cannot post."""
        return self._locked(
            lambda world: members.set_bot_rights(world, chat_id, rights, by_user_id)
        )

    def remove_bot(self, chat_id: int | str, by_user_id: int | None = None) -> dict[str, Any]:
        """Remove the bot from a chat: my_chat_member; it can no longer post or hear there."""
        return self._locked(lambda world: members.remove_bot(world, chat_id, by_user_id))

    def create_chat(self, title: str, chat_type: str = "supergroup") -> dict[str, Any]:
        """A new group or channel of the librarian's, without the bot."""
        return self._locked(lambda world: members.create_chat(world, title, chat_type))

    # -- the platform's behaviour ---------------------------------------------------------

    def set_rate_limits(
        self,
        enabled: bool = True,
        per_second: float = 30,
        per_chat_per_minute: float = 20,
        per_private_chat_per_second: float = 1,
        private_burst: int = 3,
    ) -> dict[str, Any]:
        """Configure flood control (on by default) and forget what was counted."""
        config = RateLimits(
            bool(enabled),
            float(per_second),
            float(per_chat_per_minute),
            float(per_private_chat_per_second),
            int(private_burst),
        )
        with self._lock:
            self._flood.configure(config)
            return self._flood.state()

    def set_faults(self, rules: list[FaultRule] | str, seed: int | None = None) -> dict[str, Any]:
        """Replace the fault rules (a list or the METHOD:KIND:RATE[:DELAY],... form)."""
        parsed = parse_rules(rules) if isinstance(rules, str) else list(rules)
        self._faults.set_rules(parsed, seed)
        return self._faults.state()

    def faults(self) -> dict[str, Any]:
        """The fault rules and every fault that fired (with the message an ambiguous one made)."""
        with self._lock:  # the server thread notes message ids under this lock
            return copy.deepcopy(self._faults.state())
