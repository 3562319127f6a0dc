"""Report benchmark: a year report of a network of 20 libraries, XLSX + HTML.

The database holds 1,000,000 quiz answers, 100,000 publications and 1,000,000 metric
samples (plus interactions and daily member counts), written fast with executemany.
Measured in a fresh process: the time to gather the figures and write the XLSX and the
HTML as `bibliobot report --format xlsx --format html` does (libraries gathered, and
the two files written, by forked processes on every core), against a plain SQL
aggregate of the same summary figures in the same run, and the peak memory of the
process and its children. Goal: ≤ 3 × the SQL aggregate, under 5 s, under 400 MB.
The same report made by one process alone is printed beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.memory import run_sampled
from bench.report_data import YEAR, generate
from bench.result import Result
from core.formulas import engagement_sql
from reports import forked

# The plain SQL aggregate of the same figures the report shows, without any formatting:
# each library's local year as its span; every event row (occurrence × network) with its
# posts, the sum of each post's latest sample per metric (``post_figures``), its
# participations, people and answers; per library and network the posts' counters (sums, posts that showed each,
# engagement, ERview's parts), participations, people, answers; events per kind (6-НК);
# followers at the end and before the start; per-question figures, winners, poll votes.
# It may use the schema's indexes, like the report.
_COUNTERS = ("views", "likes", "reactions", "reposts", "comments", "poll_votes")
_ENG = engagement_sql()
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
    # Quiz answers count for the event's first occurrence.
    "create temp table b_first (event_id text primary key, occ text)",
    "insert into b_first select event_id, min(occ) from b_post where kind = 'publish' "
    "group by event_id",
    # Participations per (event, network, person): acts on the posts, and quiz answers.
    "create temp table b_pairs as select p.event_id, p.occ, p.network, i.person, count(*) as acts, "
    "sum(i.kind = 'answer') as answers from b_post p join interactions i "
    "on i.publication_id = p.pid where i.kind not in ('join', 'leave') "
    "group by p.event_id, p.occ, p.network, i.person "
    # A finished quiz's players and their answers are in its results; else the answers.
    "union all select x.event_id, f.occ, x.network, x.person, x.answers, x.answers "
    "from b_first f join quiz_results x on x.event_id = f.event_id where x.answers is not null "
    "union all select q.event_id, f.occ, q.network, q.person, count(*), count(*) "
    "from b_first f cross join quiz_questions qq on qq.event_id = f.event_id "
    "join quiz_answers q on q.question_id = qq.id where not exists ("
    "select 1 from quiz_results x where x.event_id = q.event_id and x.network = q.network "
    "and x.answers is not null) group by q.event_id, q.network, q.person",
    "create temp table b_rowacts as select event_id, occ, network, sum(acts) as acts, "
    "count(distinct person) as people, sum(answers) as answers from b_pairs "
    "group by event_id, occ, network",
    "create index b_rowacts_row on b_rowacts (event_id, occ, network)",
    # Event rows (fetched): what, posts' sums, participations, people, answers.
    f"select p.library_id, p.event_id, p.occ, p.network, p.ekind, count(*), "
    f"sum(p.kind = 'reminder'), min(case when p.kind = 'publish' then p.url end), "
    f"{', '.join(f'sum(f.{m})' for m in _COUNTERS)}, max(f.deleted), a.acts, a.people, a.answers "
    "from b_post p left join post_figures f on f.publication_id = p.pid left join b_rowacts a "
    "on a.event_id = p.event_id and a.occ = p.occ and a.network = p.network "
    "group by p.event_id, p.occ, p.network order by p.library_id, p.occ",
    # Posts' counters per library and network.
    f"select library_id, network, count(*), {_SUMS}, sum(eng), count(eng), "
    "sum(case when views is not null then eng end), sum(case when eng is not null then views end) "
    f"from (select p.library_id, p.network, f.*, {_ENG} as eng from b_post p "
    "left join post_figures f on f.publication_id = p.pid) group by library_id, network",
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
    # (A closed question's counts are kept on it; an open one's are counted.)
    "select q.id, q.answers, q.answers, q.correct from quiz_questions q "
    "where q.event_id in (select event_id from b_post) and q.answers is not null "
    "union all select q.id, count(a.id), count(a.id), sum(a.correct) from quiz_questions q "
    "left join quiz_answers a on a.question_id = q.id "
    "where q.event_id in (select event_id from b_post) and q.answers is null group by q.id",
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

    from core.storage import to_db

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
    for name in ("b_span", "b_post", "b_first", "b_pairs", "b_rowacts"):
        conn.execute(f"drop table temp.{name}")
    conn.commit()  # the temporary tables' transaction


def _own_peak_mb() -> float:
    """This process's own peak resident memory, in MB (VmHWM).

    Not ru_maxrss: Linux carries ru_maxrss across exec, so a child started by the
    parent that generated the data (over 500 MB of tuples) would report the parent's.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return 0.0


def measure(path: str, rounds: int = 3) -> dict:
    """In this (fresh) process, ``rounds`` times in turn: the SQL aggregate; the report as
    `bibliobot report --format xlsx --format html` makes it; the same report made by this
    process alone (one connection, one file after the other). Medians, and peak memory.

    This machine's speed drifts by a third from minute to minute; taking the three in
    turn and their medians keeps the comparison fair.
    """
    from statistics import median

    from core.config import ReportRules
    from core.storage import open_db
    from reports.figures import build_report
    from reports.html import to_html
    from reports.output import write_all
    from reports.period import parse_period
    from reports.xlsx import to_xlsx

    db = open_db(path)
    period = parse_period(str(YEAR))
    times: dict[str, list[float]] = {}

    def note(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)

    for _ in range(rounds):
        began = time.perf_counter()
        baseline(db, period)
        note("baseline", time.perf_counter() - began)
        with tempfile.TemporaryDirectory() as name:
            files = [("xlsx", Path(name) / "report.xlsx"), ("html", Path(name) / "report.html")]
            began = time.perf_counter()
            report = build_report(db, period, ReportRules(), language="ru")
            note("gather", time.perf_counter() - began)
            write_all(report, files)
            note("total", time.perf_counter() - began)
            sizes = [path.stat().st_size / 1e6 for _, path in files]
        del report
        began = time.perf_counter()
        alone = build_report(db, period, ReportRules(), language="ru", workers=1)
        note("one_gather", time.perf_counter() - began)
        to_xlsx(alone)
        note("one_xlsx", time.perf_counter() - began - times["one_gather"][-1])
        to_html(alone)
        note("one_total", time.perf_counter() - began)
        note("one_html", times["one_total"][-1] - times["one_gather"][-1] - times["one_xlsx"][-1])
        rows = len(alone.rows)
        del alone
    found = {name: median(values) for name, values in times.items()}
    return {
        **found,
        "rounds": times,
        "own_peak_mb": _own_peak_mb(),
        "xlsx_mb": sizes[0],
        "html_mb": sizes[1],
        "rows": rows,
    }


def run(quick: bool = False) -> list[Result]:
    """Generate, measure in a subprocess, and judge against the goals."""
    scale = 20 if quick else 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        generate(path, 20, 100_000 // scale, 1_000_000 // scale, 1_000_000 // scale)
        args = [sys.executable, "-m", "bench.bench_reports", str(path)]
        here = Path(__file__).resolve().parent.parent
        # Times from a run left alone: sampling memory reads every page table of the
        # processes, which slows them. Memory from a second, sampled run.
        timed = subprocess.run(args, capture_output=True, text=True, check=True, cwd=here)
        printed, tree_peak = run_sampled([*args, "1"], cwd=here, every=0.05)
    found = json.loads(timed.stdout.strip().splitlines()[-1])
    sampled = json.loads(printed.strip().splitlines()[-1])
    # The process's own high-water mark is a floor the samples may miss.
    peak = max(tree_peak, sampled["own_peak_mb"])
    label = " (quick)" if quick else ""
    ratio_ok = found["total"] <= 3 * found["baseline"]
    return [
        Result(
            f"reports: year report of 20 libraries, XLSX + HTML, as `bibliobot report` makes it"
            f" on {forked.cores()} cores (gather {found['gather']:.2f} s; medians of 3){label}",
            found["total"],
            "s",
            found["baseline"],
            "≤ 3 × the SQL aggregate, < 5 s",
            ratio_ok and found["total"] < 5,
        ),
        Result(
            f"reports: the same report made by one process alone (gather"
            f" {found['one_gather']:.2f} s, XLSX {found['one_xlsx']:.2f} s, HTML"
            f" {found['one_html']:.2f} s){label}",
            found["one_total"],
            "s",
            found["baseline"],
            "informational: the figure above without forked children",
            True,
        ),
        Result(
            f"reports: peak memory of the report process and its children{label}",
            peak,
            "MB (summed PSS of the process and its children, sampled)",
            None,
            "< 400 MB",
            peak < 400,
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], *(int(n) for n in sys.argv[2:3]))))
