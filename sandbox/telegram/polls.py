"""Native polls and quizzes: sendPoll, stopPoll, readers' votes and polls closing on time.

What the bot hears follows Telegram: a ``poll`` update with new totals for every change of
a poll the bot sent, a ``poll_answer`` (who chose what) only for non-anonymous polls, and
polls in channels are always anonymous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.telegram.errors import bad_request
from sandbox.telegram.formatting import utf16_len
from sandbox.telegram.messages import formatted, send
from sandbox.telegram.params import Params
from sandbox.telegram.registry import api_method
from sandbox.telegram.world import ChatRecord, World

QUESTION_LIMIT = 300
OPTION_LIMIT = 100
MAX_OPTIONS = 12
EXPLANATION_LIMIT = 200
PERIOD_RANGE = (5, 2_628_000)


@dataclass
class PollRecord:
    """A poll the bot sent, its settings and every reader's current choice."""

    id: str
    chat_id: int
    message_id: int
    question: str
    options: list[str]
    type: str
    is_anonymous: bool
    allows_multiple_answers: bool
    allows_revoting: bool
    correct_option_ids: list[int] | None = None
    explanation: dict[str, Any] = field(default_factory=dict)
    open_period: int | None = None
    close_date: int | None = None
    is_closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)  # user id -> option ids

    def wire(self) -> dict[str, Any]:
        """The Poll object; the bot sent it, so a quiz shows its answer and explanation."""
        counts = [0] * len(self.options)
        for chosen in self.votes.values():
            for option_id in chosen:
                counts[option_id] += 1
        poll: dict[str, Any] = {
            "id": self.id,
            "question": self.question,
            "options": [
                {"persistent_id": str(i), "text": text, "voter_count": counts[i]}
                for i, text in enumerate(self.options)
            ],
            "total_voter_count": len(self.votes),
            "is_closed": self.is_closed,
            "is_anonymous": self.is_anonymous,
            "type": self.type,
            "allows_multiple_answers": self.allows_multiple_answers,
            "allows_revoting": self.allows_revoting,
            "members_only": False,
        }
        if self.correct_option_ids is not None:
            poll["correct_option_ids"] = self.correct_option_ids
        poll.update(self.explanation)
        if self.open_period is not None:
            poll["open_period"] = self.open_period
        if self.close_date is not None:
            poll["close_date"] = self.close_date
        return poll

    def snapshot(self) -> dict[str, Any]:
        """The poll plus who voted for what (the stand-in's view, not the bot's)."""
        return {
            **self.wire(),
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "votes": {str(k): v for k, v in self.votes.items()},
        }


# -- sendPoll ------------------------------------------------------------------


def _question(p: Params) -> str:
    question = (p.text("question") or "").strip()
    if not question:
        raise bad_request("poll question must be non-empty")
    if utf16_len(question) > QUESTION_LIMIT:
        raise bad_request(f"poll question length must not exceed {QUESTION_LIMIT}")
    return question


def _options(p: Params) -> list[str]:
    given = p.json("options", "poll options")
    if not isinstance(given, list) or not given:
        raise bad_request("poll options must be non-empty")
    if len(given) > MAX_OPTIONS:
        raise bad_request(f"poll can't have more than {MAX_OPTIONS} options")
    texts = [(item.get("text") if isinstance(item, dict) else item) for item in given]
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            raise bad_request("poll options must be non-empty")
        if utf16_len(text) > OPTION_LIMIT:
            raise bad_request(f"poll options length must not exceed {OPTION_LIMIT}")
    return [text.strip() for text in texts]


def _correct_options(
    p: Params, poll_type: str, option_count: int, multiple: bool
) -> list[int] | None:
    given = p.json("correct_option_ids")
    if given is None and p.has("correct_option_id"):  # the name before Bot API 9.6
        given = [p.integer("correct_option_id")]
    if poll_type != "quiz":
        return None
    if not isinstance(given, list) or not given:
        raise bad_request("correct_option_ids must be specified for quiz polls")
    if any(not isinstance(i, int) or not 0 <= i < option_count for i in given) or given != sorted(
        set(given)
    ):
        raise bad_request("wrong correct option id specified")
    if len(given) > 1 and not multiple:
        raise bad_request("a quiz with one answer can have only one correct option")
    return given


def _explanation(p: Params, poll_type: str) -> dict[str, Any]:
    raw = p.text("explanation") or ""
    if not raw:
        return {}
    if poll_type != "quiz":
        raise bad_request("explanation can be specified only for quiz polls")
    result = formatted(raw, p.text("explanation_parse_mode"), p.json("explanation_entities"))
    if utf16_len(result.text) > EXPLANATION_LIMIT or result.text.count("\n") > 2:
        raise bad_request("poll explanation is too long")
    explanation: dict[str, Any] = {"explanation": result.text}
    if result.entities:
        explanation["explanation_entities"] = result.entities
    return explanation


def _closing(world: World, p: Params) -> tuple[int | None, int | None]:
    open_period, close_date = p.integer("open_period"), p.integer("close_date")
    if open_period is not None and close_date is not None:
        raise bad_request("open_period and close_date can't be used together")
    if open_period is not None and not PERIOD_RANGE[0] <= open_period <= PERIOD_RANGE[1]:
        raise bad_request("wrong open_period specified")
    if (
        close_date is not None
        and not PERIOD_RANGE[0] <= close_date - world.now() <= PERIOD_RANGE[1]
    ):
        raise bad_request("wrong close_date specified")
    return open_period, close_date


@api_method("sendPoll")
def send_poll(world: World, p: Params) -> dict[str, Any]:
    """Send a regular poll or a quiz."""
    chat = world.chat(p.chat_id())
    poll_type = p.text("type") or "regular"
    if poll_type not in ("regular", "quiz"):
        raise bad_request("wrong poll type specified")
    anonymous = p.flag("is_anonymous", default=True)
    if chat.type == "channel" and not anonymous:
        raise bad_request("non-anonymous polls can't be sent to channel chats")
    question, options = _question(p), _options(p)
    multiple = p.flag("allows_multiple_answers")
    open_period, close_date = _closing(world, p)
    poll = PollRecord(
        id=str(5_000_000_000_000_000_000 + world.rng.randint(0, 10**18)),
        chat_id=chat.id,
        message_id=0,
        question=question,
        options=options,
        type=poll_type,
        is_anonymous=anonymous,
        allows_multiple_answers=multiple,
        allows_revoting=p.flag("allows_revoting", default=poll_type == "regular"),
        correct_option_ids=_correct_options(p, poll_type, len(options), multiple),
        explanation=_explanation(p, poll_type),
        open_period=open_period,
        close_date=close_date
        if close_date is not None
        else (world.now() + open_period if open_period else None),
        is_closed=p.flag("is_closed"),
    )
    message = send(world, p, chat, {"poll": poll.wire()})
    poll.message_id = message["message_id"]
    world.polls[poll.id] = poll
    return message


def _refresh(world: World, poll: PollRecord) -> dict[str, Any]:
    """Write the poll's new state into every message that shows it (post and group copy)."""
    wire = poll.wire()
    for chat in world.chats.values():
        for message in chat.messages.values():
            if message.get("poll", {}).get("id") == poll.id:
                message["poll"] = wire
    return wire


@api_method("stopPoll")
def stop_poll(world: World, p: Params) -> dict[str, Any]:
    """Close a poll the bot sent and return its final state."""
    chat = world.chat(p.chat_id())
    message_id = p.required_integer("message_id", "message identifier is not specified")
    poll = _poll_in(world, chat, message_id)
    if poll is None:
        raise bad_request("message with poll to stop not found")
    if poll.is_closed:
        raise bad_request("poll has already been closed")
    poll.is_closed = True
    return _refresh(world, poll)


def _poll_in(world: World, chat: ChatRecord, message_id: int) -> PollRecord | None:
    message = chat.messages.get(message_id)
    poll_id = message.get("poll", {}).get("id") if message else None
    return world.polls.get(poll_id) if poll_id else None


# -- readers voting and polls closing on time ------------------------------------------


def vote(
    world: World, user_id: int, chat_id: int | str, message_id: int, option_ids: list[int]
) -> dict[str, Any]:
    """A reader answers (or with no options retracts); returns the poll as it now stands."""
    user = world.user(user_id)
    close_expired(world)
    poll = _poll_in(world, world.chat(chat_id), message_id)
    if poll is None:
        raise ValueError(f"message {message_id} in chat {chat_id} is not a poll")
    _check_vote(poll, user_id, option_ids)
    if option_ids:
        poll.votes[user_id] = sorted(option_ids)
    else:
        poll.votes.pop(user_id, None)
    wire = _refresh(world, poll)
    world.push_update("poll", wire)
    if not poll.is_anonymous:
        answer = {"poll_id": poll.id, "user": user, "option_ids": sorted(option_ids)}
        answer["option_persistent_ids"] = [str(i) for i in answer["option_ids"]]
        world.push_update("poll_answer", answer)
    return wire


def vote_many(
    world: World,
    chat_id: int | str,
    message_id: int,
    votes: list[tuple[int, list[int]]],
) -> dict[str, Any]:
    """Many readers answer at once (a bench's crowd): a poll_answer each for a non-anonymous
    poll, then one poll update with the totals, as Telegram sends totals coalesced. Every
    vote is checked before any counts, so a bad one changes nothing."""
    close_expired(world)
    poll = _poll_in(world, world.chat(chat_id), message_id)
    if poll is None:
        raise ValueError(f"message {message_id} in chat {chat_id} is not a poll")
    chosen: dict[int, list[int]] = {}
    for user_id, option_ids in votes:
        user_id, option_ids = int(user_id), sorted(int(i) for i in option_ids)
        world.user(user_id)
        if not option_ids or user_id in chosen:
            raise ValueError(f"user {user_id} must answer once, with at least one option")
        _check_vote(poll, user_id, option_ids)
        chosen[user_id] = option_ids
    for user_id, option_ids in chosen.items():
        poll.votes[user_id] = option_ids
        if not poll.is_anonymous:
            ids = list(option_ids)
            world.push_update(
                "poll_answer",
                {
                    "poll_id": poll.id,
                    "user": world.users[user_id],
                    "option_ids": ids,
                    "option_persistent_ids": [str(i) for i in ids],
                },
            )
    wire = _refresh(world, poll)
    if chosen:
        world.push_update("poll", wire)
    return wire


def _check_vote(poll: PollRecord, user_id: int, option_ids: list[int]) -> None:
    if poll.is_closed:
        raise ValueError("the poll is closed")
    if any(not 0 <= i < len(poll.options) for i in option_ids) or len(set(option_ids)) != len(
        option_ids
    ):
        raise ValueError(f"option ids must be distinct numbers from 0 to {len(poll.options) - 1}")
    if len(option_ids) > 1 and not poll.allows_multiple_answers:
        raise ValueError("the poll allows one answer only")
    if user_id in poll.votes and not poll.allows_revoting:
        raise ValueError("the poll does not allow changing a vote")
    if not option_ids and user_id not in poll.votes:
        raise ValueError("nothing to retract: the user has not voted")


def close_expired(world: World) -> None:
    """Close polls whose time is up; the bot gets a poll update for each."""
    now = world.now()
    for poll in world.polls.values():
        if not poll.is_closed and poll.close_date is not None and poll.close_date <= now:
            poll.is_closed = True
            world.push_update("poll", _refresh(world, poll))


def seconds_to_next_close(world: World) -> float | None:
    """Seconds until the next open poll closes by itself, or None."""
    ends = [
        poll.close_date
        for poll in world.polls.values()
        if not poll.is_closed and poll.close_date is not None
    ]
    if not ends:
        return None
    return max(0.0, min(ends) - world.exact_now())
