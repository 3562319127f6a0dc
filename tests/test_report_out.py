"""``report --out``: the file's suffix and the format agree, or the command refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import write_config, write_event

XLSX_MAGIC = b"PK\x03\x04"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config with a plan in its database (no posts: the report is short)."""
    path = write_config(tmp_path)
    write_event(tmp_path, at="2099-01-01T10:00:00")
    assert CliRunner().invoke(main, ["plan", "-c", str(path)]).exit_code == 0
    return path


def report(config: Path, *args: str):
    return CliRunner().invoke(main, ["report", "-c", str(config), "--period", "2026-11", *args])


def files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--out", "r.pdf"],
            "--out r.pdf: .pdf — не формат отчёта; используйте .xlsx, .html, .csv или .md",
        ),
        (
            ["--format", "xlsx", "--out", "x.csv"],
            "--out x.csv: по имени это csv, а --format говорит xlsx; "
            "назовите файл x.xlsx или уберите --format",
        ),
        (
            ["--format", "xlsx", "--format", "html", "--out", "year.pdf"],
            "--out year.pdf: .pdf — не формат отчёта; используйте .xlsx, .html, .csv или .md",
        ),
        (
            ["--format", "xlsx", "--format", "html", "--out", "year.csv"],
            "--out year.csv: по имени это csv, а --format говорит xlsx и html; "
            "дайте имя без расширения",
        ),
    ],
)
def test_a_suffix_that_does_not_fit_is_refused(
    config: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(config.parent)
    before = files(config.parent)
    result = report(config, *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [f"bibliobot report: {message}"]
    assert files(config.parent) == before


def test_the_suffix_chooses_the_format(config: Path) -> None:
    out = config.parent / "r.xlsx"
    assert report(config, "--out", str(out)).exit_code == 0
    assert out.read_bytes().startswith(XLSX_MAGIC)
    upper = config.parent / "R.HTML"
    assert report(config, "--out", str(upper)).exit_code == 0
    assert "</html>" in upper.read_text(encoding="utf-8")


def test_a_name_without_suffix_gets_the_formats(config: Path) -> None:
    (config.parent / "out").mkdir()
    result = report(config, "--out", str(config.parent / "out" / "names"))
    assert result.exit_code == 0, result.output
    assert files(config.parent / "out") == {"names.md"}
    assert result.output.rstrip().endswith(str(config.parent / "out" / "names.md"))
    assert (
        report(config, "--format", "xlsx", "--out", str(config.parent / "out" / "t")).exit_code == 0
    )
    assert (config.parent / "out" / "t.xlsx").read_bytes().startswith(XLSX_MAGIC)


def test_several_formats_take_a_base_name(config: Path) -> None:
    base = config.parent / "year"
    result = report(config, "--format", "html", "--format", "csv", "--out", str(base))
    assert result.exit_code == 0, result.output
    assert {"year.html", "year.csv"} <= files(config.parent)
    assert "year.html" in result.output and "year.csv" in result.output


def test_a_format_and_its_own_suffix_agree(config: Path) -> None:
    out = config.parent / "x.csv"
    assert report(config, "--format", "csv", "--out", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_a_folder_gets_the_report_named_by_its_period(config: Path) -> None:
    folder = config.parent / "reports"
    folder.mkdir()
    assert report(config, "--format", "html", "--out", str(folder)).exit_code == 0
    assert files(folder) == {"report-2026-11.html"}
