"""The VK stand-in hosting live quizzes: group chats, callback buttons, comments and polls.

Driven by the real vk_api client (through the project's make_session) over HTTP; answers are
checked against the official schema, events against the callback schema. Time moves only
when a test shifts the stand-in's clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import vk_api
from vk_api.bot_longpoll import VkBotLongPoll
from vk_api.exceptions import ApiError

from bot.platforms.vk_session import make_session
from sandbox import vk_spec
from sandbox.server import Sandbox

API_VERSION = "5.199"
QUESTION = {
    "inline": True,
    "buttons": [
        [
            {"action": {"type": "callback", "label": "Пушкин", "payload": '{"q":1,"a":0}'}},
            {"action": {"type": "callback", "label": "Гоголь", "payload": '{"q":1,"a":1}'}},
        ]
    ],
}


class Client:
    """A vk_api session whose answers must fit the method's schema."""

    def __init__(self, api_url: str, token: str) -> None:
        self.session = vk_api.VkApi(
            token=token, session=make_session(api_url), api_version=API_VERSION
        )
        self.session.RPS_DELAY = 0

    def __call__(self, method: str, variant: str | None = None, **params: Any) -> Any:
        body = self.session.method(method, params, raw=True)
        vk_spec.validate_response(method, body, variant)
        return body["response"]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=5) as running:
        running.vk.set_rate_limits(enabled=False)
        yield running


@pytest.fixture
def info(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.info()["vk"]


@pytest.fixture
def community(info: dict[str, Any]) -> Client:
    return Client(info["api_url"], info["community_token"])


@pytest.fixture
def admin(info: dict[str, Any]) -> Client:
    return Client(info["api_url"], info["user_token"])


@pytest.fixture
def readers(info: dict[str, Any]) -> list[int]:
    return info["reader_ids"][:3]


@pytest.fixture
def chat(sandbox: Sandbox, readers: list[int]) -> int:
    return sandbox.vk.add_chat(title="Викторина «Классика»", members=readers)


def events_of(sandbox: Sandbox, kind: str) -> list[dict[str, Any]]:
    return [event["object"] for event in sandbox.vk.events_log() if event["type"] == kind]


def ask(community: Client, peer_id: int, random_id: int = 1, **params: Any) -> int:
    """The community sends a question with callback buttons; returns its cmid."""
    [sent] = community(
        "messages.send",
        "userIdsResponse",
        peer_ids=peer_id,
        random_id=random_id,
        message=params.pop("message", "Кто написал «Онегина»?"),
        keyboard=json.dumps(params.pop("keyboard", QUESTION)),
    )
    return sent["conversation_message_id"]


# -- chats and their messages --------------------------------------------------------


def test_chat_peer_ids_count_from_2000000001_per_community(sandbox, readers):
    first = sandbox.vk.add_chat(title="Первая", members=readers[:1])
    second = sandbox.vk.add_chat(title="Вторая")
    other = sandbox.vk.add_community("Филиал")["group_id"]
    assert (first, second) == (2_000_000_001, 2_000_000_002)
    assert sandbox.vk.add_chat(group_id=other, title="Филиала") == 2_000_000_001
    [listed, _] = sandbox.vk.chats()
    assert listed["chat_id"] == 1 and listed["members"] == readers[:1]


def test_readers_write_in_a_chat_and_the_bot_hears_them_by_long_poll(
    sandbox, info, community, readers, chat
):
    longpoll = VkBotLongPoll(community.session, info["group_id"], wait=1)
    first = sandbox.vk.write_in_chat(readers[0], chat, "Пушкин!")
    second = sandbox.vk.write_in_chat(readers[1], chat, "Нет, Лермонтов", reply_to=first)
    sandbox.vk.write(readers[0], "А в личку можно?")  # a dialog counts on its own

    events = [event.raw for event in longpoll.check()]
    assert [e["type"] for e in events] == ["message_new"] * 3
    in_chat = [e["object"]["message"] for e in events[:2]]
    assert [(m["peer_id"], m["from_id"], m["text"]) for m in in_chat] == [
        (chat, readers[0], "Пушкин!"),
        (chat, readers[1], "Нет, Лермонтов"),
    ]
    assert [m["conversation_message_id"] for m in in_chat] == [first, second] == [1, 2]
    assert all(m["id"] == 0 for m in in_chat)  # a bot sees chat messages without an id
    assert in_chat[1]["reply_message"]["conversation_message_id"] == first
    assert events[2]["object"]["message"]["conversation_message_id"] == 1
    for event in events:
        vk_spec.validate_object(
            "callback/objects.json#/definitions/callback_message_object", event["object"]
        )


def test_community_sends_to_its_chats_only(sandbox, info, community, readers, chat):
    plain = community(
        "messages.send", "deprecatedResponse", peer_id=chat, random_id=5, message="Старт"
    )
    again = community(
        "messages.send", "deprecatedResponse", peer_id=chat, random_id=5, message="Старт"
    )
    cmid = ask(community, chat, random_id=6)
    with pytest.raises(ApiError) as foreign:
        community("messages.send", peer_id=chat + 1, random_id=7, message="Чужая беседа")

    assert plain == again == 0  # in a chat the bot gets no message id, only a cmid
    assert foreign.value.code == 917
    texts = [(m["out"], m["conversation_message_id"]) for m in sandbox.vk.chat_messages(chat)]
    assert texts == [(True, 1), (True, cmid)] and cmid == 2
    assert events_of(sandbox, "message_new") == []  # no events about the bot's own messages


def test_a_press_in_a_chat_names_the_question_and_may_carry_a_forged_payload(
    sandbox, community, readers, chat
):
    cmid = ask(community, chat)
    honest = sandbox.vk.press_button(readers[0], {"q": 1, "a": 0}, peer_id=chat)
    forged = sandbox.vk.press_button(
        readers[1], {"q": 1, "a": 0, "score": 100}, peer_id=chat, conversation_message_id=cmid
    )

    pressed = events_of(sandbox, "message_event")
    assert pressed == [
        {
            "user_id": readers[0],
            "peer_id": chat,
            "event_id": honest,
            "payload": {"q": 1, "a": 0},
            "conversation_message_id": cmid,
        },
        {
            "user_id": readers[1],
            "peer_id": chat,
            "event_id": forged,
            "payload": {"q": 1, "a": 0, "score": 100},
            "conversation_message_id": cmid,
        },
    ]
    vk_spec.validate_object(
        "callback/objects.json#/definitions/callback_message_event",
        {**pressed[0], "payload": json.dumps(pressed[0]["payload"])},
    )


def test_a_press_needs_a_message_with_callback_buttons_and_a_member(
    sandbox, community, readers, chat
):
    with pytest.raises(ValueError, match="no callback buttons"):
        sandbox.vk.press_button(readers[0], {"a": 1}, peer_id=chat)  # nothing asked yet
    plain = community("messages.send", peer_id=chat, random_id=1, message="Без кнопок")
    assert plain == 0
    with pytest.raises(ValueError, match="no callback buttons"):
        sandbox.vk.press_button(readers[0], {"a": 1}, peer_id=chat, conversation_message_id=1)
    cmid = ask(community, chat, random_id=2)
    stranger = sandbox.vk.add_reader("Лев", "Орлов")
    with pytest.raises(ValueError, match="not a member"):
        sandbox.vk.press_button(stranger, {"a": 1}, peer_id=chat, conversation_message_id=cmid)


def test_answers_to_presses_must_name_the_press_s_chat(sandbox, community, readers, chat):
    ask(community, chat)
    event_id = sandbox.vk.press_button(readers[0], {"q": 1, "a": 1}, peer_id=chat)
    answer = {"event_id": event_id, "user_id": readers[0]}
    snackbar = json.dumps({"type": "show_snackbar", "text": "Ответ принят"})
    for wrong_peer in (readers[0], chat + 1):
        with pytest.raises(ApiError) as refused:
            community("messages.sendMessageEventAnswer", peer_id=wrong_peer, **answer)
        assert refused.value.code == 100
    assert (
        community("messages.sendMessageEventAnswer", peer_id=chat, event_data=snackbar, **answer)
        == 1
    )
    recorded = sandbox.vk.button_answer(event_id)
    assert recorded["answered"] and recorded["answer"]["text"] == "Ответ принят"


def test_the_community_edits_its_question_in_place(sandbox, community, readers, chat):
    cmid = ask(community, chat)
    reader_cmid = sandbox.vk.write_in_chat(readers[0], chat, "Пушкин")
    closed = {
        "inline": True,
        "buttons": [[{"action": {"type": "callback", "label": "Итоги", "payload": "{}"}}]],
    }

    assert (
        community(
            "messages.edit",
            peer_id=chat,
            cmid=cmid,
            message="Вопрос закрыт",
            keyboard=json.dumps(closed),
        )
        == 1
    )
    edited = sandbox.vk.chat_messages(chat)[0]
    assert edited["text"] == "Вопрос закрыт" and edited["keyboard"] == closed
    assert edited["update_time"] >= edited["date"]
    community("messages.edit", peer_id=chat, conversation_message_id=cmid, message="Итоги")
    assert sandbox.vk.chat_messages(chat)[0]["keyboard"] is None  # an edit drops the keyboard

    refusals = [
        ({"cmid": reader_cmid, "message": "чужое"}, 920),
        ({"cmid": 99, "message": "нет такого"}, 100),
        ({"message_id": 1, "message": "в беседе — только cmid"}, 15),
        ({"cmid": cmid, "message": "x", "keyboard": json.dumps(_buttons(11))}, 911),
        ({"cmid": cmid, "message": "x", "keyboard": json.dumps(_buttons(1, label="я" * 41))}, 911),
    ]
    for params, code in refusals:
        with pytest.raises(ApiError) as refused:
            community("messages.edit", peer_id=chat, **params)
        assert refused.value.code == code, params
    sandbox.vk.shift_clock(24 * 3600 + 1)
    with pytest.raises(ApiError) as late:
        community("messages.edit", peer_id=chat, cmid=cmid, message="Слишком поздно")
    assert late.value.code == 909
    with pytest.raises(ApiError) as foreign:
        community("messages.edit", peer_id=chat + 5, cmid=1, message="Чужая беседа")
    assert foreign.value.code == 917


def test_keyboards_are_checked_as_vk_does(community, chat):
    fine = [_buttons(10), _buttons(5, label="я" * 40)]
    for keyboard in fine:
        ask(community, chat, random_id=len(json.dumps(keyboard)), keyboard=keyboard)
    too_many_in_a_row = {
        "inline": True,
        "buttons": [[_button("x")] * 6],
    }
    bad = [_buttons(11), _buttons(1, label="я" * 41), too_many_in_a_row, _buttons(7, per_row=1)]
    for index, keyboard in enumerate(bad, start=100):
        with pytest.raises(ApiError) as refused:
            ask(community, chat, random_id=index, keyboard=keyboard)
        assert refused.value.code == 911


def test_chat_members_are_listed(sandbox, community, readers, chat):
    sandbox.vk.write_in_chat(sandbox.vk.add_reader("Новый", "Игрок"), chat, "Я тоже играю!")
    members = community("messages.getConversationMembers", peer_id=chat)
    ids = [item["member_id"] for item in members["items"]]
    assert ids[:3] == readers and ids[-1] < 0 and members["count"] == len(ids) == 5
    assert {p["id"] for p in members["profiles"]} == set(ids[:-1])
    with pytest.raises(ApiError) as foreign:
        community("messages.getConversationMembers", peer_id=chat + 1)
    assert foreign.value.code == 917


def test_control_routes_drive_a_chat(sandbox, community, readers):
    base = sandbox.info()["control_url"] + "/vk"
    peer_id = _post(base, "chats", title="Чат", members=readers[:2])
    cmid = _post(base, "chat_message", user_id=readers[0], peer_id=peer_id, text="Привет")
    assert cmid == 1
    question = ask(community, peer_id)
    event_id = _post(
        base,
        "button",
        user_id=readers[1],
        payload={"forged": True},
        peer_id=peer_id,
        conversation_message_id=question,
    )
    assert events_of(sandbox, "message_event")[0]["event_id"] == event_id
    refused = requests.post(
        f"{base}/button",
        json={
            "user_id": readers[1],
            "payload": {},
            "peer_id": peer_id,
            "conversation_message_id": cmid,
        },
        timeout=5,
    )
    assert refused.status_code == 400 and "no callback buttons" in refused.json()["error"]
    listed = requests.get(f"{base}/chat_messages", params={"peer_id": peer_id}, timeout=5).json()
    assert [m["conversation_message_id"] for m in listed] == [1, 2]
    assert requests.get(f"{base}/chats", timeout=5).json()[0]["peer_id"] == peer_id


# -- comments ---------------------------------------------------------------------------


def test_comment_edits_keep_the_original_date_and_comments_can_be_closed(
    sandbox, info, admin, community, readers
):
    group_id = info["group_id"]
    post_id = admin("wall.post", owner_id=-group_id, from_group=1, message="Вопрос дня")["post_id"]
    comment_id = sandbox.vk.comment(readers[0], post_id, "Пушкн")
    written = events_of(sandbox, "wall_reply_new")[0]["date"]
    sandbox.vk.shift_clock(90)
    sandbox.vk.edit_comment(comment_id, "Пушкин")
    [edit] = events_of(sandbox, "wall_reply_edit")
    assert (edit["id"], edit["text"], edit["date"]) == (comment_id, "Пушкин", written)
    vk_spec.validate_object(
        "wall/objects.json#/definitions/wall_wall_comment",
        {key: value for key, value in edit.items() if key != "post_owner_id"},
    )

    reply = community("wall.createComment", owner_id=-group_id, post_id=post_id, message="Верно!")
    assert events_of(sandbox, "wall_reply_new")[-1]["id"] == reply["comment_id"]

    assert admin("wall.closeComments", owner_id=-group_id, post_id=post_id) == 1
    with pytest.raises(ValueError, match="closed"):
        sandbox.vk.comment(readers[1], post_id, "Опоздал")
    with pytest.raises(ApiError) as closed:
        community("wall.createComment", owner_id=-group_id, post_id=post_id, message="Итоги")
    assert closed.value.code == 213
    [post] = admin("wall.getById", posts=f"-{group_id}_{post_id}")["items"]
    assert post["comments"]["can_post"] == 0 and post["comments"]["can_open"] == 1
    assert community("wall.openComments", owner_id=-group_id, post_id=post_id) == 1
    sandbox.vk.comment(readers[1], post_id, "Теперь можно")


# -- polls ------------------------------------------------------------------------------


def test_only_public_polls_report_who_voted(sandbox, info, admin, readers):
    owner_id = -info["group_id"]
    public = admin(
        "polls.create", question="Кто автор?", add_answers='["Пушкин", "Гоголь"]',
        owner_id=owner_id, is_anonymous=0, end_date=sandbox.vk.world.now() + 600,
    )  # fmt: skip
    anonymous = admin(
        "polls.create", question="Понравилось?", add_answers='["Да", "Нет"]',
        owner_id=owner_id, is_anonymous=1,
    )  # fmt: skip
    right, wrong = (answer["id"] for answer in public["answers"])
    sandbox.vk.vote(readers[0], public["id"], [right])
    sandbox.vk.vote(readers[1], public["id"], [wrong])
    sandbox.vk.vote(readers[0], anonymous["id"], [anonymous["answers"][0]["id"]])

    votes = events_of(sandbox, "poll_vote_new")
    assert votes == [
        {"owner_id": owner_id, "poll_id": public["id"], "option_id": right, "user_id": readers[0]},
        {"owner_id": owner_id, "poll_id": public["id"], "option_id": wrong, "user_id": readers[1]},
    ]
    for vote in votes:
        vk_spec.validate_object("callback/objects.json#/definitions/callback_poll_vote_new", vote)
    totals = admin("polls.getById", owner_id=owner_id, poll_id=anonymous["id"])
    assert totals["votes"] == 1 and totals["anonymous"] is True
    sandbox.vk.shift_clock(601)
    with pytest.raises(ValueError, match="closed"):
        sandbox.vk.vote(readers[2], public["id"], [right])


# -- helpers ----------------------------------------------------------------------------


def _button(label: str) -> dict[str, Any]:
    return {"action": {"type": "callback", "label": label, "payload": '{"a":1}'}}


def _buttons(count: int, label: str = "Ответ", per_row: int = 5) -> dict[str, Any]:
    buttons = [_button(label) for _ in range(count)]
    rows = [buttons[i : i + per_row] for i in range(0, count, per_row)]
    return {"inline": True, "buttons": rows}


def _post(base: str, route: str, **body: Any) -> Any:
    answer = requests.post(f"{base}/{route}", json=body, timeout=5).json()
    assert answer["ok"], answer
    return answer["result"]
