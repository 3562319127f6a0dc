"""The report benchmark's data: a network's year, written fast with executemany.

20 libraries in four time zones; for each event two networks × (publish + two
reminders), metric samples of every post, comments, and for every tenth event a quiz
of ten questions. The posts' latest figures are kept as storing samples keeps them.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Vladivostok")
YEAR = 2026


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def generate(path: Path, libraries: int, publications: int, answers: int, samples: int) -> dict:
    """A network's year in ``path``; returns the sizes written."""
    from bot.quiz import store
    from core.samples import refresh
    from core.storage import open_db

    db = open_db(path)
    conn = db.conn
    rnd = random.Random(7)
    start = datetime(YEAR, 1, 1, tzinfo=UTC)
    per_event = 6  # two networks × (publish + two reminders)
    events_per_library = publications // per_event // libraries
    quiz_events = max(1, events_per_library // 10) * libraries
    questions_per_quiz = 10
    players = max(1, answers // (quiz_events * questions_per_quiz))
    samples_per_post = max(1, samples // publications)
    libs, events, actions, pubs, metric_rows, acts = [], [], [], [], [], []
    questions: list[tuple] = []
    quiz_answers: list[tuple] = []
    quizzes: list[tuple[str, str, datetime]] = []
    action_id = pub_id = question_id = 0
    for n in range(libraries):
        lib = f"lib{n:02d}"
        group, chat = str(1000 + n), str(-1001000000000 - n)
        libs.append((lib, f"Библиотека № {n}", ZONES[n % len(ZONES)], 0))
        for day in range(365):  # daily members counts of both targets
            at = _stamp(start + timedelta(days=day, hours=20))
            for network, target in (("vk", group), ("telegram", chat)):
                metric_rows.append(
                    (None, lib, network, target, "members", 1000 + day * 3 + n, 1, at, "c")
                )
        for e in range(events_per_library):
            event_id = f"{lib}/event-{e}"
            kind = "quiz" if e % 10 == 0 else ("poll" if e % 5 == 1 else "announcement")
            due = start + timedelta(minutes=rnd.randrange(365 * 24 * 60))
            events.append((event_id, lib, kind, f"Мероприятие {e} «{kind}»", _stamp(due), "{}"))
            for network, target in (("vk", group), ("telegram", chat)):
                for action_kind, before in (("publish", 0), ("reminder", 1), ("reminder", 24)):
                    action_id += 1
                    pub_id += 1
                    at = _stamp(due - timedelta(hours=before))
                    key = f"{event_id}:{action_kind}:{network}:{target}:{before}"
                    actions.append(
                        (action_id, key, event_id, lib, action_kind, network, target, at, "sent")
                    )
                    url = f"https://vk.com/wall-{group}_{pub_id}" if network == "vk" else ""
                    pubs.append(
                        (pub_id, action_id, event_id, lib, network, target, str(pub_id), url, at)
                    )
                    for s in range(samples_per_post):
                        metric = ("views", "likes", "reposts", "comments", "reactions")[s % 5]
                        shown = not (network == "telegram" and metric in ("views", "reposts"))
                        value = rnd.randrange(1, 300) if shown else None
                        stamp = _stamp(due + timedelta(hours=1 + s // 5 * 24))
                        metric_rows.append(
                            (pub_id, lib, network, target, metric, value, int(shown), stamp, "s")
                        )
                    if action_kind == "publish":
                        for k in range(3):
                            acts.append(
                                (
                                    lib,
                                    network,
                                    target,
                                    str(pub_id),
                                    pub_id,
                                    "comment",
                                    f"p{rnd.randrange(3000)}",
                                    _stamp(due),
                                    f"{pub_id}:{k}",
                                )
                            )
            if kind == "quiz":
                for q in range(1, questions_per_quiz + 1):
                    question_id += 1
                    opened = _stamp(due + timedelta(minutes=q))
                    spec = json.dumps(
                        {"text": f"Вопрос {q}", "options": ["a", "b"], "correct": [0]}
                    )
                    questions.append(
                        (question_id, event_id, lib, "telegram", chat, q, "live", opened, spec)
                    )
                    for p in range(players):
                        quiz_answers.append(
                            (
                                question_id,
                                event_id,
                                lib,
                                "telegram",
                                q,
                                f"p{p}",
                                None,
                                "1",
                                rnd.random() < 0.6,
                                1.0,
                                1000 + p,
                                opened,
                                "button",
                            )
                        )
                quizzes.append((event_id, lib, due))
    with db.atomic():
        conn.executemany(
            "insert into libraries (id, name, timezone, paused) values (?,?,?,?)", libs
        )
        conn.executemany(
            "insert into events (id, library_id, kind, title, starts_at, data, status) "
            "values (?,?,?,?,?,?,'active')",
            events,
        )
        conn.executemany(
            "insert into actions (id, key, event_id, library_id, kind, network, target, due_at, "
            "state) values (?,?,?,?,?,?,?,?,?)",
            actions,
        )
        conn.executemany(
            "insert into publications (id, action_id, event_id, library_id, network, target, "
            "remote_id, url, published_at) values (?,?,?,?,?,?,?,?,?)",
            pubs,
        )
        conn.executemany(
            "insert into metric_samples (publication_id, library_id, network, target, metric, "
            "value, available, collected_at, source) values (?,?,?,?,?,?,?,?,?)",
            metric_rows,
        )
        conn.executemany(
            "insert into interactions (library_id, network, target, remote_id, publication_id, "
            "kind, person, at, dedup) values (?,?,?,?,?,?,?,?,?)",
            acts,
        )
        conn.executemany(
            "insert into quiz_questions (id, event_id, library_id, network, target, number, "
            "mode, opened_at, spec) values (?,?,?,?,?,?,?,?,?)",
            questions,
        )
        conn.executemany(
            "insert into quiz_answers (question_id, event_id, library_id, network, number, "
            "person, name, answer, correct, points, elapsed_ms, answered_at, via) "
            "values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            quiz_answers,
        )
        refresh(conn)  # the posts' latest figures, as storing samples keeps them
    # Each question closed and each quiz's results saved by the quiz engine's own store,
    # which keeps the counts that cannot change any more.
    for question in questions:
        store.close_question(db, question[0], datetime.fromisoformat(question[7]))
    for event_id, lib, due in quizzes:
        table = store.standings(db, event_id, "telegram")
        store.save_results(db, event_id, lib, "telegram", table, 3, due)
    conn.execute("analyze")
    # Written in one go, the year sits in the write-ahead log; a database that lived
    # through the year would have had it checkpointed into the file long ago.
    conn.execute("pragma wal_checkpoint(truncate)")
    db.close()
    return {
        "publications": len(pubs),
        "samples": len(metric_rows),
        "answers": len(quiz_answers),
        "interactions": len(acts),
    }
