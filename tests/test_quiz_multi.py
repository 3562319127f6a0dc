"""Questions with several right options, on both networks, through one scoring path.

Right means exactly the right options, none missing, none wrong. Telegram asks in a quiz
poll with several correct options (one vote picks them all); buttons (VK chats, Telegram
photo questions) mark and unmark options, and «Готово» sends the choice, the first
sending being the answer; a typed "1, 3", "3 и 1" or the options' texts names the set.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.intake.telegram import TelegramIntake
from bot.platforms.vk import _keyboard as vk_keyboard
from core.matching import choices_from_text
from core.platform import Ask
from core.quiz_model import Question
from scheduler.quiz_plan import style_for
from tests.images import png
from tests.quiz_helpers import local, quiz_world, shift
from tests.test_quiz_vk import vk_intake

QUIZ = """kind = "quiz"
library = "central"
title = "Гоголь"
text = "Начинаем!"
at = {at}
mode = "{mode}"
networks = ["{network}"]
interval = "{interval}"
answer_time = "60s"

[[questions]]
text = "Какие из этих произведений написал Н. В. Гоголь?"
options = ["«Мёртвые души»", "«Обломов»", "«Ревизор»", "«Отцы и дети»"]
correct = [1, 3]
"""
PHOTO = """
[[questions]]
text = "Что изображено на иллюстрациях к Гоголю?"
options = ["Тройка", "Шинель", "Самовар"]
correct = [1, 2]
image = "picture.png"
"""
OPTIONS = ["«Мёртвые души»", "«Обломов»", "«Ревизор»", "«Отцы и дети»"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("1, 3", (0, 2)),
        ("3,1", (0, 2)),
        ("1 и 3", (0, 2)),
        ("1 3", (0, 2)),
        ("1; 3", (0, 2)),
        ("а, в", (0, 2)),
        ("Мёртвые души и Ревизор", (0, 2)),
        ("«Ревизор», «Мёртвые души»", (0, 2)),
        ("1, 2, 3", (0, 1, 2)),
        ("1", (0,)),
        ("Обломов", (1,)),
        ("1 или 3", None),  # a hedge names no choice
        ("1/3", None),  # "or", perhaps
        ("то ли 1, то ли 3", None),
        ("1, 7", None),  # no option 7
        ("1 и Гоголь", None),
        ("привет", None),
        ("", None),
    ],
)
def test_typed_choices(answer: str, expected: tuple[int, ...] | None) -> None:
    assert choices_from_text(answer, OPTIONS) == expected


def test_an_option_with_a_conjunction_in_its_text_is_one_choice() -> None:
    options = ["«Война и мир»", "«Анна Каренина»", "«Отцы и дети»"]
    assert choices_from_text("Война и мир", options) == (0,)
    assert choices_from_text("Война и мир, Отцы и дети", options) == (0, 2)


def test_a_vk_chat_question_with_no_room_for_the_send_button_takes_typed_answers() -> None:
    nine = Question(1, "?", tuple("абвгдежзи"), (0, 1))
    ten = Question(1, "?", tuple("абвгдежзик"), (0, 1))
    assert style_for(nine, "vk", "chat", "live") == "buttons"
    assert style_for(ten, "vk", "chat", "live") == "text"
    assert style_for(Question(1, "?", tuple("абвгдежзик"), (0,)), "vk", "chat", "live") == (
        "buttons"
    )
    keyboard = json.loads(
        vk_keyboard(
            Ask("2000000001", "?", "buttons", nine.options, buttons=("x",) * 10, send="Готово")
        )
    )
    rows = keyboard["buttons"]
    assert len(rows) <= 6 and sum(len(row) for row in rows) == 10
    assert rows[-1][0]["action"]["label"] == "Готово"


def _keyboard(box, peer: int, remote_id: str) -> list[dict]:
    message = next(
        m for m in box.vk.chat_messages(peer) if str(m.get("conversation_message_id")) == remote_id
    )
    return [button["action"] for row in message["keyboard"]["buttons"] for button in row]


def _chat_of(people: list[int], count: int):
    """The quiz world's setup: ``count`` players in a VK chat that takes the quiz."""

    def chat(box) -> dict[str, str]:
        people.extend(box.vk.add_reader(f"Игрок{n}", "Т") for n in range(count))
        return {"vk_extra": f"quiz_chat = {box.vk.add_chat(members=people)}"}

    return chat


async def _first_question_in_chat(box, world, tmp_path: Path, quiz: str):
    """Plan ``quiz`` a minute from now and ask its first question in the VK chat:
    (the chat, the reader of the community, the question's row, the message asked, when)."""
    peer = int(world.config.libraries[0].vk.quiz_chat)  # type: ignore[union-attr]
    at = shift(world.clock.now(), 60)
    text = quiz.format(at=local(at), mode="live", network="vk", interval="2m")
    (tmp_path / "events" / "gogol.toml").write_text(text, "utf-8")
    world.plan()
    intake = vk_intake(world)
    await intake.poll_once()
    await world.fire_due(shift(at, 120))
    question = world.question("vk", 1)
    [asked] = [
        m
        for m in box.vk.chat_messages(peer)
        if str(m.get("conversation_message_id")) == question["remote_id"]
    ]
    return peer, intake, question, asked, at


async def test_several_right_options_in_a_vk_chat(tmp_path: Path) -> None:
    people: list[int] = []
    with quiz_world(tmp_path, 71, _chat_of(people, 9)) as (box, world):
        peer, intake, question, asked, at = await _first_question_in_chat(
            box, world, tmp_path, QUIZ
        )
        assert "Верных ответов несколько: отметьте их и нажмите «Готово»." in asked["text"]
        actions = _keyboard(box, peer, question["remote_id"])
        assert [a["label"] for a in actions] == [
            "1. «Мёртвые души»",
            "2. «Обломов»",
            "3. «Ревизор»",
            "4. «Отцы и дети»",
            "Готово",
        ]
        button = [a["payload"] for a in actions]
        done = button[4]
        cmid = int(question["remote_id"])
        snackbars: dict[int, list[str]] = {}

        async def press(player: int, *payloads: str) -> None:
            for payload in payloads:
                world.tick()
                event = box.vk.press_button(
                    player, payload, peer_id=peer, conversation_message_id=cmid
                )
                await intake.poll_once()
                answer = box.vk.button_answer(event)["answer"]
                snackbars.setdefault(player, []).append(answer["text"])

        async def write(player: int, text: str) -> None:
            world.tick()
            box.vk.write_in_chat(player, peer, text)
            await intake.poll_once()

        p = people
        await press(p[0], button[0], button[2], done)  # right
        await press(p[1], button[0], done)  # one missing
        await press(p[2], button[0], button[1], button[2], done)  # one wrong
        await press(p[3], button[0], button[1], button[1], button[2], done)  # 2 unmarked
        await press(p[4], done)  # nothing marked: nothing sent
        await write(p[4], "3, 1")
        await write(p[5], "1 и 3")
        await press(p[5], button[1], done)  # typed first: the typed answer counts
        await write(p[6], "«Мёртвые души» и «Ревизор»")
        await write(p[7], "1 или 3")  # a hedge: not an answer, just a message
        await write(p[7], "1")
        await press(p[8], button[0], button[2], done, done)
        await world.fire_due(shift(at, 600))
        await world.close()

    assert snackbars[p[0]] == [
        "Выбрано: 1. Отметьте все верные ответы и нажмите «Готово».",
        "Выбрано: 1, 3. Отметьте все верные ответы и нажмите «Готово».",
        "Ответ принят!",
    ]
    assert snackbars[p[3]][3] == "Выбрано: 1, 3. Отметьте все верные ответы и нажмите «Готово»."
    assert snackbars[p[4]] == ["Сначала отметьте варианты, потом нажмите «Готово»."]
    assert snackbars[p[5]] == ["Засчитывается только первый ответ."] * 2
    assert snackbars[p[8]][-1] == "Засчитывается только первый ответ."
    rows = {r["name"]: r for r in world.db["quiz_answers"].rows}
    got = {name: (r["answer"], r["correct"], r["via"]) for name, r in rows.items()}
    names = {player: f"[id{player}|Игрок{n} Т]" for n, player in enumerate(p)}
    assert got == {
        names[p[0]]: ("1,3", 1, "button"),
        names[p[1]]: ("1", 0, "button"),
        names[p[2]]: ("1,2,3", 0, "button"),
        names[p[3]]: ("1,3", 1, "button"),
        names[p[4]]: ("3, 1", 1, "message"),
        names[p[5]]: ("1 и 3", 1, "message"),
        names[p[6]]: ("«Мёртвые души» и «Ревизор»", 1, "message"),
        names[p[7]]: ("1", 0, "message"),
        names[p[8]]: ("1,3", 1, "button"),
    }
    hedge = world.db["interactions"].rows_where("kind = 'message'")
    assert [json.loads(r["detail"])["text"] for r in hedge] == ["1 или 3"]


async def test_several_right_options_in_a_telegram_group(tmp_path: Path) -> None:
    def group(box) -> dict[str, str]:
        return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}

    with quiz_world(tmp_path, 72, group) as (box, world):
        chat = world.tg["group_id"]
        at = shift(world.clock.now(), 60)
        text = QUIZ.format(at=local(at), mode="live", network="telegram", interval="2m") + PHOTO
        (tmp_path / "events" / "picture.png").write_bytes(png(40, 40))
        (tmp_path / "events" / "gogol.toml").write_text(text, "utf-8")
        world.plan()
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 0, quiz=world.engine.book
        )
        await intake.start()

        async def drain() -> None:
            while await intake.poll_once():
                pass

        users = [box.telegram.add_user(f"Игрок{n}")["id"] for n in range(7)]
        await world.fire_due(shift(at, 120))
        poll_message = int(world.question("telegram", 1)["remote_id"])
        [sent] = [m for m in box.telegram.messages(chat) if m["message_id"] == poll_message]
        assert sent["poll"]["correct_option_ids"] == [0, 2]
        assert sent["poll"]["allows_multiple_answers"] is True
        box.telegram.vote_as_user(users[0], chat, poll_message, [0, 2])  # right
        box.telegram.vote_as_user(users[1], chat, poll_message, [0])  # one missing
        box.telegram.vote_as_user(users[2], chat, poll_message, [0, 1, 2])  # one wrong
        box.telegram.post_as_user(users[3], chat, "1, 3")  # typed: right
        box.telegram.post_as_user(users[4], chat, "Мёртвые души, Ревизор")
        box.telegram.post_as_user(users[5], chat, "Кто знает?")  # chat, not an answer
        await drain()
        await world.fire_due(shift(at, 120 + 62))

        await world.fire_due(shift(at, 240))  # question 2: a photo with buttons
        photo = int(world.question("telegram", 2)["remote_id"])
        [message] = [m for m in box.telegram.messages(chat) if m["message_id"] == photo]
        keys = [row[0] for row in message["reply_markup"]["inline_keyboard"]]
        assert [k["text"] for k in keys] == ["1. Тройка", "2. Шинель", "3. Самовар", "Готово"]
        data = [k["callback_data"] for k in keys]
        for user, presses in ((users[0], (0, 1, 3)), (users[1], (0, 3)), (users[6], (1, 0, 3))):
            for n in presses:
                world.tick()
                box.telegram.press_as_user(user, chat, photo, data[n])
            await drain()
        await world.fire_due(shift(at, 600))
        await world.close()

    replies = [a["answer"].get("text") for a in box.telegram.callback_answers() if a.get("answer")]
    assert replies[:3] == [
        "Выбрано: 1. Отметьте все верные ответы и нажмите «Готово».",
        "Выбрано: 1, 2. Отметьте все верные ответы и нажмите «Готово».",
        "Ответ принят!",
    ]
    got = {
        (r["number"], r["name"]): (r["answer"], r["correct"]) for r in world.db["quiz_answers"].rows
    }
    assert got == {
        (1, "Игрок0"): ("1,3", 1),
        (1, "Игрок1"): ("1", 0),
        (1, "Игрок2"): ("1,2,3", 0),
        (1, "Игрок3"): ("1, 3", 1),
        (1, "Игрок4"): ("Мёртвые души, Ревизор", 1),
        (2, "Игрок0"): ("1,2", 1),
        (2, "Игрок1"): ("1", 0),
        (2, "Игрок6"): ("1,2", 1),
    }
    assert world.db["interactions"].count_where("kind = 'message'") == 1


async def test_several_right_options_in_a_vk_wall_poll(tmp_path: Path) -> None:
    """VK sends one vote event per chosen option: the options of one vote are one answer."""
    with quiz_world(tmp_path, 73) as (box, world):
        at = shift(world.clock.now(), 60)
        text = QUIZ.format(at=local(at), mode="daily", network="vk", interval="1d")
        (tmp_path / "events" / "gogol.toml").write_text(text, "utf-8")
        world.plan()
        intake = vk_intake(world)
        await intake.poll_once()
        await world.fire_due(shift(at, 86400))
        question = world.question("vk", 1)
        poll = next(p for p in box.state()["vk"]["polls"] if str(p["id"]) == question["poll_id"])
        ids = [answer["id"] for answer in poll["answers"]]
        readers = [box.vk.add_reader(f"Читатель{n}", "Т") for n in range(3)]
        box.vk.vote(readers[0], poll["id"], [ids[0], ids[2]])
        box.vk.vote(readers[1], poll["id"], [ids[0]])
        box.vk.vote(readers[2], poll["id"], [ids[0], ids[1], ids[2]])
        await intake.poll_once()
        await world.close()
    got = {r["name"]: (r["answer"], r["correct"]) for r in world.db["quiz_answers"].rows}
    assert got == {
        f"[id{readers[0]}|Читатель0 Т]": ("1,3", 1),
        f"[id{readers[1]}|Читатель1 Т]": ("1", 0),
        f"[id{readers[2]}|Читатель2 Т]": ("1,2,3", 0),
    }


async def test_a_vk_chat_question_with_options_counts_typed_answers(tmp_path: Path) -> None:
    """The question invites answers "by number or in words": typed ones count as the
    buttons do (issue 18 found them ignored in a VK chat)."""
    people: list[int] = []
    single = QUIZ.replace("correct = [1, 3]", "correct = 3")
    with quiz_world(tmp_path, 72, _chat_of(people, 4)) as (box, world):
        peer, intake, _, asked, at = await _first_question_in_chat(box, world, tmp_path, single)
        assert "Отвечайте номером варианта или словами." in asked["text"]
        for player, answer in zip(people, ["3", "«Ревизор»", "2", "ревизор"], strict=True):
            world.tick()
            box.vk.write_in_chat(player, peer, answer)
            await intake.poll_once()
        await world.fire_due(shift(at, 600))
        await world.close()

    rows = {r["name"]: r for r in world.db["quiz_answers"].rows}
    got = {name: (r["answer"], r["correct"], r["via"]) for name, r in rows.items()}
    names = [f"[id{player}|Игрок{n} Т]" for n, player in enumerate(people)]
    assert got == {
        names[0]: ("3", 1, "message"),
        names[1]: ("«Ревизор»", 1, "message"),
        names[2]: ("2", 0, "message"),
        names[3]: ("ревизор", 1, "message"),
    }
