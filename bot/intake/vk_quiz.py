"""Quiz answers from VK updates: players' names, callback buttons and their snackbars.

Mixed into ``VkIntake``, which hands comments, chat messages and votes to the quiz
(``AnswerBook``) first; a button press (``message_event``) is only ever a quiz answer.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import requests
import vk_api
from vk_api.exceptions import ApiError, VkApiError

from bot.intake.vk_names import VkNames
from bot.intake.waits import in_daemon
from bot.quiz import buttons
from bot.quiz.answers import AnswerBook

NETWORK = "vk"
log = logging.getLogger(__name__)


class VkQuizIntake:
    """The quiz side of the VK intake."""

    quiz: AnswerBook | None
    library_id: str
    group_id: int
    _api: vk_api.VkApi
    _names: VkNames
    _presses: dict[int, list[dict[str, Any]]]

    async def _learn_names(self, updates: list[dict[str, Any]]) -> None:
        """Players' names for the standings; without them, players are named by id."""
        missing = self._names.unknown(updates)
        if not missing:
            return
        try:
            ids = ",".join(str(user) for user in missing)
            people = await in_daemon(self._api.method, "users.get", {"user_ids": ids})
        except (ApiError, VkApiError, requests.RequestException, ValueError) as exc:
            log.warning("VK %s: users.get failed (%s); players named by id", self.group_id, exc)
            people = []
        self._names.learn(missing, people)

    def _on_message_event(self, obj: dict, event_key: str) -> None:
        """A callback button pressed: a quiz answer; the reader gets a snackbar."""
        if self.quiz is None:
            return
        payload = obj.get("payload")
        if isinstance(payload, str):  # VK sends the object; be lenient with a JSON string
            try:
                payload = json.loads(payload)
            except ValueError:
                payload = None
        data = payload.get("a") if isinstance(payload, dict) else None
        user = int(obj["user_id"])
        _, words = self.quiz.on_button(
            NETWORK, self.library_id, user, self._names.mention(user), data
        )
        replies = self._presses.setdefault(user, [])
        if len(replies) < buttons.REPLIES_PER_READER:
            replies.append(
                {
                    "event_id": str(obj["event_id"]),
                    "user_id": user,
                    "peer_id": int(obj["peer_id"]),
                    "event_data": json.dumps(
                        {"type": "show_snackbar", "text": words[:90]}, ensure_ascii=False
                    ),
                }
            )

    async def _answer_presses(self) -> None:
        """A snackbar for at most ``buttons.REPLIES_PER_READER`` presses of a reader per
        check: each is a request, at most 20 a second, and a reader pressing a thousand
        times must not hold the other players' presses back by a minute."""
        presses, self._presses = self._presses, {}
        for params in (press for reader in presses.values() for press in reader):
            try:
                await in_daemon(self._api.method, "messages.sendMessageEventAnswer", params)
            except (VkApiError, requests.RequestException) as exc:  # the answer is stored
                log.info("VK %s: press not answered (%s)", self.group_id, type(exc).__name__)
