"""Period reports over a simulated quarter of three libraries in three time zones.

The posts go out through the real clients to the stand-ins (the runner driven by a
manual clock), the simulated audience views, likes, reposts, comments and reacts, and
``collect_recent`` reads the figures back. Quizzes and readers' acts are written through
the schema, as the (separately built) quiz engine and intake would. Then: totals, ER
values computed by hand, period boundaries in each zone, roll-up sums, and a recompute
of the summary from the raw rows by another route.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import load_plan
from bot.intake.telegram import TelegramIntake
from bot.platforms import build_platforms
from core.clock import ManualClock
from core.config import ReportRules
from core.config_file import load_config
from core.interactions import library_secret, pseudonym, record, record_poll_totals
from core.storage import open_db, to_db
from reports.figures import build_report
from reports.period import parse_period
from sandbox.server import Sandbox
from scheduler.runner import Runner
from scheduler.snapshots import collect_recent

LIBRARIES = (  # id, zone, audience multiplier
    ("west", "Europe/Kaliningrad", 1),
    ("central", "Europe/Moscow", 2),
    ("east", "Asia/Vladivostok", 3),
)
EVENTS = {  # file name: (kind, local time, networks, extra TOML)
    "sep-old": ("announcement", "2026-09-30T23:30:00", '["telegram", "vk"]', ""),
    "oct-club": (
        "announcement",
        "2026-10-10T18:00:00",
        '["telegram", "vk"]',
        'remind_before = ["1d"]',
    ),
    "nov-last": ("announcement", "2026-11-30T23:30:00", '["telegram", "vk"]', ""),
    "dec-first": ("announcement", "2026-12-01T00:30:00", '["vk"]', ""),
    "poll": ("poll", "2026-11-15T12:00:00", '["telegram", "vk"]', ""),
}
# VK audience per post at multiplier 1: views, likes, reposts, comments; Telegram 👍.
AUDIENCE = {
    "sep-old": (40, 1, 0, 0, 1),
    "oct-club": (80, 4, 1, 1, 2),
    "nov-last": (100, 5, 1, 2, 3),
    "dec-first": (60, 2, 0, 1, 0),
    "poll": (50, 3, 0, 1, 2),
}


def _config(folder: Path, info: dict, box: Sandbox) -> tuple[Path, dict, dict]:
    tg, vk = info["telegram"], info["vk"]
    env = {"Q_TG": tg["token"], "Q_VK_USER": vk["user_token"]}
    lines = [
        'storage = "quarter.db"',
        'events_dir = "events"',
        "[schedule]",
        'misfire_grace = "30m"',
        "snapshot_after = []",
        'community_snapshot_at = "off"',
    ]
    places = {}
    for n, (lib, zone, _) in enumerate(LIBRARIES):
        chat = box.telegram.create_chat(f"Канал {lib}", "channel")
        box.telegram.add_bot_to(chat["id"], admin=True)
        community = box.vk.add_community(f"Библиотека {lib}")
        env[f"Q_VK_{n}"] = community["community_token"]
        places[lib] = (chat["id"], community["group_id"])
        lines += [
            "[[library]]",
            f'id = "{lib}"',
            f'name = "Библиотека {lib}"',
            f'timezone = "{zone}"',
            "[library.telegram]",
            'token_env = "Q_TG"',
            f"chats = [{chat['id']}]",
            f'api_url = "{tg["api_url"]}"',
            "[library.vk]",
            f"group_id = {community['group_id']}",
            'user_token_env = "Q_VK_USER"',
            f'community_token_env = "Q_VK_{n}"',
            f'api_url = "{vk["api_url"]}"',
        ]
    (folder / "events").mkdir(parents=True, exist_ok=True)
    for lib, _, _ in LIBRARIES:
        for name, (kind, at, networks, extra) in EVENTS.items():
            body = [
                f'kind = "{kind}"',
                f'library = "{lib}"',
                f'title = "{name} {lib}"',
                f"at = {at}",
                f"networks = {networks}",
                'text = "Приходите!"',
                extra,
            ]
            if kind == "poll":
                body += ['question = "Что читаем?"', 'options = ["Пушкин", "Гоголь", "Чехов"]']
            (folder / "events" / f"{lib}-{name}.toml").write_text("\n".join(body) + "\n", "utf-8")
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, env, places


async def _simulate(folder: Path) -> Path:
    with Sandbox(seed=71) as box:
        box.vk.set_rate_limits(enabled=False)
        path, env, places = _config(folder, box.info(), box)
        config = load_config(path)
        db = open_db(config.storage)
        clock = ManualClock(datetime(2026, 9, 1, tzinfo=UTC))
        load_plan(db, config, clock)
        platforms = build_platforms(config, env)
        runner = Runner(db, config, platforms, clock=clock)
        bot = platforms[("central", "telegram")].bot
        intake = TelegramIntake(db, bot, list(config.libraries), clock, 0)
        await intake.poll_once()
        for lib, _, m in LIBRARIES:
            chat, group = places[lib]
            box.vk.set_members(group, 1000 * m)
            box.telegram.set_member_count(chat, 500 * m)
        clock.current = datetime(2026, 9, 2, tzinfo=UTC)
        await collect_recent(db, platforms, clock.current, clock.now)  # followers at the start
        due = db["actions"].rows_where(
            "kind in ('publish', 'reminder') and state = 'pending'", order_by="due_at"
        )
        for action in list(due):
            clock.current = datetime.fromisoformat(action["due_at"])
            await runner.fire(action["id"])
        for pub in db["publications"].rows:
            lib = pub["library_id"]
            m = dict((i, k) for i, _, k in LIBRARIES)[lib]
            name = pub["event_id"].split("/", 1)[1].removeprefix(f"{lib}-")
            action = db["actions"].get(pub["action_id"])
            if action["kind"] == "reminder":
                continue  # reminders get no audience: their figures stay 0
            views, likes, reposts, comments, thumbs = (v * m for v in AUDIENCE[name])
            if pub["network"] == "vk":
                post = f"-{pub['target']}_{pub['remote_id']}"
                box.vk.add_views(post, views)
                for add, count in (
                    (box.vk.add_likes, likes),
                    (box.vk.add_reposts, reposts),
                    (box.vk.add_comments, comments),
                ):
                    if count:
                        add(post, count)
            elif thumbs:
                box.telegram.react_anonymously(
                    int(pub["target"]), int(pub["remote_id"]), "👍", thumbs
                )
        await intake.poll_once()
        for lib, _, m in LIBRARIES:
            chat, group = places[lib]
            box.vk.set_members(group, 1000 * m + 30)
            box.telegram.set_member_count(chat, 500 * m + 10)
        _readers(db)
        clock.current = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
        await collect_recent(db, platforms, datetime(2026, 9, 1, tzinfo=UTC), clock.now)
        for platform in set(platforms.values()):
            await platform.close()
    return config.storage


def _pub(db, lib: str, name: str, network: str) -> dict:
    return next(
        db["publications"].rows_where(
            "event_id = ? and network = ? and action_id in "
            "(select id from actions where kind = 'publish')",
            [f"{lib}/{lib}-{name}", network],
        )
    )


def _readers(db) -> None:
    """Readers' acts, a live quiz for central, a channel quiz for east (through the schema)."""
    at = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    for lib, _, _ in LIBRARIES:
        vk_poll, tg_poll = _pub(db, lib, "poll", "vk"), _pub(db, lib, "poll", "telegram")
        for n, user in enumerate((1, 2, 1)):
            record(db, library_id=lib, network="vk", target=vk_poll["target"],
                   remote_id=vk_poll["remote_id"], kind="comment", user_id=user, at=at,
                   dedup=f"{lib}:c{n}")  # fmt: skip
        record(db, library_id=lib, network="telegram", target=tg_poll["target"],
               remote_id=tg_poll["remote_id"], kind="vote", user_id=101, at=at,
               dedup=f"{lib}:v")  # fmt: skip
        record(db, library_id=lib, network="vk", target=vk_poll["target"], remote_id="",
               kind="join", user_id=5, at=at, dedup=f"{lib}:j")  # fmt: skip
        record(db, library_id=lib, network="vk", target=vk_poll["target"], remote_id="",
               kind="message", user_id=3, at=datetime(2026, 11, 5, tzinfo=UTC),
               dedup=f"{lib}:m")  # fmt: skip
    _quiz(db, "central")
    _channel_quiz(db, "east")


QUIZ_ANSWERS = {  # player (Telegram user id): answers to questions 1..3 (True: right)
    101: (True, True, True),
    102: (True, False),
    103: (True,),
}


def _quiz(db, lib: str) -> None:
    event_id = f"{lib}/quiz"
    opened = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    chat = _pub(db, lib, "poll", "telegram")["target"]
    secret = library_secret(db, lib)
    with db.atomic():
        db["events"].insert(
            {
                "id": event_id,
                "library_id": lib,
                "kind": "quiz",
                "title": "Викторина о Пушкине",
                "starts_at": to_db(opened),
                "status": "active",
                "data": "{}",
            }  # fmt: skip
        )
        for number in (1, 2, 3):
            spec = {"text": f"Вопрос {number}", "options": ["а", "б"], "correct": [0]}
            question = (
                db["quiz_questions"]
                .insert(
                    {
                        "event_id": event_id,
                        "library_id": lib,
                        "network": "telegram",
                        "target": chat,
                        "number": number,
                        "mode": "live",
                        "spec": json.dumps(spec, ensure_ascii=False),
                        "opened_at": to_db(opened),
                        "closed_at": to_db(opened),
                    }  # fmt: skip
                )
                .last_pk
            )
            for user, answers in QUIZ_ANSWERS.items():
                if len(answers) >= number:
                    db["quiz_answers"].insert(
                        {
                            "question_id": question,
                            "event_id": event_id,
                            "library_id": lib,
                            "network": "telegram",
                            "number": number,
                            "person": pseudonym(secret, "telegram", user),
                            "name": f"Игрок {user}",
                            "answer": "0",
                            "correct": int(answers[number - 1]),
                            "points": 1.0,
                            "elapsed_ms": 1000,
                            "answered_at": to_db(opened),
                            "via": "button",
                        }  # fmt: skip
                    )
        for place, user in enumerate((101, 102, 103), start=1):
            db["quiz_results"].insert(
                {
                    "event_id": event_id,
                    "library_id": lib,
                    "network": "telegram",
                    "place": place,
                    "person": pseudonym(secret, "telegram", user),
                    "name": f"Игрок {user}",
                    "points": 4.0 - place,
                    "correct": 4 - place,
                    "time_ms": 1000 * place,
                    "winner": int(place <= 2),
                    "decided_at": to_db(opened),
                }  # fmt: skip
            )


def _channel_quiz(db, lib: str) -> None:
    event_id = f"{lib}/channel-quiz"
    opened = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    with db.atomic():
        db["events"].insert(
            {
                "id": event_id,
                "library_id": lib,
                "kind": "quiz",
                "title": "Викторина в канале",
                "starts_at": to_db(opened),
                "status": "active",
                "data": "{}",
            }  # fmt: skip
        )
        spec = {"text": "Кто написал «Нос»?", "options": ["Гоголь", "Чехов"], "correct": [0]}
        db["quiz_questions"].insert(
            {
                "event_id": event_id,
                "library_id": lib,
                "network": "telegram",
                "target": "-1",
                "number": 1,
                "mode": "channel",
                "poll_id": "cq1",
                "spec": json.dumps(spec),
                "opened_at": to_db(opened),
            }  # fmt: skip
        )
    record_poll_totals(db, "cq1", {"0": 5, "1": 5}, opened)
    record_poll_totals(db, "cq1", {"0": 7, "1": 3}, opened.replace(hour=9))  # the latest counts


_BUILT: dict[str, Path] = {}


@pytest.fixture(scope="session")
def quarter(tmp_path_factory) -> Path:
    """The database of the simulated quarter (built once per test run, read only)."""
    if "db" not in _BUILT:  # other test modules import this fixture: build it once
        _BUILT["db"] = asyncio.run(_simulate(tmp_path_factory.mktemp("quarter")))
    return _BUILT["db"]


def _report(path: Path, period: str, rules: ReportRules | None = None, **kw):
    return build_report(
        open_db(path), parse_period(period), rules or ReportRules(), now=datetime.now(UTC), **kw
    )


def test_november_totals_and_er_match_hand_computed_values(quarter: Path) -> None:
    report = _report(quarter, "2026-11", library_ids=["central"])
    s = report.libraries[0].summary
    # central (×2): nov-last and the poll on both networks, the quiz on Telegram.
    assert s.events_by_kind == {"announcement": 1, "poll": 1, "quiz": 1}
    assert s.events[("announcement", "vk")] == 1 and s.events[("quiz", "telegram")] == 1
    vk, tg = s.tally("vk"), s.tally("telegram")
    assert vk.posts == 2 and tg.posts == 2
    assert vk.value("views") == 300  # (100 + 50) × 2
    assert vk.value("engagement") == 24  # (5+1+2 + 3+0+1) × 2
    assert tg.value("views") is None  # bots cannot see Telegram views: n/a, not 0
    assert tg.value("reactions") == 10 and tg.value("engagement") == 10  # (3 + 2) × 2, 0 replies
    # Followers at the end of November: the first reading (the second is in December).
    assert s.total_followers("vk") == 2000 and s.total_followers("telegram") == 1000
    assert s.total_growth() == 0
    rates = s.rates("vk")
    assert rates.er_post == pytest.approx(24 / 2 / 2000 * 100)  # 0.6 %
    assert rates.er_view == pytest.approx(24 / 300 * 100)  # 8 %
    assert rates.er_day == pytest.approx(24 / 30 / 2000 * 100)  # 0.04 %
    tg_rates = s.rates("telegram")
    assert tg_rates.er_post == pytest.approx(10 / 2 / 1000 * 100)
    assert tg_rates.er_view is None and tg_rates.er_channel is None and tg_rates.err is None
    total = s.rates()
    # The mean of the four posts' ERpost: two VK posts (24 in all, of 2000 followers),
    # two Telegram ones (10, of 1000); it lies between the networks' 0.6 % and 1 %.
    assert total.er_post == pytest.approx((24 / 2000 + 10 / 1000) / 4 * 100)  # 0.55 %
    assert total.er_day == pytest.approx(34 / 30 / 3000 * 100)
    assert total.er_view == pytest.approx(8.0)  # only posts whose views are shown
    # Acts: 3 comments + 1 vote on the poll, 6 quiz answers, 1 chat message (join excluded),
    # and the 10 anonymous 👍 under the Telegram posts (counted, without people).
    assert sum(s.participations.values()) == 21 and s.outside_events == 1
    assert s.anonymous == {"telegram": 10, "vk": 0}
    assert s.answers == 6
    # People: VK readers 1, 2 and 3 (the message); Telegram 101 (vote and quiz), 102, 103.
    assert s.people == {"vk": 3, "telegram": 3}
    assert s.six_nk.events == 3 and s.six_nk.participations == 20 and s.six_nk.visits == 20


def test_quiz_and_poll_details(quarter: Path) -> None:
    report = _report(quarter, "2026-Q4")
    central = next(lib for lib in report.libraries if lib.library_id == "central")
    assert [(w.place, w.name) for w in central.winners] == [(1, None), (2, None)]
    assert all(len(w.person) == 8 for w in central.winners)
    shares = [(q.number, q.players, q.answers, q.correct_share) for q in central.questions]
    assert shares == [(1, 3, 3, 100.0), (2, 2, 2, 50.0), (3, 1, 1, 100.0)]
    east = next(lib for lib in report.libraries if lib.library_id == "east")
    [channel] = east.questions
    assert (channel.players, channel.answers, channel.correct_share, channel.source) == (
        None,
        10,
        70.0,
        "poll",
    )
    options = [(p.network, p.text, p.votes) for p in central.polls if p.network == "vk"]
    assert options == [("vk", "Пушкин", 0), ("vk", "Гоголь", 0), ("vk", "Чехов", 0)]
    named = _report(quarter, "2026-Q4", library_ids=["central"], with_names=True)
    assert [w.name for w in named.libraries[0].winners] == ["Игрок 101", "Игрок 102"]


@pytest.mark.parametrize("library", ["west", "east", "central"])
def test_23_30_on_the_last_day_of_a_month_belongs_to_that_month(
    quarter: Path, library: str
) -> None:
    def titles(period: str) -> set[str]:
        report = _report(quarter, period, library_ids=[library])
        return {row.title.split()[0] for row in report.rows}

    assert "nov-last" in titles("2026-11") and "nov-last" not in titles("2026-12")
    assert "dec-first" in titles("2026-12") and "dec-first" not in titles("2026-11")
    assert "sep-old" not in titles("2026-Q4") and "sep-old" in titles("2026-09")
    row = next(r for r in _report(quarter, "2026-11", library_ids=[library]).rows)
    assert row.at.tzinfo is not None and row.at.utcoffset() is not None
    nov_last = [
        r for r in _report(quarter, "2026-11", library_ids=[library]).rows if "nov-last" in r.title
    ]
    assert {(r.at.day, r.at.hour, r.at.minute) for r in nov_last} == {(30, 23, 30)}


def test_network_roll_up_is_the_sum_of_the_libraries(quarter: Path) -> None:
    report = _report(quarter, "2026-Q4")
    assert report.network is not None and len(report.libraries) == 3
    parts = [lib.summary for lib in report.libraries]
    total = report.network
    assert total.events_total == sum(p.events_total for p in parts)
    assert total.tally().posts == sum(p.tally().posts for p in parts)
    assert total.tally().value("views") == sum(p.tally().value("views") for p in parts)
    assert total.tally().value("engagement") == sum(p.tally().value("engagement") for p in parts)
    assert sum(total.participations.values()) == sum(sum(p.participations.values()) for p in parts)
    assert sum(total.people.values()) == sum(sum(p.people.values()) for p in parts)
    assert total.total_followers() == sum(p.total_followers() for p in parts)
    assert total.total_growth() == sum(p.total_growth() for p in parts) == 3 * 40
    assert total.six_nk.visits == sum(p.six_nk.visits for p in parts)


def test_counting_rules_change_the_6nk_figures_and_nothing_else(quarter: Path) -> None:
    rules = ReportRules(
        views_are_visits=True,
        participation="per_person_per_event",
        count_reminders_as_events=True,
        event_kinds=("poll", "quiz", "announcement"),
    )
    plain = _report(quarter, "2026-Q4", library_ids=["central"]).libraries[0].summary
    ruled = _report(quarter, "2026-Q4", rules, library_ids=["central"]).libraries[0].summary
    # Q4 central: oct-club, nov-last, dec-first, poll, quiz; oct-club's reminder on 2 networks.
    assert plain.six_nk.events == 5 and ruled.six_nk.events == 7
    # One reader per event and network: VK poll {1, 2}, Telegram poll {101}, quiz {101..103};
    # plus the anonymous 👍 under the Telegram posts, which name no reader: oct-club 2 × 2,
    # nov-last 3 × 2, poll 2 × 2.
    assert ruled.six_nk.participations == 6 + 4 + 6 + 4
    views = ruled.tally().value("views")
    assert ruled.six_nk.views_added == views and ruled.six_nk.visits == 20 + views
    assert ruled.tally().posts == plain.tally().posts  # the rest of the report is unchanged
    polls_only = ReportRules(event_kinds=("poll",))
    only = _report(quarter, "2026-Q4", polls_only, library_ids=["central"]).libraries[0].summary
    assert only.six_nk.events == 1 and only.six_nk.participations == 4 + 4  # the poll's 👍


def test_summary_recomputed_from_raw_rows_by_another_route(quarter: Path) -> None:
    """Plain Python over the tables, following the definitions, not the report's SQL."""
    db = open_db(quarter)
    period = parse_period("2026-Q4")
    report = _report(quarter, "2026-Q4")
    actions = {a["id"]: a for a in db["actions"].rows}
    events = {e["id"]: e for e in db["events"].rows}
    samples: dict[tuple, tuple] = {}
    for s in db["metric_samples"].rows:
        key = (s["publication_id"], s["metric"])
        if key not in samples or (s["collected_at"], s["id"]) > samples[key][0]:
            samples[key] = ((s["collected_at"], s["id"]), s["value"])
    for lib in report.libraries:
        start, end = (
            to_db(t) for t in period.bounds(__import__("zoneinfo").ZoneInfo(lib.timezone))
        )
        occurrence = {}  # event id → its publish time, if held in the period
        for a in actions.values():
            if (
                a["library_id"] == lib.library_id
                and a["kind"] == "publish"
                and a["state"] == "sent"
            ):
                occurrence[a["event_id"]] = min(
                    occurrence.get(a["event_id"], a["due_at"]), a["due_at"]
                )
        held = {e for e, at in occurrence.items() if start <= at < end}
        for q in db["quiz_questions"].rows_where("library_id = ?", [lib.library_id]):
            if q["event_id"] not in occurrence and start <= q["opened_at"] < end:
                held.add(q["event_id"])
        pubs = [p for p in db["publications"].rows if p["event_id"] in held]
        views = sum(
            samples[(p["id"], "views")][1] or 0 for p in pubs if (p["id"], "views") in samples
        )
        engagement = 0.0
        for p in pubs:
            for metric in ("likes", "reactions", "reposts", "comments"):
                engagement += (samples.get((p["id"], metric)) or (None, None))[1] or 0
        pub_ids = {p["id"] for p in pubs}
        acts = [
            (i["network"], i["person"])
            for i in db["interactions"].rows
            if i["kind"] not in ("join", "leave")
            and (
                i["publication_id"] in pub_ids
                or (
                    i["publication_id"] is None
                    and i["library_id"] == lib.library_id
                    and start <= i["at"] < end
                )  # fmt: skip
            )
        ]
        acts += [
            (a["network"], a["person"]) for a in db["quiz_answers"].rows if a["event_id"] in held
        ]
        # Acts of no named author: Telegram's anonymous reaction totals, and poll votes
        # beyond the named ones (none here: the VK poll had no votes).
        named_votes = {}
        for i in db["interactions"].rows_where("kind = 'vote'"):
            named_votes[i["publication_id"]] = named_votes.get(i["publication_id"], 0) + 1
        anonymous = 0
        for p in pubs:
            if p["network"] == "telegram":
                anonymous += (samples.get((p["id"], "reactions")) or (None, None))[1] or 0
            votes = (samples.get((p["id"], "poll_votes")) or (None, None))[1] or 0
            anonymous += max(0, votes - named_votes.get(p["id"], 0))
        s = lib.summary
        assert s.events_total == len(held)
        assert {kind for kind in s.events_by_kind} == {events[e]["kind"] for e in held}
        assert s.tally().posts == len(pubs)
        assert (s.tally().value("views") or 0) == views
        assert s.tally().value("engagement") == engagement
        assert sum(s.participations.values()) == len(acts) + anonymous
        assert sum(s.people.values()) == len(set(acts))
        members = {}
        for m in db["metric_samples"].rows_where(
            "publication_id is null and metric = 'members' and library_id = ?", [lib.library_id]
        ):
            if m["collected_at"] < end and m["available"]:
                members[m["target"]] = m["value"]  # rows come in insertion (time) order
        assert s.total_followers() == sum(members.values())
