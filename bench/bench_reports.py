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


# The plain SQL aggregate of the same figures the report shows, without any formatting:
# each library's local year as its span; every event row (occurrence × network) with its
# posts, the sum of each post's latest sample per metric, its participations, people and
# answers; per library and network the posts' counters (sums, posts that showed each,
# engagement, ERview's parts), participations, people, answers; events per kind (6-НК);
# followers at the end and before the start; per-question figures, winners, poll votes.
# It may use the schema's indexes, like the report.
_COUNTERS = ("views", "likes", "reactions", "reposts", "comments", "poll_votes")
_PIVOT = ", ".join(f"max(case when metric = '{m}' then value end) as {m}" for m in _COUNTERS)
_ENG = (
    "case when coalesce(likes, reactions, reposts, comments) is null then null else "
    "coalesce(likes, 0) + coalesce(reactions, 0) + coalesce(reposts, 0) + coalesce(comments, 0) end"
)
_SUMS = ", ".join(f"sum({m}), count({m})" for m in _COUNTERS)
BASELINE = [
    "create temp table b_span (library_id text primary key, s text, e text)",
    "insert into b_span values (?, ?, ?)",  # one per library (executemany)
    # Posts with their occurrence (a reminder: the first publish at or after it).
    "create temp table b_post as select a.event_id, e.library_id, e.kind as ekind, a.network, "
    "a.kind, p.id as pid, p.url, case when a.kind = 'publish' then a.due_at else "
    "(select min(o.due_at) from actions o where o.event_id = a.event_id and o.kind = 'publish' "
    "and o.state = 'sent' and o.due_at >= a.due_at) end as occ "
    "from actions a join events e on e.id = a.event_id join publications p on p.action_id = a.id "
    "where a.state = 'sent' and a.kind in ('publish', 'reminder')",
    "delete from b_post where occ is null or not exists (select 1 from b_span s "
    "where s.library_id = b_post.library_id and b_post.occ >= s.s and b_post.occ < s.e)",
    "create index b_post_pid on b_post (pid)",
    # The latest sample of each post and metric.
    f"create temp table b_fig as select pid, {_PIVOT}, max(case when metric = 'deleted' "
    "then value end) as deleted from (select publication_id as pid, metric, value, "
    "max(collected_at) from metric_samples where publication_id in (select pid from b_post) "
    "group by publication_id, metric) group by pid",
    "create index b_fig_pid on b_fig (pid)",
    # Quiz answers count for the event's first occurrence.
    "create temp table b_first (event_id text primary key, occ text)",
    "insert into b_first select event_id, min(occ) from b_post where kind = 'publish' "
    "group by event_id",
    # Participations per (event, network, person): acts on the posts, and quiz answers.
    "create temp table b_pairs as select p.event_id, p.occ, p.network, i.person, count(*) as acts, "
    "sum(i.kind = 'answer') as answers from b_post p join interactions i "
    "on i.publication_id = p.pid where i.kind not in ('join', 'leave') "
    "group by p.event_id, p.occ, p.network, i.person "
    "union all select q.event_id, f.occ, q.network, q.person, count(*), count(*) "
    "from b_first f join quiz_answers q on q.event_id = f.event_id "
    "group by q.event_id, q.network, q.person",
    "create temp table b_rowacts as select event_id, occ, network, sum(acts) as acts, "
    "count(distinct person) as people, sum(answers) as answers from b_pairs "
    "group by event_id, occ, network",
    "create index b_rowacts_row on b_rowacts (event_id, occ, network)",
    # Event rows (fetched): what, posts' sums, participations, people, answers.
    f"select p.library_id, p.event_id, p.occ, p.network, p.ekind, count(*), "
    f"sum(p.kind = 'reminder'), min(case when p.kind = 'publish' then p.url end), "
    f"{', '.join(f'sum(f.{m})' for m in _COUNTERS)}, max(f.deleted), a.acts, a.people, a.answers "
    "from b_post p left join b_fig f on f.pid = p.pid left join b_rowacts a "
    "on a.event_id = p.event_id and a.occ = p.occ and a.network = p.network "
    "group by p.event_id, p.occ, p.network order by p.library_id, p.occ",
    # Posts' counters per library and network.
    f"select library_id, network, count(*), {_SUMS}, sum(eng), count(eng), "
    "sum(case when views is not null then eng end), sum(case when eng is not null then views end) "
    f"from (select p.library_id, p.network, f.*, {_ENG} as eng from b_post p "
    "left join b_fig f on f.pid = p.pid) group by library_id, network",
    # Participations, people and answers per library and network (acts outside posts too).
    "select library_id, network, sum(acts), count(distinct person), sum(answers) from ("
    "select e.library_id, x.network, x.person, x.acts, x.answers from b_pairs x "
    "join events e on e.id = x.event_id union all select i.library_id, i.network, i.person, 1, "
    "i.kind = 'answer' from interactions i join b_span s on s.library_id = i.library_id "
    "where i.publication_id is null and i.kind not in ('join', 'leave') "
    "and i.at >= s.s and i.at < s.e) group by library_id, network",
    # Events held per library and kind (6-НК): occurrences, whatever the networks.
    "select library_id, ekind, count(distinct event_id || occ) from b_post "
    "group by library_id, ekind",
    # Per-question figures, winners and poll votes of the period's events.
    "select q.id, count(a.id), count(a.id), sum(a.correct) from quiz_questions q "
    "left join quiz_answers a on a.question_id = q.id "
    "where q.event_id in (select event_id from b_post) group by q.id",
    "select r.* from quiz_results r where r.winner = 1 "
    "and r.event_id in (select event_id from b_post)",
    "select publication_id, metric, value, max(collected_at) from metric_samples "
    "where publication_id in (select p.pid from b_post p join publications x on x.id = p.pid "
    "where x.poll_id is not null) and metric like 'poll:%' group by publication_id, metric",
    # Followers: every members sample before the end (the last, the last before the start,
    # and the daily series come from these).
    "select m.library_id, m.network, m.target, m.value, m.collected_at from metric_samples m "
    "join b_span s on s.library_id = m.library_id where m.publication_id is null "
    "and m.metric = 'members' and m.available = 1 and m.collected_at < s.e "
    "order by m.collected_at, m.id",
]


def baseline(db, period) -> None:
    """Run the plain SQL aggregate (every statement, every result row fetched)."""
    from zoneinfo import ZoneInfo

    from bot.storage import to_db

    spans = [
        (lib["id"], *(to_db(t) for t in period.bounds(ZoneInfo(lib["timezone"]))))
        for lib in db["libraries"].rows
    ]
    conn = db.conn
    conn.execute("pragma temp_store = memory")  # as the report does for its temp tables
    for sql in BASELINE:
        if sql.startswith("insert into b_span"):
            conn.executemany(sql, spans)
        else:
            conn.execute(sql).fetchall()
    for name in ("b_span", "b_post", "b_fig", "b_first", "b_pairs", "b_rowacts"):
        conn.execute(f"drop table temp.{name}")


def _peak_mb() -> float:
    """This process's peak resident memory, in MB.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child forked from the
    parent that generated the data (over 500 MB of tuples) would report the parent's peak.
    """
    import resource

    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(path: str) -> dict:
    """In this (fresh) process: the SQL aggregate, then the report; times and peak memory."""
    from bot.config import ReportRules
    from bot.storage import open_db
    from reports.figures import build_report
    from reports.html import to_html
    from reports.period import parse_period
    from reports.xlsx import to_xlsx

    db = open_db(path)
    period = parse_period(str(YEAR))
    began = time.perf_counter()
    baseline(db, period)
    sql = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        began = time.perf_counter()
        report = build_report(db, period, ReportRules(), language="ru")
        gathered = time.perf_counter() - began
        # As `bibliobot report` does: each file made and written out.
        (folder / "report.xlsx").write_bytes(to_xlsx(report))
        written = time.perf_counter() - began
        (folder / "report.html").write_text(to_html(report), encoding="utf-8")
        total = time.perf_counter() - began
        sizes = [(folder / f"report.{ext}").stat().st_size / 1e6 for ext in ("xlsx", "html")]
    peak = _peak_mb()
    return {
        "baseline": sql,
        "gather": gathered,
        "xlsx": written - gathered,
        "html": total - written,
        "total": total,
        "peak_mb": peak,
        "xlsx_mb": sizes[0],
        "html_mb": sizes[1],
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
