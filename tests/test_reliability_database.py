"""A running bot through a database fault: a full disk, a read-only database, a lock.

The bot is wired as ``bibliobot run`` wires it (runner, quiz engine, the refresh job,
and the Telegram and VK intakes running their own loops against the stand-ins); only
its scheduler's clock is the test's: the due jobs are fired as APScheduler fires them,
the refresh job every ``refresh_every`` (an hour here: recovery must not wait for it).
A library posts announcements and runs a live quiz in a Telegram group and a VK chat;
the database refuses every write for a minute and a half, during which a post falls
due, players answer, a question's close and the next question fall due. Then the fault
ends, and:

* the bot ran on (its intakes' loops are alive) and nothing is stuck or doubled: every
  post is out once on the stand-ins and ``sent``, each with its publication;
* every answer given, before, during or after the fault, is stored once and scored;
  each question was open its full time, is closed, and the results post counts everyone.

Smaller tests pin down each piece: a question due while the bot was stopped, a close
that waits for answers the database refused, an answer read late.

The disk is full as ``tests.diskfull`` makes it; a read-only database is SQLite's own
``query_only`` on the bot's connection (the same refusal as a read-only file, which an
open connection would not notice); a lock is another connection holding the write lock
(the bot's wait for it is cut to 50 ms: the outcome of the wait is the same, sooner).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.alerts import Alerts
from bot.app import make_refresh
from bot.intake.telegram import TelegramIntake
from bot.intake.vk import VkIntake
from bot.problems import ProblemTeller
from bot.quiz import store
from tests.diskfull import disk_full, fill, free
from tests.images import png
from tests.quiz_helpers import Expected, QuizWorld, local, quiz_world, shift
from tests.reliability import figures, size

PLAYERS = size(6, 30)  # per network
RIGHT = "Арина Родионовна"
QUIZ = """kind = "quiz"
library = "central"
title = "Знатоки Пушкина"
text = "Начинаем!"
at = {at}
mode = "live"
networks = ["telegram", "vk"]
interval = "1m"
answer_time = "60s"

[[questions]]
text = "Как звали няню Пушкина?"
answers = ["{right}"]

[[questions]]
text = "Кто написал «Евгения Онегина»?"
options = ["Пушкин", "Лермонтов", "Гоголь"]
correct = 1
image = "portrait.png"
"""
ANNOUNCEMENT = """kind = "announcement"
library = "central"
title = "{title}"
at = {at}
networks = ["telegram", "vk"]
text = "Приходите!"
"""
# Seconds from the start: the quiz opens at 60; question 1 at 120 (closes at 180, its
# close action at 182), question 2 at 180; the fault lasts from 150 to 240.
QUIZ_AT, FAULT_FROM, FAULT_UNTIL = 60, 150, 240
POSTS = {"До сбоя": 90, "Во время сбоя": 160, "После сбоя": 400}
log = logging.getLogger(__name__)


@contextlib.contextmanager
def full_disk(world: QuizWorld) -> Iterator[None]:
    tables = [t for t in world.db.table_names() if not t.startswith(("sqlite_", "_"))]
    with disk_full(world.db, *tables):
        yield


@contextlib.contextmanager
def read_only(world: QuizWorld) -> Iterator[None]:
    world.db.execute("pragma query_only = 1")
    try:
        yield
    finally:
        world.db.execute("pragma query_only = 0")


@contextlib.contextmanager
def locked(world: QuizWorld) -> Iterator[None]:
    other = sqlite3.connect(world.config.storage, isolation_level=None)
    world.db.execute("pragma busy_timeout = 50")
    other.execute("begin immediate")  # the write lock, until the fault ends
    try:
        yield
    finally:
        other.execute("rollback")
        other.close()
        world.db.execute("pragma busy_timeout = 5000")


FAULTS = {"full disk": full_disk, "read-only": read_only, "locked": locked}


class RunningBot:
    """The bot of ``bibliobot run`` around a QuizWorld; the test's clock drives its jobs."""

    def __init__(self, world: QuizWorld, box) -> None:
        self.world, self.box = world, box
        self.notices: list[str] = []
        world.runner.observers.append(Alerts(world.db, world.config, self._notify).observe)
        world.runner.store_pause = lambda seconds: asyncio.sleep(0.05)
        self.refresh = make_refresh(
            world.db, world.config, world.runner, ProblemTeller(world.config, self._notify)
        )
        self.next_refresh = world.clock.current
        self.firing: set[asyncio.Task] = set()
        self.fired = 0
        self.refused_refreshes = 0
        self.stop = asyncio.Event()
        bot = world.platforms[("central", "telegram")].bot
        self.telegram = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 1, quiz=world.engine.book
        )
        self.telegram.pause = lambda stop, seconds: asyncio.sleep(0.05)
        self.vk = VkIntake(
            world.db,
            "central",
            world.vk["group_id"],
            world.vk["community_token"],
            world.vk["api_url"],
            world.clock,
            wait=1,
            quiz=world.engine.book,
        )
        self.vk.backoff = 0.05
        self.loops: list[asyncio.Task] = []

    async def _notify(self, library_id: str, text: str, attachment=None) -> int:
        self.notices.append(text)
        return 1

    async def start(self) -> None:
        """Recover and arm the plan, start reading updates (as run_bot does)."""
        await self.telegram.start()
        await self.vk.poll_once()  # the long poll starts from now
        self.world.runner.recover()
        self.world.runner.rearm()
        self.loops = [
            asyncio.create_task(self.telegram.run(self.stop)),
            asyncio.create_task(self.vk.run(self.stop)),
        ]

    async def until(self, moment: datetime, settle: bool = True) -> None:
        """Let the bot's time run to ``moment``, 5 s at a time."""
        while self.world.clock.current < moment:
            self.world.set_time(min(moment, shift(self.world.clock.current, 5)))
            await self._jobs()
            if settle:
                await self.settle()
            else:
                await asyncio.sleep(0.05)  # the intakes try (and fail) meanwhile

    async def _jobs(self) -> None:
        """The jobs due now, as APScheduler runs them: each action in its own task."""
        now = self.world.clock.current
        if now >= self.next_refresh:
            self.next_refresh = now + self.world.config.schedule.refresh_every
            try:
                await self.refresh()
            except sqlite3.Error as exc:  # APScheduler logs a failed job and runs it next time
                self.refused_refreshes += 1
                log.warning("refresh failed: %s", exc)
        for job in self.world.runner.scheduler.get_jobs():
            if job.trigger.run_date <= now:
                job.remove()
                self.fired += 1
                task = asyncio.create_task(self.world.runner.fire(*job.args))
                self.firing.add(task)
                task.add_done_callback(self.firing.discard)
        await asyncio.sleep(0)

    async def settle(self) -> None:
        """Wait (for outcomes, not for a schedule) until the sends are over and every
        update has been read and stored."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            if self.firing:
                continue
            if self.box.telegram.pending_updates():
                continue
            group = int(self.world.vk["group_id"])
            stored = self.world.db.execute(
                "select offset from update_offsets where source = ?", [f"vk:{group}"]
            ).fetchone()
            if stored and stored[0] == self.box.vk.events.log(group).ts:
                return
        raise AssertionError("the bot did not catch up within 20 s")

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.loops)
        await self.world.runner.stop()
        await self.world.close()


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_running_bot_loses_nothing_through_a_database_fault(
    tmp_path: Path, fault: str
) -> None:
    vk_players: list[int] = []

    def chats(box) -> dict[str, str]:
        vk_players.extend(box.vk.add_reader(f"Игрок{n}", "ВК") for n in range(PLAYERS))
        return {
            "telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}",
            "vk_extra": f"quiz_chat = {box.vk.add_chat(members=vk_players)}",
            "snapshots": "[]",
            # Recovery must not wait for the refresh job: it may run once an hour.
            "extra_schedule": 'refresh_every = "1h"',
        }

    with quiz_world(tmp_path, seed=51, config=chats) as (box, world):
        start = world.clock.current
        group, peer = world.tg["group_id"], int(world.config.libraries[0].vk.quiz_chat)
        events = tmp_path / "events"
        (events / "portrait.png").write_bytes(png(40, 40))
        (events / "pushkin.toml").write_text(
            QUIZ.format(at=local(shift(start, QUIZ_AT)), right=RIGHT), "utf-8"
        )
        for n, (title, at) in enumerate(POSTS.items()):
            (events / f"post{n}.toml").write_text(
                ANNOUNCEMENT.format(title=title, at=local(shift(start, at))), "utf-8"
            )
        world.plan()
        tg_players = [box.telegram.add_user(f"Игрок{n}", "ТГ")["id"] for n in range(PLAYERS)]
        bot = RunningBot(world, box)
        await bot.start()
        expected = {"telegram": Expected(window=60, bonus=0), "vk": Expected(window=60, bonus=0)}
        names = {
            **{u: f"Игрок{n} ТГ" for n, u in enumerate(tg_players)},
            **{r: f"[id{r}|Игрок{n} ВК]" for n, r in enumerate(vk_players)},
        }

        # Question 1 (typed): half the players answer before the fault, half during it.
        await bot.until(shift(start, 120))
        asked = world.question("telegram", 1)["opened_at"]
        spread = (FAULT_FROM - 120 + 20) / PLAYERS  # the last answers come 20 s into the fault
        fault_context = FAULTS[fault](world)
        in_fault = False
        for n in range(PLAYERS):
            moment = shift(start, 121 + n * spread)
            if not in_fault and moment >= shift(start, FAULT_FROM):
                await bot.until(shift(start, FAULT_FROM))
                fault_context.__enter__()
                in_fault = True
            await bot.until(moment, settle=not in_fault)
            right = n % 3 != 0
            text = RIGHT if right else "Марина"
            box.telegram.post_as_user(tg_players[n], group, text)
            box.vk.write_in_chat(vk_players[n], peer, text)
            elapsed = (world.clock.current - datetime.fromisoformat(asked)).total_seconds()
            for network, player in (("telegram", tg_players[n]), ("vk", vk_players[n])):
                expected[network].answer(1, names[player], int(elapsed), right)
        # The fault holds past question 1's close, question 2's ask and a post's time.
        await bot.until(shift(start, FAULT_UNTIL), settle=False)
        fault_context.__exit__(None, None, None)
        await bot.until(shift(start, FAULT_UNTIL + 35))

        # Question 2 (buttons), asked once the database took writes again.
        q2 = {network: world.question(network, 2) for network in ("telegram", "vk")}
        assert all(q["remote_id"] for q in q2.values()), q2
        opened = {n: datetime.fromisoformat(q["opened_at"]) for n, q in q2.items()}
        message = next(
            m
            for m in box.telegram.messages(group)
            if m["message_id"] == int(q2["telegram"]["remote_id"])
        )
        tg_data = [row[0]["callback_data"] for row in message["reply_markup"]["inline_keyboard"]]
        chat_message = next(
            m
            for m in box.vk.chat_messages(peer)
            if str(m.get("conversation_message_id")) == q2["vk"]["remote_id"]
        )
        vk_data = [b["action"]["payload"] for r in chat_message["keyboard"]["buttons"] for b in r]
        for n in range(PLAYERS):
            await bot.until(shift(world.clock.current, 1))
            choice = n % 3
            box.telegram.press_as_user(
                tg_players[n], group, int(q2["telegram"]["remote_id"]), tg_data[choice]
            )
            box.vk.press_button(
                vk_players[n],
                vk_data[choice],
                peer_id=peer,
                conversation_message_id=int(q2["vk"]["remote_id"]),
            )
            await bot.settle()
            for network, player in (("telegram", tg_players[n]), ("vk", vk_players[n])):
                elapsed = (world.clock.current - opened[network]).total_seconds()
                expected[network].answer(2, names[player], elapsed, choice == 0, stamped=False)
        await bot.until(shift(start, POSTS["После сбоя"] + 10))
        alive = [not loop.done() for loop in bot.loops]
        states = [(r["key"], r["state"]) for r in world.db["actions"].rows_where(order_by="due_at")]
        channel = box.telegram.messages(world.tg["channel_id"])
        tg_group = box.telegram.messages(group)
        vk_wall = box.vk.posts(world.vk["group_id"])
        vk_chat = box.vk.chat_messages(peer)
        await bot.close()

    assert alive == [True, True]  # the intakes' loops ran through the fault
    assert [key for key, state in states if state != "sent"] == []
    assert bot.notices == []  # nothing missed or failed to tell the admins of
    for title in POSTS:  # every post once, on both networks
        assert sum(title in (m.get("text") or "") for m in channel) == 1, title
        assert sum(p["text"].startswith(title) for p in vk_wall) == 1, title
    # Each post, question and results message has its publication row, once.
    publications = [p["action_id"] for p in world.db["publications"].rows]
    assert len(set(publications)) == len(publications)
    assert set(publications) >= {
        r["id"]
        for r in world.db["actions"].rows_where("kind in ('publish', 'question', 'results')")
    }
    for network in ("telegram", "vk"):
        table = store.standings(world.db, "central/pushkin", network)
        got = [(s.name, round(s.points, 2), s.correct) for s in table]
        assert sorted(got) == sorted(expected[network].table()), network
        assert (
            world.db["quiz_questions"].count_where("network = ? and closed_at is null", [network])
            == 0
        )
    answers = world.db["quiz_answers"].count
    assert answers == 4 * PLAYERS
    results = [m["text"] for m in (tg_group + vk_chat) if "итоги" in (m.get("text") or "")]
    assert len(results) == 2 and all(f"Участников: {PLAYERS}." in text for text in results)
    figures(
        f"database[{fault}]",
        fault_seconds=FAULT_UNTIL - FAULT_FROM,
        posts=len(POSTS) * 2,
        answers=answers,
        answers_during_fault=2 * sum(1 for n in range(PLAYERS) if 121 + n * spread >= FAULT_FROM),
        jobs_fired=bot.fired,
        lost=0,
        doubled=0,
    )


ONE_QUESTION = """kind = "quiz"
library = "central"
title = "Знатоки Пушкина"
text = "Начинаем!"
at = {at}
mode = "live"
networks = ["telegram"]
answer_time = "60s"

[[questions]]
text = "Как звали няню Пушкина?"
answers = ["{right}"]
"""


async def test_a_question_due_while_the_bot_was_stopped_gets_its_full_time(
    tmp_path: Path,
) -> None:
    """After a stop (or a fault) the question, its close and the results are all due at
    once: the close waits for the question to be asked and open its full time, the
    results for the close."""

    def chats(box) -> dict[str, str]:
        return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}

    with quiz_world(tmp_path, seed=52, config=chats) as (box, world):
        start = world.clock.current
        group = world.tg["group_id"]
        (tmp_path / "events" / "pushkin.toml").write_text(
            ONE_QUESTION.format(at=local(shift(start, 60)), right=RIGHT), "utf-8"
        )
        world.plan()
        world.set_time(shift(start, 200))  # the question was due at 120, its close at 182
        bot = RunningBot(world, box)
        await bot.start()
        await bot.until(shift(start, 230))
        players = [box.telegram.add_user(f"Игрок{n}", "ТГ")["id"] for n in range(PLAYERS)]
        for player in players:
            box.telegram.post_as_user(player, group, RIGHT)
        await bot.until(shift(start, 400))
        messages = box.telegram.messages(group)
        await bot.close()

    question = world.question("telegram", 1)
    assert question["remote_id"] and question["closed_at"] >= question["closes_at"]
    assert world.db["quiz_answers"].count == PLAYERS
    results = [m["text"] for m in messages if "итоги" in (m.get("text") or "")]
    assert len(results) == 1 and f"Участников: {PLAYERS}." in results[0]
    finished = {
        r["kind"]: r["finished_at"]
        for r in world.db["actions"].rows_where("kind in ('close', 'results')")
    }
    assert finished["close"] <= finished["results"]


async def test_a_close_waits_for_answers_the_database_refused(tmp_path: Path) -> None:
    """The disk was full when the answers came; it has room again when the question's
    close falls due, before the intake reads them again: the close waits for them."""

    def chats(box) -> dict[str, str]:
        return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}

    with quiz_world(tmp_path, seed=53, config=chats) as (box, world):
        start = world.clock.current
        group = world.tg["group_id"]
        (tmp_path / "events" / "pushkin.toml").write_text(
            ONE_QUESTION.format(at=local(shift(start, 60)), right=RIGHT), "utf-8"
        )
        world.plan()
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 0, quiz=world.engine.book
        )
        await intake.start()
        await world.fire_due(shift(start, 130))  # the intro and the question
        for n in range(PLAYERS):
            world.tick()
            box.telegram.post_as_user(box.telegram.add_user(f"Игрок{n}")["id"], group, RIGHT)
        tables = ("quiz_answers", "update_offsets")
        with disk_full(world.db, *tables), pytest.raises(sqlite3.OperationalError):
            await intake.poll_once()
        waiting = await world.fire_due(shift(start, 190))
        assert [(r["kind"], r["state"]) for r in waiting] == [
            ("close", "pending"),  # to be tried again
            ("results", "pending"),
        ]
        assert world.question("telegram", 1)["closed_at"] is None
        assert await intake.poll_once() == PLAYERS  # read again, and stored now
        world.set_time(shift(start, 200))
        fired = await world.fire_due(shift(start, 200))
        await world.close()
    assert [(r["kind"], r["state"]) for r in fired] == [("close", "sent"), ("results", "sent")]
    assert world.question("telegram", 1)["answers"] == PLAYERS


async def test_an_answer_read_late_counts_by_the_time_it_was_written(tmp_path: Path) -> None:
    """The intake was waiting (after the database refused its batch) when a player answered
    before the close; it reads the message after the close time: the message's own date
    decides, not the moment it was read."""

    def chats(box) -> dict[str, str]:
        return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}

    with quiz_world(tmp_path, seed=54, config=chats) as (box, world):
        start = world.clock.current
        (tmp_path / "events" / "pushkin.toml").write_text(
            ONE_QUESTION.format(at=local(shift(start, 60)), right=RIGHT), "utf-8"
        )
        world.plan()
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 0, quiz=world.engine.book
        )
        await intake.start()
        await world.fire_due(shift(start, 130))  # the question, open until 180
        player = box.telegram.add_user("Игрок")["id"]
        world.set_time(shift(start, 170))
        box.telegram.post_as_user(player, world.tg["group_id"], RIGHT)
        world.set_time(shift(start, 200))  # read only now, before the close has run
        await intake.poll_once()
        await world.close()
    assert [(a["name"], a["correct"]) for a in world.db["quiz_answers"].rows] == [("Игрок", 1)]


async def test_a_question_the_platform_took_while_the_disk_was_full_is_kept(
    tmp_path: Path,
) -> None:
    """The group got the question, but the disk was full when the bot went to record it:
    the record waits for room (it is not a failed send), the question is asked once, and
    the answers to it count."""

    def chats(box) -> dict[str, str]:
        return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}

    with quiz_world(tmp_path, seed=61, config=chats) as (box, world):
        start = world.clock.current
        group = world.tg["group_id"]
        (tmp_path / "events" / "pushkin.toml").write_text(
            ONE_QUESTION.format(at=local(shift(start, 60)), right=RIGHT), "utf-8"
        )
        world.plan()
        bot = world.platforms[("central", "telegram")].bot
        intake = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 0, quiz=world.engine.book
        )
        await intake.start()
        await world.fire_due(shift(start, 61))  # the intro
        pauses: list[float] = []

        async def room_again(seconds: float) -> None:
            pauses.append(seconds)
            if len(pauses) == 2:  # the disk has room after two waits
                free(world.db, "quiz_questions", "publications")

        world.runner.store_pause = room_again
        platform = world.platforms[("central", "telegram")]
        ask = platform.ask

        async def then_the_disk_fills(question):
            published = await ask(question)
            fill(world.db, "quiz_questions", "publications")
            return published

        platform.ask = then_the_disk_fills
        fired = await world.fire_due(shift(start, 130))
        platform.ask = ask
        assert [(r["kind"], r["state"]) for r in fired] == [("question", "sent")]
        assert pauses == [1.0, 2.0]
        asked = [m for m in box.telegram.messages(group) if "няню" in (m.get("text") or "")]
        assert len(asked) == 1  # sent once, not again after the fault
        assert world.question("telegram", 1)["remote_id"] == str(asked[0]["message_id"])
        for n in range(PLAYERS):
            world.tick()
            box.telegram.post_as_user(box.telegram.add_user(f"Игрок{n}")["id"], group, RIGHT)
        assert await intake.poll_once() == PLAYERS
        fired = await world.fire_due(shift(start, 200))
        await world.close()
    assert [(r["kind"], r["state"]) for r in fired] == [("close", "sent"), ("results", "sent")]
    assert world.question("telegram", 1)["answers"] == PLAYERS


async def test_a_question_whose_record_the_disk_refused_before_asking_is_asked_later(
    tmp_path: Path,
) -> None:
    """The disk was full when the question fell due: nothing was sent, and the question
    is asked once there is room (not failed as an internal error)."""

    def chats(box) -> dict[str, str]:
        return {"telegram_extra": f"quiz_chat = {box.info()['telegram']['group_id']}"}

    with quiz_world(tmp_path, seed=62, config=chats) as (box, world):
        start = world.clock.current
        group = world.tg["group_id"]
        (tmp_path / "events" / "pushkin.toml").write_text(
            ONE_QUESTION.format(at=local(shift(start, 60)), right=RIGHT), "utf-8"
        )
        world.plan()
        await world.fire_due(shift(start, 61))  # the intro
        with disk_full(world.db, "quiz_questions"):
            fired = await world.fire_due(shift(start, 130))
        assert [(r["kind"], r["state"]) for r in fired] == [("question", "pending")]
        assert not [m for m in box.telegram.messages(group) if "няню" in (m.get("text") or "")]
        fired = await world.fire_due(shift(start, 140))
        asked = [m for m in box.telegram.messages(group) if "няню" in (m.get("text") or "")]
        await world.close()
    assert [(r["kind"], r["state"]) for r in fired] == [("question", "sent")]
    assert len(asked) == 1
