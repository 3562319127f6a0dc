"""The figures of a month of two libraries, built on the stand-ins, against hand-computed values.

North has both networks with a Telegram quiz group and a VK community chat, and holds an
announcement, a poll that closes (results posts), a live quiz in the group and the chat,
and a comments quiz on the VK wall. South holds one announcement. The posts go out
through the runner and the quiz engine (a manual clock that the stand-ins follow), readers
act on the stand-ins and the bots' update readers record it, and ``collect_recent`` reads
the figures at the start and the end of the month, as ``bibliobot collect`` would.

Every expected number below is written out by hand from the audience the test made.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import load_plan
from bot.intake.telegram import TelegramIntake
from bot.intake.vk import VkIntake
from bot.platforms import build_platforms
from bot.quiz.engine import QuizEngine
from core.clock import ManualClock
from core.config import ReportRules
from core.config_file import load_config
from core.interactions import record
from core.storage import open_db
from reports.figures import build_report
from reports.html import to_html
from reports.period import parse_period
from reports.tables import event_cells, summary_table
from reports.text import to_markdown
from reports.words import Words
from sandbox.server import Sandbox
from scheduler.runner import Runner
from scheduler.snapshots import collect_recent

NORTH_EVENTS = {
    "club": """kind = "announcement"
title = "Книжный клуб"
at = 2026-11-05T18:00:00
networks = ["telegram", "vk"]
text = "Приходите!"
""",
    "poll": """kind = "poll"
title = "Книга месяца"
at = 2026-11-10T12:00:00
close_at = 2026-11-12T20:00:00
networks = ["telegram", "vk"]
question = "Что читаем?"
options = ["Пушкин", "Гоголь", "Чехов"]
text = "Голосуйте!"
""",
    "live": """kind = "quiz"
title = "Живая викторина"
text = "Начинаем!"
at = 2026-11-15T18:00:00
mode = "live"
networks = ["telegram", "vk"]
interval = "2m"
answer_time = "60s"
winners = 3

[[questions]]
text = "Кто написал «Нос»?"
options = ["Гоголь", "Чехов"]
correct = 1
""",
    "riddle": """kind = "quiz"
title = "Угадай роман"
text = "Ответы — в комментариях."
at = 2026-11-20T12:00:00
mode = "comments"
networks = ["vk"]
answer_time = "1h"
winners = 3

[[questions]]
text = "«Все счастливые семьи похожи друг на друга…» Откуда строка?"
answers = ["Анна Каренина"]
""",
}
SOUTH_EVENTS = {
    "club": """kind = "announcement"
title = "Вечер поэзии"
at = 2026-11-07T17:00:00
networks = ["telegram", "vk"]
text = "Ждём вас!"
""",
}
# VK readers of north (first, last name): r1…r9; of south: s1…s3.
NORTH_READERS = [
    ("Анна", "Смирнова"),
    ("Борис", "Орлов"),
    ("Вера", "Ким"),
    ("Глеб", "Лисицын"),
    ("Дина", "Рой"),
    ("Ольга", "Петрова"),
    ("Пётр", "Ильин"),
    ("Роман", "Белов"),
    ("Софья", "Ершова"),
]


class Month:
    """The stand-ins, the bot's parts and the readers, moved by one manual clock."""

    def __init__(self, box: Sandbox, folder: Path, now: dict) -> None:
        self.box, self.now = box, now
        info = box.info()
        tg, vk = info["telegram"], info["vk"]
        self.channel, self.group = tg["channel_id"], tg["group_id"]
        self.south_channel = box.telegram.create_chat("Канал юг", "channel")["id"]
        box.telegram.add_bot_to(self.south_channel, admin=True)
        self.vk_north = vk["group_id"]
        south = box.vk.add_community("Библиотека юг")
        self.vk_south = south["group_id"]
        self.readers = [box.vk.add_reader(first, last) for first, last in NORTH_READERS]
        self.south_readers = [box.vk.add_reader(f"Житель{n}", "Южный") for n in range(3)]
        self.peer = box.vk.add_chat(self.vk_north, members=self.readers)
        self.env = {
            "M_TG": tg["token"],
            "M_VK_USER": vk["user_token"],
            "M_VK_NORTH": vk["community_token"],
            "M_VK_SOUTH": south["community_token"],
        }
        lines = [
            'storage = "month.db"',
            'events_dir = "events"',
            "[schedule]",
            'misfire_grace = "30m"',
            "snapshot_after = []",
            'community_snapshot_at = "off"',
        ]
        for lib, zone, chat, quiz_chat, group, token, extra in (
            ("north", "Europe/Moscow", self.channel, self.group, self.vk_north, "M_VK_NORTH",
             f"quiz_chat = {self.peer}"),
            ("south", "Asia/Yekaterinburg", self.south_channel, None, self.vk_south,
             "M_VK_SOUTH", ""),
        ):  # fmt: skip
            lines += [
                "[[library]]",
                f'id = "{lib}"',
                f'name = "Библиотека {lib}"',
                f'timezone = "{zone}"',
                "[library.telegram]",
                'token_env = "M_TG"',
                f"chats = [{chat}]",
                f'api_url = "{tg["api_url"]}"',
                *([f"quiz_chat = {quiz_chat}"] if quiz_chat else []),
                "[library.vk]",
                f"group_id = {group}",
                'user_token_env = "M_VK_USER"',
                f'community_token_env = "{token}"',
                f'api_url = "{vk["api_url"]}"',
                extra,
            ]
        (folder / "events").mkdir(parents=True, exist_ok=True)
        for lib, events in (("north", NORTH_EVENTS), ("south", SOUTH_EVENTS)):
            for name, body in events.items():
                path = folder / "events" / f"{lib}-{name}.toml"
                path.write_text(f'library = "{lib}"\n{body}', encoding="utf-8")
        path = folder / "config.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.config = load_config(path)
        self.db = open_db(self.config.storage)
        self.clock = ManualClock(datetime(2026, 10, 31, 10, 0, tzinfo=UTC))
        self.set_time(self.clock.current)
        self.platforms = build_platforms(self.config, self.env)
        self.runner = Runner(self.db, self.config, self.platforms, clock=self.clock)
        self.engine = QuizEngine(self.db, self.config, self.platforms, self.clock)
        self.runner.handlers.update(self.engine.handlers())
        bot = self.platforms[("north", "telegram")].bot
        libraries = list(self.config.libraries)
        self.tg_intake = TelegramIntake(self.db, bot, libraries, self.clock, 0, self.engine.book)
        self.vk_intakes = [
            VkIntake(self.db, lib, group, self.env[token], vk["api_url"], self.clock, 0,
                     self.engine.book)
            for lib, group, token in (("north", self.vk_north, "M_VK_NORTH"),
                                      ("south", self.vk_south, "M_VK_SOUTH"))
        ]  # fmt: skip

    def set_time(self, moment: datetime) -> None:
        """Move our clock and the stand-ins' together."""
        self.clock.current = moment
        self.now["now"] = moment.timestamp()

    async def drain(self) -> None:
        """Let the bots read every update the readers caused."""
        while await self.tg_intake.poll_once():
            pass
        for intake in self.vk_intakes:
            await intake.poll_once()

    def members(self, vk_north: int, channel: int, group: int, vk_south: int, south: int) -> None:
        """Set every channel's and community's size."""
        self.box.vk.set_members(self.vk_north, vk_north)
        self.box.telegram.set_member_count(self.channel, channel)
        self.box.telegram.set_member_count(self.group, group)
        self.box.vk.set_members(self.vk_south, vk_south)
        self.box.telegram.set_member_count(self.south_channel, south)

    def publication(self, event: str, network: str, kind: str = "publish") -> dict:
        """The publication of an event's action of this kind on a network."""
        return next(
            self.db["publications"].rows_where(
                "event_id = ? and network = ? and action_id in "
                "(select id from actions where kind = ?)",
                [event, network, kind],
            )
        )

    def vk_post(self, pub: dict) -> str:
        return f"-{pub['target']}_{pub['remote_id']}"

    async def audience(self, action: dict) -> None:
        """What readers do once an action's post is out."""
        key = (action["event_id"], action["network"], action["kind"])
        vk, tg, r = self.box.vk, self.box.telegram, self.readers
        if key == ("north/north-club", "vk", "publish"):
            post = self.vk_post(self.publication(*key))
            vk.add_views(post, 200)
            for reader in r[0:4]:
                vk.like(reader, post)  # 4 likes, by r1…r4
            vk.comment(r[0], post, "Приду!")
            vk.comment(r[4], post, "И я!")
            vk.add_reposts(post, 2)
        elif key == ("north/north-club", "telegram", "publish"):
            message = int(self.publication(*key)["remote_id"])
            tg.react_anonymously(self.channel, message, "👍", 12)
            reader = tg.add_user("Читатель", "Один")["id"]
            tg.comment_on_post(reader, message, "Спасибо!")
        elif key == ("north/north-poll", "vk", "publish"):
            pub = self.publication(*key)
            vk.add_views(self.vk_post(pub), 100)
            poll = next(
                p for p in self.box.state()["vk"]["polls"] if str(p["id"]) == pub["poll_id"]
            )
            answers = [a["id"] for a in poll["answers"]]
            for reader, choice in zip(r[0:5], (0, 0, 1, 2, 0), strict=True):
                vk.vote(reader, int(pub["poll_id"]), [answers[choice]])  # anonymous: no events
            vk.comment(r[5], self.vk_post(pub), "Голосую за Пушкина")
        elif key == ("north/north-poll", "telegram", "publish"):
            message = int(self.publication(*key)["remote_id"])
            for n in range(9):
                user = tg.add_user(f"Голос{n}")["id"]
                tg.vote_as_user(user, self.channel, message, [n % 3])
        elif key == ("north/north-live", "vk", "question"):
            cmid = int(self.publication(*key)["remote_id"])
            message = next(
                m for m in vk.chat_messages(self.peer) if m.get("conversation_message_id") == cmid
            )
            payloads = [
                b["action"]["payload"] for row in message["keyboard"]["buttons"] for b in row
            ]
            # Ольга (r6) presses the right answer, then Пётр (r7) the wrong one.
            for reader, payload in ((r[5], payloads[0]), (r[6], payloads[1])):
                vk.press_button(reader, payload, peer_id=self.peer, conversation_message_id=cmid)
                await self.drain()
                self.set_time(self.clock.current + timedelta(seconds=5))
        elif key == ("north/north-live", "telegram", "question"):
            message = int(self.publication(*key)["remote_id"])
            # Two players in the quiz group: the first right, the second wrong.
            for n, choice in enumerate((0, 1)):
                user = tg.add_user(f"Игрок{n}", "Телеграмов")["id"]
                tg.vote_as_user(user, self.group, message, [choice])
        elif key == ("north/north-riddle", "vk", "question"):
            post = self.vk_post(self.publication(*key))
            vk.add_views(post, 150)
            vk.comment(r[0], post, "Анна Каренина")
            vk.comment(r[7], post, "анна каренина")
            vk.comment(r[8], post, "Война и мир")
            vk.like(r[1], post)
            vk.like(r[2], post)
        elif key == ("south/south-club", "vk", "publish"):
            post = self.vk_post(self.publication(*key))
            vk.add_views(post, 80)
            for reader in self.south_readers:
                vk.like(reader, post)
        elif key == ("south/south-club", "telegram", "publish"):
            message = int(self.publication(*key)["remote_id"])
            tg.react_anonymously(self.south_channel, message, "❤", 3)
        await self.drain()

    async def run(self) -> None:
        """The month: sizes at its start, every post and the readers, sizes at its end."""
        result = load_plan(self.db, self.config, self.clock)
        assert not result.problems, result.problems
        await self.tg_intake.poll_once()
        await self.drain()
        self.members(990, 800, 190, 380, 290)
        self.set_time(datetime(2026, 10, 31, 12, 0, tzinfo=UTC))  # before the month, anywhere
        await collect_recent(self.db, self.platforms, self.clock.current, self.clock.now)
        while True:
            due = list(
                self.db["actions"].rows_where(
                    "state = 'pending' and kind not in ('snapshot', 'community')",
                    order_by="due_at, id",
                    limit=1,
                )
            )
            if not due:
                break
            action = due[0]
            moment = datetime.fromisoformat(action["due_at"])
            self.set_time(max(self.clock.current, moment))
            await self.runner.fire(action["id"])
            fired = self.db["actions"].get(action["id"])
            assert fired["state"] == "sent", fired
            await self.audience(fired)
        self.members(1000, 815, 197, 400, 300)
        self.set_time(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
        since = datetime(2026, 10, 31, tzinfo=UTC)
        await collect_recent(self.db, self.platforms, since, self.clock.now)
        for platform in set(self.platforms.values()):
            await platform.close()


_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    """The database of the simulated month (built once, read only)."""
    if "db" not in _BUILT:
        folder = tmp_path_factory.mktemp("month")
        now = {"now": datetime(2026, 10, 31, 10, 0, tzinfo=UTC).timestamp()}

        async def simulate() -> Path:
            with Sandbox(seed=13, clock=lambda: now["now"]) as box:
                box.vk.set_rate_limits(enabled=False)
                box.telegram.set_rate_limits(enabled=False)
                world = Month(box, folder, now)
                await world.run()
                return Path(world.config.storage)

        _BUILT["db"] = asyncio.run(simulate())
    return _BUILT["db"]


def _report(path: Path, rules: ReportRules | None = None, **kw):
    return build_report(
        open_db(path), parse_period("2026-11"), rules or ReportRules(), now=datetime.now(UTC), **kw
    )


NORTH_VK_ROWS = {  # title: (posts, views, engagement, participations, people, anonymous)
    # The announcement: 200 views; 4 likes (r1…r4) + 2 reposts + 2 comments (r1, r5) = 8;
    # acts seen by the bot: 4 likes + 2 comments = 6, by r1…r5.
    "Книжный клуб": (1, 200, 8, 6, 5, 0),
    # The poll post and its results post: 100 + 0 views; 1 comment (r6); acts: the comment
    # and the 5 votes of the anonymous poll (VK names no voter) = 6, one person.
    "Книга месяца": (2, 100, 1, 6, 1, 5),
    # Intro, question and results in the community chat: messages, no figures; 2 players.
    "Живая викторина": (3, None, None, 2, 2, 0),
    # The comments quiz's question post (150 views, 2 likes, 3 comments) and results post:
    # 2 + 3 = 5; acts: 3 answers (r1, r8, r9) + 2 likes (r2, r3) = 5, five people.
    "Угадай роман": (2, 150, 5, 5, 5, 0),
}
NORTH_TG_ROWS = {  # title: (posts, reactions, engagement, participations, people, anonymous)
    # 12 anonymous 👍 and one reply in the discussion group: engagement 13; acts 1 + 12.
    "Книжный клуб": (1, 12, 13, 13, 1, 12),
    # The channel poll and its results post: 9 votes, all anonymous (a channel poll).
    "Книга месяца": (2, 0, 0, 9, 0, 9),
    # Intro, quiz poll and results in the quiz group: 2 players voted, and the poll's 2
    # votes are theirs (not counted twice).
    "Живая викторина": (3, 0, 0, 2, 2, 0),
}


def _rows(report, library: str, network: str) -> dict:
    lib = next(one for one in report.libraries if one.library_id == library)
    return {row.title: row for row in lib.rows if row.network == network}


def test_every_post_a_quiz_or_poll_makes_is_a_publication_with_its_figures(month: Path) -> None:
    report = _report(month)
    riddle = _rows(report, "north", "vk")["Угадай роман"]
    # The comments quiz: its question post (with its 150 views) and its results post.
    assert (riddle.posts, riddle.figures["views"]) == (2, 150)
    assert riddle.url.startswith("https://vk.com/wall-")
    assert riddle.figures["likes"] == 2 and riddle.figures["comments"] == 3
    assert riddle.answers == 3
    for network, expected, shown in (
        ("vk", NORTH_VK_ROWS, "views"),
        ("telegram", NORTH_TG_ROWS, "reactions"),
    ):
        rows = _rows(report, "north", network)
        assert set(rows) == set(expected)
        for title, (posts, figure, engagement, *_) in expected.items():
            row = rows[title]
            got = (row.posts, row.figures.get(shown), row.engagement)
            assert got == (posts, figure, engagement), (network, title)
    # Posts on the VK wall: 1 + 2 + 2 = 5; in the chat: 3. Telegram channel 1 + 2, group 3.
    north = report.libraries[0].summary
    assert (north.tally("vk").posts, north.tally("telegram").posts) == (8, 6)
    for network, expected in (("vk", NORTH_VK_ROWS), ("telegram", NORTH_TG_ROWS)):
        rows = _rows(report, "north", network)
        for title, (*_, acts, people, anonymous) in expected.items():
            row = rows[title]
            assert (row.participations, row.people, row.anonymous) == (acts, people, anonymous)


def test_a_vk_community_chat_leaves_the_vk_metrics_whole(month: Path) -> None:
    db = open_db(month)
    # Every members count was read (none "not available"): the chat was never asked for.
    members = list(db["metric_samples"].rows_where("metric = 'members'"))
    assert members and all(m["available"] for m in members)
    assert not any(m["target"].startswith("2000000") for m in members)
    in_chat = "publication_id in (select id from publications where target like '2000000%')"
    assert db["publications"].count_where("target like '2000000%'") == 3  # intro, question, results
    assert db["metric_samples"].count_where(in_chat) == 0  # not read, not stored as deleted
    report = _report(month)
    north = report.libraries[0].summary
    # VK members of north: 990 before the month, 1000 at its end.
    assert north.total_followers("vk") == 1000 and north.total_growth("vk") == 10
    live = _rows(report, "north", "vk")["Живая викторина"]
    assert (live.url, live.deleted, live.chat) == ("", False, True)
    cells = event_cells(live, Words("ru"))  # the link is the 6th cell, the note the last
    assert (cells[5], cells[-1]) == ("", "сообщения в беседе")
    assert event_cells(live, Words("en"))[-1] == "messages in the community chat"


def test_telegram_subscribers_are_the_channels_and_the_group_is_apart(month: Path) -> None:
    report = _report(month)
    north = report.libraries[0].summary
    # The channel: 800 → 815; the quiz group (the channel's discussion group): 190 → 197.
    assert north.total_followers("telegram") == 815 and north.total_growth("telegram") == 15
    assert north.group_members == {"telegram": 197}
    assert north.total_followers() == 1815 and north.total_growth() == 25
    assert report.libraries[1].summary.group_members == {}
    assert report.network.total_group_members() == 197
    table = summary_table(north, Words("ru"), "Сводка")
    lines = {row[0]: row for row in table.rows}
    assert lines["Подписчики на конец периода"][1:4] == [1000, 815, 1815]
    assert lines["Участники групп и бесед викторин на конец периода"][1:4] == [None, 197, 197]


def test_a_total_rate_lies_between_its_parts(month: Path) -> None:
    report = _report(month)
    north, south = (lib.summary for lib in report.libraries)
    vk, tg, total = north.rates("vk"), north.rates("telegram"), north.rates()
    # ERpost: the mean over posts in channels and on walls (chat and group messages left
    # out) of engagement ÷ followers. VK: 5 wall posts, 8 + 1 + 0 + 5 + 0 = 14, of 1000;
    # Telegram: 3 channel posts, 13 + 0 + 0 = 13, of 815; north: all 8 posts.
    assert vk.er_post == pytest.approx(14 / 5 / 1000 * 100)  # 0.28 %
    assert tg.er_post == pytest.approx(13 / 3 / 815 * 100)  # 0.532 %
    assert total.er_post == pytest.approx((14 / 1000 + 13 / 815) / 8 * 100)  # 0.374 %
    # ERday: engagement ÷ 30 days ÷ followers, the total over both networks' sums.
    assert vk.er_day == pytest.approx(14 / 30 / 1000 * 100)
    assert tg.er_day == pytest.approx(13 / 30 / 815 * 100)
    assert total.er_day == pytest.approx(27 / 30 / 1815 * 100)
    # ERview: only VK shows views: 14 ÷ (200 + 100 + 0 + 150 + 0).
    assert vk.er_view == total.er_view == pytest.approx(14 / 450 * 100)
    assert tg.er_view is None and total.er_channel is None and total.err is None
    for name in ("er_post", "er_day"):
        parts = [getattr(vk, name), getattr(tg, name)]
        assert min(parts) <= getattr(total, name) <= max(parts), name
    # South: VK 3 likes of 400 followers, Telegram 3 ❤ of 300: one post each.
    assert south.rates().er_post == pytest.approx((3 / 400 + 3 / 300) / 2 * 100)  # 0.875 %
    # The network of both libraries: the mean over its 10 posts, between the libraries'.
    network = report.network.rates()
    assert network.er_post == pytest.approx((14 / 1000 + 13 / 815 + 3 / 400 + 3 / 300) / 10 * 100)
    assert north.rates().er_post <= network.er_post <= south.rates().er_post
    assert network.er_day == pytest.approx((27 + 6) / 30 / (1815 + 700) * 100)
    assert network.er_view == pytest.approx((14 + 3) / (450 + 80) * 100)
    # The formulas printed beside them say so.
    formulas = {row[0]: row[-1] for row in summary_table(north, Words("ru"), "С").rows}
    assert "среднее по публикациям" in formulas["ERpost, %"]
    assert "«Всего» — среднее по всем" in formulas["ERpost, %"]
    assert "по суммам сетей" in formulas["ERday, %"]
    english = {row[0]: row[-1] for row in summary_table(north, Words("en"), "S").rows}
    assert "Total: the mean over all such posts" in english["ERpost, %"]


def test_votes_and_telegram_reactions_count_as_the_formula_says(month: Path) -> None:
    report = _report(month)
    north = report.libraries[0].summary
    # VK: 6 + 6 + 2 + 5 = 19 acts, of which the poll's 5 votes anonymous; people r1…r9.
    # Telegram: 13 + 9 + 2 = 24, of which 12 👍 and 9 votes anonymous; people: the one who
    # replied and the 2 players.
    assert north.participations == {"vk": 19, "telegram": 24}
    assert north.anonymous == {"vk": 5, "telegram": 21}
    assert north.people == {"vk": 9, "telegram": 3}
    assert north.answers == 2 + 2 + 3
    # 6-НК, every act a participation: 19 + 24.
    assert north.six_nk.participations == 43
    # Once per reader and event, acts of no named author as acts: VK 5 + (1 + 5) + 2 + 5,
    # Telegram (1 + 12) + 9 + 2.
    once = ReportRules(participation="per_person_per_event")
    ruled = _report(month, once).libraries[0].summary
    assert ruled.six_nk.participations == 18 + 24
    # South: 3 likes on VK (3 readers), 3 anonymous ❤ on Telegram.
    south = report.libraries[1].summary
    assert south.participations == {"vk": 3, "telegram": 3}
    assert south.people == {"vk": 3, "telegram": 0}
    # The best events rank by participations + engagement: the Telegram announcement
    # (13 + 13) first, then the Telegram poll (9 + 0) ahead of the VK poll (6 + 1).
    from reports.series import top

    ranked = top(report.libraries[0].rows, Words("ru"), 4)
    assert [score for _, score in ranked] == [26, 14, 10, 9]
    formula = Words("ru").formula("participations")
    assert "голоса в опросах" in formula and "реакции в Telegram" in formula


def test_with_names_shows_plain_names(month: Path) -> None:
    report = _report(month, with_names=True)
    names = [(w.title, w.network, w.place, w.name) for w in report.libraries[0].winners]
    # VK names players as its users.get gives them, which the bot's standings show as a
    # link ([id…|Name]); the report shows the name. The live quiz: Ольга right, Пётр wrong;
    # the riddle: Анна and Роман right, Софья wrong.
    assert sorted(names) == [
        ("Живая викторина", "telegram", 1, "Игрок0 Телеграмов"),
        ("Живая викторина", "vk", 1, "Ольга Петрова"),
        ("Угадай роман", "vk", 1, "Анна Смирнова"),
        ("Угадай роман", "vk", 2, "Роман Белов"),
    ]
    md, html = to_markdown(report), to_html(report)
    for text in (md, html):
        assert "Ольга Петрова" in text and "Роман Белов" in text
        assert "[id" not in text


def test_a_vote_is_tied_to_its_poll_post_by_the_poll_id(tmp_path: Path) -> None:
    """A vote whose post the update reader forgot (a restart) still counts on its post."""
    db = open_db(tmp_path / "v.db")
    with db.atomic():
        db["libraries"].insert({"id": "lib", "name": "Л", "timezone": "Europe/Moscow"})
        db["events"].insert({"id": "lib/poll", "library_id": "lib", "kind": "poll"})
        db["actions"].insert({"id": 1, "key": "k", "kind": "publish", "due_at": "x",
                              "state": "sent", "event_id": "lib/poll"})  # fmt: skip
        db["publications"].insert({"id": 7, "action_id": 1, "event_id": "lib/poll",
                                   "library_id": "lib", "network": "vk", "target": "55",
                                   "remote_id": "12", "poll_id": "900"})  # fmt: skip
    at = datetime(2026, 11, 10, tzinfo=UTC)
    record(db, library_id="lib", network="vk", target="55", remote_id="poll-55_900",
           kind="vote", user_id=1, at=at, dedup="a", detail={"poll_id": 900})  # fmt: skip
    record(db, library_id="lib", network="vk", target="56", remote_id="poll-56_900",
           kind="vote", user_id=1, at=at, dedup="b", detail={"poll_id": 900})  # fmt: skip
    linked = [row["publication_id"] for row in db["interactions"].rows_where(order_by="id")]
    assert linked == [7, None]  # another community's poll 900 is another poll


def test_every_total_rate_lies_between_its_parts_whatever_the_figures() -> None:
    """Random posts on two networks of three libraries: each total between its parts."""
    import random

    from reports.model import Summary, Tally

    rng = random.Random(5)
    for _ in range(200):
        libraries = []
        for _ in range(3):
            summary = Summary(name="", days=30)
            for network in ("vk", "telegram"):
                tally = Tally()
                for _ in range(rng.randint(1, 6)):
                    views = rng.choice([None, rng.randint(1, 500)])
                    figures = {"likes": rng.randint(0, 40), "comments": rng.randint(0, 9)}
                    _add_post(tally, {**figures, "views": views}, chat=rng.random() < 0.2)
                followers = rng.choice([None, rng.randint(50, 3000)])
                tally.per_follower(followers)
                summary.tallies[network] = tally
                summary.followers[network] = followers
            libraries.append(summary)
        for whole, parts in [(s, [s]) for s in libraries] + [(_merged(libraries), libraries)]:
            for name in ("er_post", "er_view", "er_day", "err"):
                pieces = [
                    getattr(part.rates(network), name)
                    for part in parts
                    for network in ("vk", "telegram")
                ]
                pieces = [p for p in pieces if p is not None]
                total = getattr(whole.rates(), name)
                if name == "err":  # Telegram's alone
                    pieces = [getattr(p.rates("telegram"), name) for p in parts]
                    pieces = [p for p in pieces if p is not None]
                if not pieces:
                    assert total is None
                    continue
                assert min(pieces) - 1e-9 <= total <= max(pieces) + 1e-9, name


def _add_post(tally, figures: dict, chat: bool) -> None:
    """Count one post's figures into ``tally`` as ``reports.gather.tallies`` sums them."""
    from core.formulas import engagement
    from reports.model import COUNTERS

    tally.posts += 1
    for name in COUNTERS:
        if figures.get(name) is not None:
            tally.sums[name] = tally.sums.get(name, 0.0) + figures[name]
            tally.known[name] += 1
    engaged, views = engagement(figures), figures.get("views")
    if engaged is not None:
        tally.engagement += engaged
        tally.engaged += 1
        if views is not None:
            tally.viewed_engagement += engaged
            tally.viewed_views += views
            tally.viewed += 1
        if not chat:
            tally.rated += 1
            tally.rated_engagement += engaged
    if not chat and views is not None:
        tally.seen += 1
        tally.seen_views += views


def _merged(summaries):
    from reports.figures import roll_up

    return roll_up(summaries, 30, ReportRules())
