"""How cost grows with the network: 10, 100 and 1,000 libraries (``--quick``: 10 and 100).

Every library has the same work at every level: a daily series of 100 posts (1,000
libraries: 100,000 pending actions), 100 published VK posts whose figures are read, and
a year of reports (96 publications with 960 metric samples, 730 daily member counts,
one quiz of ten questions with 1,000 answers; 1,000 libraries: as much in all as the
20-library report benchmark). Measured at each level, each on fresh stand-ins and a
fresh database:

* planning: ``load_plan`` of the event files into an empty plan;
* start-up: adapters, recovery and arming every pending action (re-arm), in-process;
* firing lateness: 100 one-off posts spread over 30 s (``--quick``: 10 over 3 s), each
  measured as its arrival at the stand-ins minus its planned time, while `bibliobot run`
  holds everything else armed (and reads every channel's and community's updates);
* memory of that running bot: its peak PSS (and RSS) above an idle bot (one library,
  nothing planned) measured in the same run;
* metrics: VK requests to read every post's counters and reach, against the fewest
  possible, and the time against the rate-limit floor (as ``bench_metrics``);
* the year report of the network, XLSX + HTML, as `bibliobot report` makes it, against
  the plain SQL aggregate of ``bench_reports``, and its peak memory (summed PSS of the
  process and its children) above a report of an empty year.

Each figure is printed per library and compared with the same figure at 10 libraries
in the same run: the ratio is the growth. Goals: the per-library cost stays within
1.5 × from 10 to 1,000 libraries; at 1,000, planning and start-up each under 10 s, the
report under 60 s and 1 GB.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import bench_metrics
from bench.bench_schedule import write_announcement
from bench.memory import run_sampled, tree_mb
from bench.report_data import YEAR, generate
from bench.result import Result

LEVELS, QUICK_LEVELS = (10, 100, 1000), (10, 100)
PER_LIBRARY = 100  # pending actions of each library: a daily series
# One-off posts whose lateness is measured, and the seconds they are spread over: half go
# to VK, well under its 3 posts a second per user token, so that lateness measures the
# scheduler, not a queue in front of the rate limit.
PROBES, QUICK_PROBES = (100, 30), (10, 3)
GROWTH = 1.5  # the most the per-library cost may grow from the smallest level
HERE = Path(__file__).resolve().parent.parent


@dataclass
class Level:
    """What was measured at one level."""

    libraries: int
    figures: dict[str, float] = field(default_factory=dict)


# -- planning, start-up, lateness and memory of the running bot -----------------------


async def _schedule(
    folder: Path, libraries: int, idle_mb: float, probes: tuple[int, int]
) -> dict[str, float]:
    from bench.fleet import build_fleet
    from bot.app import build_app, load_plan
    from core.config_file import load_config
    from core.storage import open_db

    with _stand_ins(seed=18) as box:
        fleet = build_fleet(box, folder, libraries)
        # The series begin tomorrow: nothing of them fires during the run.
        tomorrow = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        for n, library in enumerate(fleet.libraries):
            at = tomorrow + timedelta(seconds=37 * n % 86_400)
            network = "vk" if n % 2 == 0 else "telegram"
            series = f'[repeat]\nevery = "day"\ncount = {PER_LIBRARY}\n'
            write_announcement(
                folder, f"series-{n:04d}", library.id, at, library.zone, network, series
            )
        config = load_config(fleet.config)
        db = open_db(config.storage)
        began = time.perf_counter()
        load_plan(db, config)
        planning = time.perf_counter() - began
        actions = db["actions"].count_where("state = 'pending'")
        began = time.perf_counter()
        app = build_app(config, db, env=fleet.env, tell_admins=False, intakes=False)
        armed = await app.start()
        startup = time.perf_counter() - began
        await app.stop()
        # The probes: written now, planned by the bot as it starts (the series unchanged).
        # The bot re-reads the unchanged files (a third of planning) and re-arms.
        lead = 4 + 2 * (startup + 0.3 * planning)
        first = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=math.ceil(lead))
        due: dict[str, list[float]] = defaultdict(list)
        network_of: dict[str, str] = {}  # target → its network, for the figures per network
        count, window = probes
        for k in range(count):
            library = fleet.libraries[k * libraries // count]
            network = "vk" if k % 2 == 0 else "telegram"
            at = first + timedelta(seconds=window * k // count)  # event files: whole seconds
            write_announcement(folder, f"probe-{k:03d}", library.id, at, library.zone, network)
            target = str(-library.group_id) if network == "vk" else str(library.chats[0])
            due[target].append(at.timestamp())
            network_of[target] = network
        box.recording = True
        # The stand-ins stand for servers far away: their world of 1,000 communities must
        # not add this process's own full garbage collections to the arrivals measured.
        gc.collect()
        gc.freeze()
        try:
            memory = await _bot_run(fleet, until=lambda: db["publications"].count >= count)
        finally:
            gc.unfreeze()
        db.close()
        late, missing = _lateness(box.arrivals, due)
        apart = {
            name: sorted(
                _lateness(box.arrivals, {t: d for t, d in due.items() if network_of[t] == name})[0]
            )
            or [math.inf]
            for name in ("vk", "telegram")
        }
    late = sorted(late) or [math.inf]  # not one probe arrived
    return {
        **{f"p50_{name}": statistics.median(times) for name, times in apart.items()},
        **{f"p99_{name}": _p99(times) for name, times in apart.items()},
        "planning": planning,
        "actions": actions,
        "startup": startup,
        "armed": armed,
        "p50": statistics.median(late),
        "p99": _p99(late),
        "probes": count,
        "missing": missing,
        "armed_before_first": first.timestamp() - memory["armed_at"],
        "bot_pss": memory["pss"],
        "bot_rss": memory["rss"],
        "bot_mb": (memory["pss"] - idle_mb) / libraries,
    }


def _p99(late: list[float]) -> float:
    """The 99th percentile of sorted figures (the largest of fewer than 100)."""
    return late[min(len(late) - 1, math.ceil(0.99 * len(late)) - 1)]


def _lateness(arrivals, due: dict[str, list[float]]) -> tuple[list[float], int]:
    """Each probe's arrival minus its planned time; posts to one target arrive in order."""
    seen: dict[str, list[float]] = defaultdict(list)
    for arrival in arrivals:
        if arrival.method in ("sendMessage", "wall.post") and not arrival.throttled:
            seen[arrival.target].append(arrival.time)
    late, missing = [], 0
    for target, times in due.items():
        came = sorted(seen.get(target, []))
        late += [arrived - planned for planned, arrived in zip(sorted(times), came, strict=False)]
        missing += max(0, len(times) - len(came))
    return late, missing


async def _bot_run(fleet, until, settle: float = 0.0) -> dict[str, float]:
    """`bibliobot run` in its own process: when it had everything armed, and its peak
    memory from then until ``until()`` holds (or ``settle`` seconds have passed)."""
    from core import messages

    command = [sys.executable, "-m", "bot", "run", "-c", str(fleet.config)]
    # `run` says it is up in its own first line (in the config's language, Russian here);
    # what comes before the count is enough to know it.
    started = messages.text_in("ru", "run.started", count=0).split("0")[0]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, env={**os.environ, **fleet.env}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            armed_at = await _wait(lambda: started in _read(log), 600, process)
            pss = rss = 0.0
            end, deadline = time.monotonic() + settle, time.monotonic() + 300

            def done() -> bool:
                return until() if until else time.monotonic() > end

            while not done() and time.monotonic() < deadline:  # else: probes missing
                pss, rss = max(pss, tree_mb(process.pid)), max(rss, _rss_mb(process.pid))
                await asyncio.sleep(0.5)
            pss, rss = max(pss, tree_mb(process.pid)), max(rss, _rss_mb(process.pid))
        finally:
            process.terminate()
            process.wait(timeout=60)
            if os.environ.get("BENCH_BOT_LOG"):  # to look into a run: the bot's own lines
                Path(os.environ["BENCH_BOT_LOG"]).write_text(_read(log))
    return {"armed_at": armed_at, "pss": pss, "rss": rss}


def _read(log) -> str:
    log.seek(0)
    return log.read()


async def _wait(condition, timeout: float, process) -> float:
    """Poll until ``condition()``; the wall-clock time it first held."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"the bot stopped with code {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not start in time")
        await asyncio.sleep(0.1)
    return time.time()


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


async def _idle_bot(folder: Path) -> dict[str, float]:
    """The memory of a bot with one library and nothing planned, settled for 3 s."""
    from bench.fleet import build_fleet

    with _stand_ins(seed=17) as box:
        fleet = build_fleet(box, folder, 1)
        return await _bot_run(fleet, until=None, settle=2.0)


@contextlib.contextmanager
def _stand_ins(seed: int):
    """Fresh stand-ins, stopped in the background: stopping waits up to 10 s for the long
    polls the stopped bot left open, which measures nothing."""
    from sandbox.server import Sandbox

    box = Sandbox(seed=seed)
    box.start()
    try:
        yield box
    finally:
        threading.Thread(target=box.stop, name="stand-ins-stop", daemon=True).start()


# -- the year report --------------------------------------------------------------------


def _report(folder: Path, libraries: int, floors: dict[str, float]) -> dict[str, float]:
    """Generate the year, then time the report alone and sample its memory in another run."""
    path = folder / "bench.db"
    n = libraries
    generate(path, n, PER_LIBRARY * n, 1000 * n, 1000 * n)
    args = [sys.executable, "-m", "bench.bench_scale", str(path)]
    timed = subprocess.run(args, capture_output=True, text=True, check=True, cwd=HERE)
    found = json.loads(timed.stdout.strip().splitlines()[-1])
    # A report of a second or two gives the sampler few looks at its short-lived children:
    # the highest of three runs misses less of the peak.
    runs = 3 if found["total"] < 2 else 1
    found["peak"] = _peak([*args, "sampled"], runs)
    if "report" not in floors:  # once, at the first level: a year with no data at all
        floors["report"] = _peak([*args, "empty"], 3)
    found["empty"] = floors["report"]
    found["mb"] = (found["peak"] - floors["report"]) / libraries
    return found


def _peak(args: list[str], runs: int) -> float:
    """The highest summed PSS of ``runs`` sampled runs of ``args``, in MB."""
    return max(run_sampled(args, cwd=HERE, every=0.05)[1] for _ in range(runs))


def _measure_report(path: str, mode: str) -> dict[str, float]:
    """In this fresh process: the SQL aggregate, then the report as `bibliobot report
    --all --format xlsx --format html` makes it (forked gatherers and writers)."""
    from bench.bench_reports import baseline
    from core.config import ReportRules
    from core.storage import open_db
    from reports.figures import build_report
    from reports.output import write_all
    from reports.period import parse_period

    db = open_db(path)
    period = parse_period(str(YEAR - 10 if mode == "empty" else YEAR))
    found: dict[str, float] = {}
    if mode == "timed":
        began = time.perf_counter()
        baseline(db, period)
        found["sql"] = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as name:
        files = [("xlsx", Path(name) / "report.xlsx"), ("html", Path(name) / "report.html")]
        began = time.perf_counter()
        report = build_report(db, period, rules=ReportRules(), language="ru")
        found["gather"] = time.perf_counter() - began
        write_all(report, files)
        found["total"] = time.perf_counter() - began
    return found


# -- the figures ------------------------------------------------------------------------


def _measure(level: int, floors: dict[str, float], probes: tuple[int, int]) -> Level:
    found = Level(level)
    with tempfile.TemporaryDirectory() as tmp:
        found.figures.update(asyncio.run(_schedule(Path(tmp), level, floors["bot"], probes)))
    metrics = bench_metrics.measure(level, PER_LIBRARY)
    found.figures.update({f"metrics_{k}": v for k, v in metrics.items()})
    with tempfile.TemporaryDirectory() as tmp:
        report = _report(Path(tmp), level, floors)
        found.figures.update({f"report_{k}": v for k, v in report.items()})
    return found


def _results(levels: list[Level], largest: int) -> list[Result]:
    """Per level: each figure per library, with the smallest level's as its baseline."""
    base, results = levels[0], []
    within = f"≤ {GROWTH} × the {base.libraries}-library figure"

    def per_library(level: Level, key: str, scale: float = 1.0) -> float:
        return level.figures[key] * scale / level.libraries

    for level in levels:
        f, n = level.figures, level.libraries
        top = n == largest == LEVELS[-1]  # the absolute goals hold at 1,000 libraries
        tag = f"{n:,} libraries" + (" (the baseline level)" if level is base else "")
        per, was = per_library(level, "planning", 1000), per_library(base, "planning", 1000)
        results.append(
            Result(
                f"scale: planning from event files, {tag}",
                round(per, 2),
                f"ms per library (total {f['planning']:.2f} s for {f['actions']:,.0f} actions, "
                f"{f['planning'] / f['actions'] * 1000:.3f} ms an action)",
                round(was, 2),
                within + (", total < 10 s" if top else ""),
                per <= GROWTH * was and (not top or f["planning"] < 10),
            )
        )
        per, was = per_library(level, "startup", 1000), per_library(base, "startup", 1000)
        results.append(
            Result(
                f"scale: start-up with everything pending (re-arm), {tag}",
                round(per, 2),
                f"ms per library (total {f['startup']:.2f} s for {f['armed']:,.0f} actions)",
                round(was, 2),
                within + (", total < 10 s" if top else ""),
                per <= GROWTH * was
                and f["armed"] == f["actions"]
                and (not top or f["startup"] < 10),
            )
        )
        p99, was = f["p99"], base.figures["p99"]
        results.append(
            Result(
                f"scale: firing lateness p99 of {f['probes']:.0f} posts, {tag}",
                round(p99, 3),
                f"s (p50 {f['p50']:.3f} s; p99 VK {f['p99_vk']:.3f} s, Telegram "
                f"{f['p99_telegram']:.3f} s; {f['missing']:.0f} missing; the bot had "
                f"{f['armed'] + f['probes']:,.0f} actions armed {f['armed_before_first']:.0f} s "
                "before the first)",
                round(was, 3),
                f"< 1 s; {within}, or within 0.1 s of it",
                p99 < 1
                and (p99 <= GROWTH * was or p99 - was < 0.1)
                and not f["missing"]
                and f["armed_before_first"] > 0,
            )
        )
        per, was = f["bot_mb"], base.figures["bot_mb"]
        results.append(
            Result(
                f"scale: memory of the running bot with everything armed, {tag}",
                round(per, 3),
                f"MB per library above an idle bot (peak PSS {f['bot_pss']:.0f} MB, RSS "
                f"{f['bot_rss']:.0f} MB; the idle bot {f['bot_pss'] - per * n:.0f} MB)",
                round(was, 3),
                within,
                per <= GROWTH * was,
            )
        )
        per, was = per_library(level, "metrics_requests"), per_library(base, "metrics_requests")
        results.append(
            Result(
                f"scale: metrics requests, {tag}",
                round(per, 3),
                f"requests per library ({f['metrics_requests']:.0f} for "
                f"{f['metrics_posts']:,.0f} posts; the fewest possible {f['metrics_least']:.0f}; "
                f"{f['metrics_throttled']:.0f} refused as too many a second"
                + (f"; reading stopped: {f['metrics_error']}" if f["metrics_error"] else "")
                + ")",
                round(was, 3),
                within + "; the fewest possible, none refused",
                per <= GROWTH * was
                and f["metrics_requests"] == f["metrics_least"]
                and not f["metrics_throttled"]
                and not f["metrics_error"],
            )
        )
        seconds, floor = f["metrics_seconds"], f["metrics_floor"]
        results.append(
            Result(
                f"scale: metrics time against the rate-limit floor, {tag}",
                round(seconds, 3),
                f"s ({seconds / n * 1000:.1f} ms per library; one request alone "
                f"{f['metrics_service']:.2f} s)",
                floor,
                "≤ 1.1 × the floor, or within 0.2 s of it; every post read",
                (seconds <= 1.1 * floor or seconds - floor < 0.2) and not f["metrics_error"],
            )
        )
        total, sql = f["report_total"], f["report_sql"]
        per, was = per_library(level, "report_total", 1000), per_library(base, "report_total", 1000)
        results.append(
            Result(
                f"scale: year report of the network, XLSX + HTML, {tag}",
                round(per, 2),
                f"ms per library (total {total:.2f} s, gather {f['report_gather']:.2f} s; "
                f"the plain SQL aggregate {sql:.2f} s, {total / sql:.1f} ×)",
                round(was, 2),
                within + (", total < 60 s" if top else ""),
                per <= GROWTH * was and (not top or total < 60),
            )
        )
        per, was, peak = f["report_mb"], base.figures["report_mb"], f["report_peak"]
        results.append(
            Result(
                f"scale: peak memory of the year report, {tag}",
                round(per, 3),
                f"MB per library above a report of an empty year (peak {peak:.0f} MB, summed "
                f"PSS of the process and its children; the empty year {f['report_empty']:.0f} MB)",
                round(was, 3),
                within + (", peak < 1 GB" if top else ""),
                per <= GROWTH * was and (not top or peak < 1024),
            )
        )
    return results


# label, the figure per library, the total beside it
_ROWS = (
    ("planning, ms", "planning", 1000, lambda f: f"{f['planning']:.1f} s"),
    ("start-up, ms", "startup", 1000, lambda f: f"{f['startup']:.1f} s"),
    ("lateness p99, s", "p99", None, lambda f: f"p50 {f['p50']:.2f}"),
    ("bot memory, MB", "bot_mb", None, lambda f: f"{f['bot_pss']:.0f} MB"),
    ("metrics requests", "metrics_requests", 1, lambda f: f"{f['metrics_requests']:.0f}"),
    ("metrics time, ms", "metrics_seconds", 1000, lambda f: f"{f['metrics_seconds']:.1f} s"),
    ("report, ms", "report_total", 1000, lambda f: f"{f['report_total']:.1f} s"),
    ("report memory, MB", "report_mb", None, lambda f: f"{f['report_peak']:.0f} MB"),
)


def _table(levels: list[Level]) -> str:
    """The figures side by side, per library (the total in brackets), and their growth."""
    lines = ["per library".ljust(20) + "".join(f"{lv.libraries:>24,}" for lv in levels)]
    for label, key, scale, total in _ROWS:
        values = [
            lv.figures[key] * scale / lv.libraries if scale else lv.figures[key] for lv in levels
        ]
        cells = [f"{v:.3f} ({total(lv.figures)})" for v, lv in zip(values, levels, strict=True)]
        growth = values[-1] / values[0] if values[0] else float("nan")
        lines.append(label.ljust(20) + "".join(c.rjust(24) for c in cells) + f"   {growth:.2f} ×")
    return "\n".join(lines)


def run(quick: bool = False) -> list[Result]:
    """Every level in turn; the figures per library with the smallest level as baseline."""
    chosen = QUICK_LEVELS if quick else LEVELS
    with tempfile.TemporaryDirectory() as tmp:
        floors = {"bot": asyncio.run(_idle_bot(Path(tmp)))["pss"]}
    levels = [_measure(n, floors, QUICK_PROBES if quick else PROBES) for n in chosen]
    print(_table(levels), flush=True)
    return _results(levels, chosen[-1])


def lateness(levels: list[int], quick: bool = False) -> dict[int, dict[str, float]]:
    """Only the firing lateness (with planning and start-up) at ``levels``: the part of
    the benchmark to look into without its minutes of metrics and reports."""
    found = {}
    for n in levels:
        with tempfile.TemporaryDirectory() as tmp:
            figures = asyncio.run(_schedule(Path(tmp), n, 0.0, QUICK_PROBES if quick else PROBES))
        found[n] = figures
        keys = (
            "p50",
            "p99",
            "p50_vk",
            "p99_vk",
            "p50_telegram",
            "p99_telegram",
            "missing",
            "planning",
            "startup",
            "armed_before_first",
        )
        print(json.dumps({"libraries": n, **{k: round(figures[k], 4) for k in keys}}), flush=True)
    return found


if __name__ == "__main__":
    if sys.argv[1:2] == ["--lateness"]:  # python -m bench.bench_scale --lateness 1000 [--quick]
        lateness([int(a) for a in sys.argv[2:] if a.isdigit()], quick="--quick" in sys.argv)
        sys.exit(0)
    mode = sys.argv[2] if len(sys.argv) > 2 else "timed"
    print(json.dumps(_measure_report(sys.argv[1], mode)))
