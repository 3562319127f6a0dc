"""A hostile audience during a live quiz: the bot goes on, and the other players lose nothing.

A live quiz runs in a Telegram group and a VK community chat at once. Players' names
carry markup and odd Unicode (``<script>``, ``<b>``, ``[id1|x]``, ``*bold*``, RTL and
zero-width marks, emoji, combining marks, NUL, a spreadsheet formula); one player floods
each question with hundreds (full: thousands) of presses and messages, some of 100 KB;
others send forged button data. Then:

* nothing crashes, and every other player's answer is stored and scored as if there had
  been no flood (the same points, judged at the moment of the press);
* the flood costs no extra poll cycles (Telegram hands out 100 updates a call: the cycles
  are exactly the queue's length over 100), and at most ``REPLIES_PER_READER`` (5)
  button answers per player per cycle (each
  answer is a request: a thousand presses answered would hold every other player's
  presses back by a thousand requests, on VK by a minute);
* the standings and results posts show the names as text: on Telegram (HTML parse mode)
  the only entities are the template's own bold ones; on VK the names cannot break the
  mention markup; the HTML and Markdown reports show them as text too, and the XLSX as
  text, not as a formula.
"""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import date, timedelta
from pathlib import Path

import openpyxl

from bot.intake.telegram import TelegramIntake
from bot.intake.vk import VkIntake
from bot.quiz import store
from bot.quiz.buttons import REPLIES_PER_READER
from core.interactions import pseudonym
from reports.output import from_config, write_all
from reports.period import date_range
from sandbox.server import Sandbox
from tests.images import png
from tests.quiz_helpers import Expected, QuizWorld, local, quiz_world, shift
from tests.reliability import figures, size

PLAYERS = size(12, 50)
FLOOD = size(600, 6000)  # the flooder's presses, and again messages, per network
LONG = "Ы" * 100_000  # a 100 KB message
ZERO_WIDTH = "\u200b"
TITLE = "Знатоки Пушкина"
RIGHT = "Арина Родионовна"
NAMES = [
    ("<script>alert(1)</script>", "<b>Жирный</b>"),
    ('=HYPERLINK("http://x.test","y")', "<a href='javascript:alert(1)'>x</a>"),  # a winner
    ("[id1|Админ]", "*bold* _курсив_"),
    ("\u202eнимдА", "\u200bАнна\u200d"),  # right-to-left override; zero-width characters
    ("📚🔥", "Z\u0336a\u0337l\u0338g\u0335o"),  # emoji; combining marks
    ("А\x00Б", "&lt;i&gt; &amp;"),  # NUL; entities as text
    ("`code`", "[ссылка](javascript:alert(1))"),
]
# Entities Telegram detects in plain text by itself.
DETECTED = {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number"}
MARKUP = ("<script", "<b>Жирный", "<a href='javascript")  # the names' markup, unescaped
FORGED = [
    "q:1:0:forged",
    "' or 1=1 --",
    "<script>",
    "\x00",
    "x" * 64,
    '{"a": 1}',
    "🔥" * 16,
]
QUIZ = f"""kind = "quiz"
library = "central"
title = "{TITLE}"
text = "Начинаем!"
at = {{at}}
mode = "live"
networks = ["telegram", "vk"]
interval = "4m"
answer_time = "120s"
speed_bonus = 2
winners = 3

[[questions]]
text = "Кто написал «Евгения Онегина»?"
options = ["Пушкин", "Лермонтов", "Гоголь"]
correct = 1
image = "portrait.png"

[[questions]]
text = "Как звали няню Пушкина?"
answers = ["{RIGHT}"]
"""


def _name(n: int) -> tuple[str, str]:
    first, last = NAMES[n % len(NAMES)]
    return first, f"{last} {n}"


class Crowd:
    """The players of one network: ``flooder`` floods, the others play fair."""

    def __init__(self, world: QuizWorld, network: str, ids: list[int]) -> None:
        secret = world.engine.book.secret("central")
        self.network = network
        self.ids = ids
        self.flooder, self.players = ids[0], ids[1:]
        self.person = {u: pseudonym(secret, network, u) for u in ids}
        self.expected = Expected(window=120, bonus=2)
        self.cycles = 0  # poll cycles that brought updates
        self.bound = 0  # button answers allowed: a few per player per cycle
        self.updates = 0


async def test_a_hostile_audience_during_a_live_quiz(tmp_path: Path) -> None:
    vk_readers: list[int] = []

    def chats(box) -> dict[str, str]:
        group = box.info()["telegram"]["group_id"]
        vk_readers.extend(box.vk.add_reader(*_name(n)) for n in range(PLAYERS + 1))
        peer = box.vk.add_chat(members=vk_readers)
        return {"telegram_extra": f"quiz_chat = {group}", "vk_extra": f"quiz_chat = {peer}"}

    with quiz_world(tmp_path, seed=31, config=chats) as (box, world):
        group = world.tg["group_id"]
        peer = int(world.config.libraries[0].vk.quiz_chat)
        (tmp_path / "events" / "portrait.png").write_bytes(png(40, 40))
        at = shift(world.clock.current, 60)
        (tmp_path / "events" / "pushkin.toml").write_text(QUIZ.format(at=local(at)), "utf-8")
        world.plan()
        tg_ids = [box.telegram.add_user(*_name(n))["id"] for n in range(PLAYERS + 1)]
        tg = Crowd(world, "telegram", tg_ids)
        vk = Crowd(world, "vk", vk_readers)
        bot = world.platforms[("central", "telegram")].bot
        tg_intake = TelegramIntake(
            world.db, bot, list(world.config.libraries), world.clock, 0, quiz=world.engine.book
        )
        await tg_intake.start()
        vk_intake = VkIntake(
            world.db,
            "central",
            world.vk["group_id"],
            world.vk["community_token"],
            world.vk["api_url"],
            world.clock,
            wait=0,
            quiz=world.engine.book,
        )
        await vk_intake.poll_once()  # the long poll starts from now
        box.recording = True

        def answered(method: str) -> int:
            return sum(1 for a in box.arrivals if a.method == method)

        async def drain_telegram() -> None:
            """Poll until the queue is empty, counting cycles against the queue's length."""
            queue = box.telegram.pending_updates()
            tg.updates += len(queue)
            for start in range(0, len(queue), 100):
                pressers = {
                    u["callback_query"]["from"]["id"]
                    for u in queue[start : start + 100]
                    if "callback_query" in u
                }
                tg.bound += REPLIES_PER_READER * len(pressers)
            before = tg.cycles
            while await tg_intake.poll_once():
                tg.cycles += 1
            assert tg.cycles - before == math.ceil(len(queue) / 100)

        async def drain_vk(pressers: set[int]) -> None:
            """One long-poll check brings everything since the last one."""
            events = await vk_intake.poll_once()
            vk.updates += events
            vk.cycles += 1 if events else 0
            vk.bound += REPLIES_PER_READER * len(pressers)

        # Question 1: answer buttons in both chats.
        await world.fire_due(shift(at, 240))
        q_tg, q_vk = world.question("telegram", 1), world.question("vk", 1)
        opened = world.clock.current
        message = next(
            m for m in box.telegram.messages(group) if m["message_id"] == int(q_tg["remote_id"])
        )
        tg_data = [row[0]["callback_data"] for row in message["reply_markup"]["inline_keyboard"]]
        chat_message = next(
            m
            for m in box.vk.chat_messages(peer)
            if str(m.get("conversation_message_id")) == q_vk["remote_id"]
        )
        vk_data = [b["action"]["payload"] for r in chat_message["keyboard"]["buttons"] for b in r]
        cmid = int(q_vk["remote_id"])
        for crowd in (tg, vk):  # the flooder's first press is their answer (a wrong one)
            crowd.expected.answer(1, crowd.person[crowd.flooder], 0, False, stamped=False)
        box.telegram.press_as_user(tg.flooder, group, int(q_tg["remote_id"]), tg_data[1])
        box.vk.press_button(vk.flooder, vk_data[1], peer_id=peer, conversation_message_id=cmid)
        per_round = FLOOD // PLAYERS
        for n, (tg_player, vk_player) in enumerate(zip(tg.players, vk.players, strict=True)):
            world.tick()
            elapsed = (world.clock.current - opened).total_seconds()
            choice = n % 3
            forged = FORGED[n % len(FORGED)]
            for _ in range(per_round):
                box.telegram.press_as_user(tg.flooder, group, int(q_tg["remote_id"]), tg_data[0])
                box.vk.press_button(
                    vk.flooder, vk_data[0], peer_id=peer, conversation_message_id=cmid
                )
            if n % 2:  # a forged press first: it counts for nothing
                box.telegram.forge_callback(tg_player, group, int(q_tg["remote_id"]), forged)
                box.vk.press_button(
                    vk_player,
                    json.dumps({"a": forged}),
                    peer_id=peer,
                    conversation_message_id=cmid,
                )
            box.telegram.press_as_user(tg_player, group, int(q_tg["remote_id"]), tg_data[choice])
            box.vk.press_button(
                vk_player, vk_data[choice], peer_id=peer, conversation_message_id=cmid
            )
            for crowd, player in ((tg, tg_player), (vk, vk_player)):
                crowd.expected.answer(1, crowd.person[player], elapsed, choice == 0, stamped=False)
            await drain_telegram()
            await drain_vk({vk.flooder, vk_player})
        assert answered("answerCallbackQuery") <= tg.bound, (
            answered("answerCallbackQuery"),
            tg.bound,
        )
        vk_answers = answered("messages.sendMessageEventAnswer")
        assert vk_answers <= vk.bound, (vk_answers, vk.bound)
        await world.fire_due(shift(at, 240 + 122))

        # Question 2: typed answers, under a flood of messages (some of 100 KB).
        await world.fire_due(shift(at, 480))
        opened = world.clock.current
        box.telegram.post_as_user(tg.flooder, group, "Пушкин")
        box.vk.write_in_chat(vk.flooder, peer, "Пушкин")
        for crowd in (tg, vk):
            crowd.expected.answer(2, crowd.person[crowd.flooder], 0, False)
        for n, (tg_player, vk_player) in enumerate(zip(tg.players, vk.players, strict=True)):
            world.tick()
            elapsed = (world.clock.current - opened).total_seconds()
            for k in range(per_round):
                text = LONG if k % 50 == 0 else RIGHT + ZERO_WIDTH * (k % 100)
                box.telegram.post_as_user(tg.flooder, group, text)
                box.vk.write_in_chat(vk.flooder, peer, text)
            # Right answers dressed in odd Unicode, wrong ones in markup.
            right = n % 2 == 0
            text = f"\u200f{RIGHT}\u200b 📚" if right else "<b>Пушкин</b> [id1|x]"
            box.telegram.post_as_user(tg_player, group, text)
            box.vk.write_in_chat(vk_player, peer, text)
            for crowd, player in ((tg, tg_player), (vk, vk_player)):
                crowd.expected.answer(2, crowd.person[player], elapsed, right)
            await drain_telegram()
            await drain_vk(set())
        await world.fire_due(shift(at, 480 + 122))
        fired = await world.fire_due(shift(at, 1200))
        assert {r["state"] for r in fired if r["kind"] == "results"} == {"sent"}
        telegram_posts = [
            m
            for m in box.telegram.messages(group)
            if "после вопроса" in (m.get("text") or "") or "итоги" in (m.get("text") or "")
        ]
        vk_posts = [
            m for m in box.vk.chat_messages(peer) if TITLE in (m.get("text") or "") and m.get("out")
        ]
        await world.close()

    for crowd in (tg, vk):
        table = store.standings(world.db, "central/pushkin", crowd.network)
        got = [(s.person, round(s.points, 2), s.correct) for s in table]
        assert got == crowd.expected.table(), crowd.network
    # Names are kept as given (shown escaped, never changed), on Telegram in full.
    stored = {r["person"]: r["name"] for r in world.db["quiz_answers"].rows_where("number = 1")}
    for n, user in enumerate(tg.ids):
        first, last = _name(n)
        assert stored[tg.person[user]] == f"{first} {last}"

    # Telegram: the names are text; the only formatting is the template's bold lines
    # (links, commands and mentions Telegram finds in any plain text are not formatting).
    assert len(telegram_posts) == 2, [m.get("text") for m in telegram_posts]
    bold = {TITLE, RIGHT, "Пушкин", f"{TITLE}: итоги"}
    for post in telegram_posts:
        text = post["text"].encode("utf-16-le")
        for entity in post.get("entities", []):
            if entity["type"] in DETECTED:
                continue
            start, end = 2 * entity["offset"], 2 * (entity["offset"] + entity["length"])
            assert entity["type"] == "bold" and text[start:end].decode("utf-16-le") in bold, entity
    assert "<script>alert(1)</script>" in "".join(m["text"] for m in telegram_posts)
    # VK: each player's mention stays one mention, whatever the name.
    for post in vk_posts:
        for line in post["text"].splitlines():
            if "[id" in line:
                assert re.fullmatch(r".*\[id\d+\|[^\[\]|]*\].*", line), line

    # The reports show the names as text.
    out = tmp_path / "report"
    out.mkdir()
    # The quiz's own local day (and the next, should it run past midnight), not today's UTC
    # date: at 22:00 UTC the library's day has already turned.
    day = date.fromisoformat(local(at)[:10])
    period = date_range(day, day + timedelta(days=1))
    report = from_config(world.db, world.config, period, with_names=True)
    files = {fmt: out / f"report.{fmt}" for fmt in ("html", "md", "xlsx")}
    write_all(report, list(files.items()))
    html = files["html"].read_text(encoding="utf-8")
    markdown = files["md"].read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for document in (html, markdown):
        for markup in MARKUP:
            assert markup not in document, (markup, files)
    assert not re.search(r"(?<!\\)\]\(javascript:", markdown) and "*bold*" not in markdown
    book = openpyxl.load_workbook(files["xlsx"])
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value]
    formulas = [c.value for c in cells if c.data_type == "f"]
    assert not any("HYPERLINK" in f for f in formulas), formulas
    assert any(str(c.value).startswith("=HYPERLINK") for c in cells)  # shown, as text

    figures(
        "audience",
        fair_players_per_network=PLAYERS,
        flood_presses_per_network=per_round * PLAYERS,
        flood_messages_per_network=per_round * PLAYERS,
        of_100KB=len(range(0, per_round, 50)) * PLAYERS,
        telegram_updates=tg.updates,
        telegram_cycles=tg.cycles,
        telegram_button_answers=answered("answerCallbackQuery"),
        vk_events=vk.updates,
        vk_checks=vk.cycles,
        vk_button_answers=vk_answers,
        fair_answers_scored_as_without_flood=f"{4 * PLAYERS}/{4 * PLAYERS}",
    )


MAX_HOSTILE_NAMES = (
    '<script>alert("x")</script>',
    "<b>жирный</b> &amp; <a href='http://evil'>ссылка</a>",
    "\u202eнидаЧ\u202c",  # RTL override
    "Зеро\u200b\u200dширина",
    "Эмодзи 📚🧑‍🤝‍🧑",
    "Z\u0351\u0352\u0353\u0354algo",
    "Я" * 300,
)


async def test_a_hostile_audience_in_a_live_max_quiz(tmp_path: Path) -> None:
    """MAX: hostile names, long and odd messages, a flood and forged button data in a live
    quiz: no crash, names stay text in the posted HTML, every genuine answer counted once."""
    from tests.quiz_helpers import local, shift, start_time
    from tests.test_quiz_max import QUIZ, keyboard, max_world, reader_of

    start = start_time()
    now = {"now": start.timestamp()}
    with Sandbox(seed=17, clock=lambda: now["now"]) as box:
        box.max.set_rate_limit(enabled=False)
        group = box.info()["max"]["chat_id"]
        world = max_world(box, tmp_path, start, now)
        at = shift(start, 60)
        (tmp_path / "events" / "pushkin.toml").write_text(
            QUIZ.format(at=local(at), mode="live"), encoding="utf-8"
        )
        world.plan()
        reader = reader_of(world)
        await reader.poll_once()

        async def drain() -> None:
            while await reader.poll_once():
                pass

        players = []
        for n, name in enumerate(MAX_HOSTILE_NAMES):
            user = box.max.add_user(first_name=name, last_name=f"<i>{n}</i>")["user_id"]
            box.max.join(user, group)
            players.append(user)
        flooder = box.max.add_user(first_name="<b>Флудер</b>")["user_id"]
        box.max.join(flooder, group)
        await world.fire_due(shift(at, 120))
        q1 = world.question("max", 1)
        data = keyboard(box, group, q1["remote_id"])
        floods = size(60, 600)
        for n, user in enumerate(players):
            world.tick()
            pressed = box.max.press(user, q1["remote_id"], data[n % 3])
            for _ in range(floods // len(players)):  # a flood of presses and junk data
                box.max.press(flooder, q1["remote_id"], data[0])
                box.max.write(flooder, group, "спам " * 800)
            # Forged data (the stand-in's client refuses it, a forger's HTTP call would not).
            for k, forged in enumerate(
                (data[0][:-3] + "abc", "", "x" * 4000, data[1] + "\u200b", "<b>1</b>")
            ):
                update = copy.deepcopy(pressed["update"])
                update["callback"]["callback_id"] = f"forged-{n}-{k}"
                update["callback"]["payload"] = forged
                assert reader.deliver(update)
            box.max.write(user, group, "\u202e" + "Пушкин" + "\u0301" * 50 + "🙂" * 500)
            await drain()
        await world.fire_due(shift(at, 120 + 62))
        fired = await world.fire_due(shift(at, 900))
        assert fired and fired[-1]["kind"] == "results" and fired[-1]["state"] == "sent"
        posted = [m for m in box.max.messages(group) if m.get("sender", {}).get("is_bot")]
        await world.close()
    event_id = world.db["events"].get("central/pushkin")["id"]
    rows = list(world.db["quiz_answers"].rows)
    # Every genuine answer once (the flooder's first press is an answer too), nothing more:
    # only question 1 was answered, typed text to a buttons question counts for nothing.
    assert len({(r["question_id"], r["person"]) for r in rows}) == len(rows)
    assert len(rows) == len(players) + 1
    assert len(store.standings(world.db, event_id, "max")) == len(players) + 1
    # No markup injected: the template's own marks only, never a link from a name.
    marks = {m.get("type") for message in posted for m in message["body"].get("markup") or []}
    assert "link" not in marks, marks
    final = posted[-1]["body"]["text"]
    assert "итоги" in final
    # ... and each winner's name is shown verbatim, as text: tags and marks included.
    names = {f"{name} <i>{n}</i>" for n, name in enumerate(MAX_HOSTILE_NAMES)} | {"<b>Флудер</b>"}
    winners = [line.split(". ", 1)[1].rsplit(" — ", 1)[0] for line in final.splitlines()
               if line[:1].isdigit()]  # fmt: skip
    assert winners and set(winners) <= names, winners
    figures("audience[max]", players=len(players), floods=floods, answers=len(rows))
