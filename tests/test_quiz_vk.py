"""Quizzes on VK, end to end on the stand-in with 50 simulated players.

Live: a community chat with callback buttons and typed answers. Comments: a wall post,
answers as comments (typos forgiven, edits counted as first written), first N right win.
Daily: one wall post a day with a poll attached; standings accumulate.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from bot.intake.vk import VkIntake
from bot.quiz import store
from sandbox.server import Sandbox
from tests.quiz_helpers import Expected, QuizWorld, local, shift, start_time

PLAYERS = 50
LIVE = """kind = "quiz"
library = "central"
title = "Краеведческая викторина"
text = "Начинаем!"
at = {at}
mode = "live"
networks = ["vk"]
interval = "2m"
answer_time = "60s"
speed_bonus = 1

[[questions]]
text = "В каком веке основан город?"
options = ["XII", "XV", "XVIII"]
correct = 1

[[questions]]
text = "Как называется главная река города?"
answers = ["Волга"]
"""


def vk_intake(world: QuizWorld) -> VkIntake:
    """The community's long-poll reader, answering into the quiz."""
    return VkIntake(
        world.db,
        "central",
        world.vk["group_id"],
        world.vk["community_token"],
        world.vk["api_url"],
        world.clock,
        wait=0,
        quiz=world.engine.book,
    )


async def test_live_quiz_in_a_vk_community_chat(tmp_path: Path) -> None:
    start = start_time()
    now = {"now": start.timestamp()}
    with Sandbox(seed=9, clock=lambda: now["now"]) as box:
        box.vk.set_rate_limits(enabled=False)
        readers = [box.vk.add_reader(f"Игрок{n}", "Тестов") for n in range(PLAYERS)]
        staff = box.vk.add_reader("Сотрудник", "Библиотеки")
        peer = box.vk.add_chat(members=[*readers, staff])
        extra = f"quiz_chat = {peer}\nstaff = [{staff}]"
        world = QuizWorld(box, tmp_path, start, vk_extra=extra)
        world.stand_in_time = now
        at = shift(start, 60)
        (tmp_path / "events" / "local.toml").write_text(LIVE.format(at=local(at)), "utf-8")
        world.plan()
        intake = vk_intake(world)
        rng = random.Random(3)
        # Named as VK's users.get gives them (asked once per reader while a question is open).
        names = {r: f"[id{r}|Игрок{n} Тестов]" for n, r in enumerate(readers)}
        expected = Expected(window=60, bonus=1)

        async def drain() -> None:
            await intake.poll_once()

        await drain()  # the long poll starts from now: earlier events are not replayed

        await world.fire_due(shift(at, 120))
        q1 = world.question("vk", 1)
        opened = world.clock.current
        message = next(
            m
            for m in box.vk.chat_messages(peer)
            if str(m.get("conversation_message_id")) == q1["remote_id"]
        )
        payloads = [
            button["action"]["payload"] for row in message["keyboard"]["buttons"] for button in row
        ]
        events: list[tuple[str, str]] = []
        for reader in readers:
            world.tick()
            roll = rng.random()
            cmid = int(q1["remote_id"])
            if roll < 0.1:  # a forged payload: another option's signature
                fake = json.loads(payloads[1])
                fake["a"] = fake["a"].rsplit(":", 1)[0] + ":000000000000"
                event = box.vk.press_button(
                    reader, json.dumps(fake), peer_id=peer, conversation_message_id=cmid
                )
                events.append((event, "forged"))
                continue
            choice = rng.choice([0, 1, 2])
            event = box.vk.press_button(
                reader, payloads[choice], peer_id=peer, conversation_message_id=cmid
            )
            events.append((event, "ok"))
            await drain()  # presses carry no time: they are judged on arrival
            elapsed = (world.clock.current - opened).total_seconds()
            expected.answer(1, names[reader], elapsed, choice == 0, stamped=False)
            if roll > 0.85:  # presses again (a replay): only the first counts
                world.tick()
                box.vk.press_button(
                    reader, payloads[2 - choice], peer_id=peer, conversation_message_id=cmid
                )
        box.vk.press_button(staff, payloads[0], peer_id=peer, conversation_message_id=cmid)
        await drain()
        answers = {kind: box.vk.button_answer(e) for e, kind in events}
        assert answers["forged"]["answer"]["text"] == "Кнопка недействительна."
        assert answers["ok"]["answered"] is True

        await world.fire_due(shift(at, 120 + 62))
        closed = next(
            m
            for m in box.vk.chat_messages(peer)
            if str(m.get("conversation_message_id")) == q1["remote_id"]
        )
        assert not closed.get("keyboard")  # the buttons are gone after the close

        await world.fire_due(shift(at, 240))
        opened = world.clock.current
        variants = {"Волга": True, "волга!!": True, "Вольга": True, "Ока": False, "Дон": False}
        late = []
        for reader in readers:
            world.tick()
            if rng.random() < 0.1:
                late.append(reader)
                continue
            text = rng.choice(list(variants))
            box.vk.write_in_chat(reader, peer, text)
            elapsed = (world.clock.current - opened).total_seconds()
            expected.answer(2, names[reader], elapsed, variants[text])
            if rng.random() < 0.2:
                box.vk.write_in_chat(reader, peer, "Волга")  # a second try: ignored
        await drain()
        await world.fire_due(shift(at, 240 + 62))
        for reader in late:
            box.vk.write_in_chat(reader, peer, "Волга")  # after the close: ignored
        await drain()
        fired = await world.fire_due(shift(at, 600))
        assert fired[-1]["kind"] == "results" and fired[-1]["state"] == "sent"
        final = box.vk.chat_messages(peer)[-1]["text"]
        await world.close()

    table = store.standings(world.db, "central/local", "vk")
    got = [(s.name, round(s.points, 2), s.correct) for s in table]
    assert got == expected.table()
    assert staff not in [int(s.name[3:].split("|")[0]) for s in table]
    assert "итоги" in final and expected.table()[0][0] in final
