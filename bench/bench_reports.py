"""Report benchmark: a year report of a network of 20 libraries, XLSX + HTML.

The database holds 1,000,000 quiz answers, 100,000 publications and 1,000,000 metric
samples (plus interactions and daily member counts), written fast with executemany.
Measured in a fresh process: the time to gather the figures and write the XLSX and the
HTML, against a plain SQL aggregate of the same summary figures in the same run, and
the process's peak memory. Goal: ≤ 3 × the SQL aggregate, under 5 s, under 400 MB.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.result import Result

ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Vladivostok")
YEAR = 2026


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def generate(path: Path, libraries: int, publications: int, answers: int, samples: int) -> dict:
    """A network's year in ``path``; returns the sizes written."""
    from bot.storage import open_db

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
    libs, events, actions, pubs, metric_rows, acts, questions, quiz_answers, results = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
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
                for place in (1, 2, 3):
                    results.append(
                        (
                            event_id,
                            lib,
                            "telegram",
                            place,
                            f"p{place}",
                            None,
                            10.0 - place,
                            9,
                            1000 * place,
                            1,
                            _stamp(due),
                        )
                    )
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
        conn.executemany(
            "insert into quiz_results (event_id, library_id, network, place, person, name, "
            "points, correct, time_ms, winner, decided_at) values (?,?,?,?,?,?,?,?,?,?,?)",
            results,
        )
    conn.execute("analyze")
    return {
        "publications": len(pubs),
        "samples": len(metric_rows),
        "answers": len(quiz_answers),
        "interactions": len(acts),
    }


# The plain SQL aggregate: the summary's figures per library, straight from the tables.
BASELINE = [
    "select a.library_id, count(distinct a.event_id || a.due_at) from actions a "
    "where a.kind = 'publish' and a.state = 'sent' and a.due_at >= ? and a.due_at < ? "
    "group by a.library_id",
    "select p.library_id, p.network, m.metric, sum(m.value) from publications p "
    "join (select publication_id, metric, value, max(collected_at) from metric_samples "
    "where publication_id is not null group by publication_id, metric) m "
    "on m.publication_id = p.id where p.published_at >= ? and p.published_at < ? "
    "group by p.library_id, p.network, m.metric",
    "select library_id, network, count(*), count(distinct person) from ("
    "select library_id, network, person from interactions where kind not in ('join', 'leave') "
    "and at >= ? and at < ? union all select library_id, network, person from quiz_answers) "
    "group by library_id, network",
    "select library_id, target, value, max(collected_at) from metric_samples "
    "where publication_id is null and metric = 'members' and collected_at < ? "
    "group by library_id, target",
]


def measure(path: str) -> dict:
    """In this (fresh) process: the SQL aggregate, then the report; times and peak memory."""
    import resource

    from bot.config import ReportRules
    from bot.storage import open_db
    from reports.figures import build_report
    from reports.html import to_html
    from reports.period import parse_period
    from reports.xlsx import to_xlsx

    db = open_db(path)
    period = parse_period(str(YEAR))
    low, high = f"{YEAR - 1}-12-31T00:00", f"{YEAR + 1}-01-01T12:00"
    began = time.perf_counter()
    for sql in BASELINE:
        params = [high] if sql.count("?") == 1 else [low, high]
        db.execute(sql, params).fetchall()
    baseline = time.perf_counter() - began
    began = time.perf_counter()
    report = build_report(db, period, ReportRules(), language="ru")
    gathered = time.perf_counter() - began
    xlsx = to_xlsx(report)
    written = time.perf_counter() - began
    html = to_html(report)
    total = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {
        "baseline": baseline,
        "gather": gathered,
        "xlsx": written - gathered,
        "html": total - written,
        "total": total,
        "peak_mb": peak,
        "xlsx_mb": len(xlsx) / 1e6,
        "html_mb": len(html.encode()) / 1e6,
        "rows": len(report.rows),
    }


def run(quick: bool = False) -> list[Result]:
    """Generate, measure in a subprocess, and judge against the goals."""
    scale = 20 if quick else 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        generate(path, 20, 100_000 // scale, 1_000_000 // scale, 1_000_000 // scale)
        child = subprocess.run(
            [sys.executable, "-m", "bench.bench_reports", str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    found = json.loads(child.stdout.strip().splitlines()[-1])
    label = " (quick)" if quick else ""
    ratio_ok = found["total"] <= 3 * found["baseline"]
    return [
        Result(
            f"reports: year report of 20 libraries, XLSX + HTML{label}",
            found["total"],
            "s",
            found["baseline"],
            "≤ 3 × the SQL aggregate, < 5 s",
            ratio_ok and found["total"] < 5,
        ),
        Result(
            f"reports: peak memory of the report process{label}",
            found["peak_mb"],
            "MB",
            None,
            "< 400 MB",
            found["peak_mb"] < 400,
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
