"""Reports in several processes: the same figures as in one; every file whole."""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from bot.cli import main
from core.config import ReportRules
from core.storage import open_db
from reports import forked
from reports.figures import build_report, processes
from reports.output import NotWritten, write_all
from reports.period import parse_period
from tests.test_reports_quarter import quarter  # noqa: F401  (the shared fixture)

NOW = datetime(2026, 12, 31, tzinfo=UTC)


def _build(path: Path, workers: int, **kw):
    db = open_db(path)
    return build_report(db, parse_period("2026-Q4"), ReportRules(), now=NOW, workers=workers, **kw)


def test_three_processes_give_the_same_report_as_one(quarter: Path) -> None:  # noqa: F811
    assert processes(3, 3) == 3  # nothing else runs here: the children are really forked
    one, three = _build(quarter, 1, with_names=True), _build(quarter, 3, with_names=True)
    assert [asdict(r) for r in three.rows] == [asdict(r) for r in one.rows]
    assert len(one.rows) > 10
    for a, b in zip(one.libraries, three.libraries, strict=True):
        assert asdict(a.summary) == asdict(b.summary)
        assert (a.winners, a.questions, a.polls) == (b.winners, b.questions, b.polls)
        assert a.followers_by_day == b.followers_by_day
    assert asdict(one.network) == asdict(three.network)


def test_a_process_with_other_threads_gathers_alone() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert processes(20, 4) == 1  # forking beside a running thread could deadlock
    finally:
        stop.set()
        other.join()
    assert processes(20, 4) == 4 and processes(1, 4) == 1


def test_several_formats_from_one_command_are_each_whole(quarter: Path, tmp_path: Path) -> None:  # noqa: F811
    config = quarter.parent / "config.toml"
    out = tmp_path / "q4.xlsx"  # the suffix is replaced by each format's
    args = ["report", "-c", str(config), "--period", "2026-Q4", "--all", "--out", str(out)]
    args += ["--format", "html", "--format", "xlsx", "--format", "csv"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "q4.xlsx", read_only=True)
    assert len(book.sheetnames) >= 4
    assert "</html>" in (tmp_path / "q4.html").read_text(encoding="utf-8")
    assert (tmp_path / "q4.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert not list(tmp_path.glob("*.part"))
    assert result.output.count("q4.") == 3


def test_a_file_that_cannot_be_written_is_named_and_the_others_are_kept(
    quarter: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    report = _build(quarter, 1)
    good, bad = tmp_path / "r.xlsx", tmp_path / "missing" / "r.html"
    assert forked.safe()  # the HTML is written by a forked child
    with pytest.raises(NotWritten, match=r"missing/r\.html: cannot write"):
        write_all(report, [("xlsx", good), ("html", bad)])
    assert good.stat().st_size > 5000 and not bad.exists()
    with pytest.raises(NotWritten, match=r"missing/r\.csv: cannot write"):
        write_all(report, [("csv", tmp_path / "missing" / "r.csv")])  # in this process
