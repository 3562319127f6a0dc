"""The command line: validate's exit codes and lines, the sandbox's JSON line, docs for every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config, write_event

ROOT = Path(__file__).resolve().parent.parent
TOKENS = {TG_ENV: "1:x", VK_USER_ENV: "u", VK_COMMUNITY_ENV: "c"}


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"`bibliobot {name}" in readme, name


def test_validate_passes_a_good_setup(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    write_event(tmp_path, at="2099-12-05T18:00:00")
    result = CliRunner().invoke(main, ["validate", "-c", str(config)], env=TOKENS)
    assert result.exit_code == 0, result.output
    assert "Мероприятий: 1, публикаций запланировано: 2; ошибок: 0" in result.output


def test_validate_lists_every_problem_and_fails(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    write_event(tmp_path, "one", title='""')
    write_event(tmp_path, "two", at='"когда-нибудь"')
    result = CliRunner().invoke(
        main, ["validate", "-c", str(config)], env={TG_ENV: "1:x", VK_USER_ENV: "u"}
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert f"переменная окружения {VK_COMMUNITY_ENV} не задана" in lines[0]
    assert lines[1].startswith(str(tmp_path / "events" / "one.toml") + ":3 [title]")
    assert lines[2].startswith(str(tmp_path / "events" / "two.toml") + ":4 [at]")


def test_validate_reports_a_broken_config_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('language = "fr"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "-c", str(path)])
    assert result.exit_code == 1
    assert f"{path}:1 [language]: должно быть ru или en, а не 'fr'" in result.stderr
    assert "Traceback" not in result.output


def test_sandbox_command_prints_one_json_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--seed", "3"], stdout=subprocess.PIPE, text=True
    )
    try:
        info = json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert info["telegram"]["api_url"].startswith("http://127.0.0.1:") and info["telegram"][
        "api_url"
    ].endswith("/bot")
    assert info["vk"]["api_url"].endswith("/method/")
    for key in ("token", "channel_id", "group_id"):
        assert key in info["telegram"]
    for key in ("user_token", "community_token", "group_id"):
        assert key in info["vk"]
    assert info["control_url"].endswith("/_sandbox")
    assert info["max"]["api_url"].startswith("http://127.0.0.1:")
    for key in ("token", "channel_id", "chat_id"):
        assert key in info["max"]


def test_sandbox_faults_are_routed_to_each_network() -> None:
    from sandbox.server import Sandbox

    box = Sandbox(seed=1)
    box.set_faults("wall.post:ambiguous:1,sendMessage:5xx:0.5,*:slow:0.01:2")
    tg_rules = {(r["method"], r["kind"]) for r in box.telegram.state()["faults"]["rules"]}
    vk_rules = {(r["method"], r["kind"]) for r in box.vk.state()["faults"]["rules"]}
    assert tg_rules == {("sendMessage", "5xx"), ("*", "slow")}
    assert vk_rules == {("wall.post", "ambiguous"), ("*", "slow")}


def test_sandbox_command_refuses_a_bad_fault_spec() -> None:
    result = CliRunner().invoke(main, ["sandbox", "--faults", "wall.post:explode:1"])
    assert result.exit_code == 2
    assert "kind must be one of 5xx, 429, slow, reset, ambiguous" in result.output


def test_plan_lists_and_exports_a_calendar(tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    import icalendar

    config = write_config(tmp_path)
    soon = (datetime.now() + timedelta(days=2)).replace(microsecond=0, second=0)
    path = write_event(tmp_path, at=soon.isoformat())
    path.write_text(path.read_text() + '[repeat]\nevery = "day"\ncount = 2\n', encoding="utf-8")
    listed = CliRunner().invoke(main, ["plan", "-c", str(config)])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("Книжный клуб") == 4  # two days × two networks
    ics = tmp_path / "plan.ics"
    written = CliRunner().invoke(main, ["plan", "-c", str(config), "--ics", str(ics)])
    assert "Постов в календаре: 4" in written.output
    calendar = icalendar.Calendar.from_ical(ics.read_bytes())
    events = calendar.walk("VEVENT")
    assert len(events) == 4
    assert {str(e["DTSTART"].params["TZID"]) for e in events} == {"Europe/Moscow"}
    assert all(e.get("UID") and e.get("DTSTAMP") for e in events)


def test_cancel_pause_and_resume_commands(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    write_event(tmp_path, at="2099-01-01T10:00:00")
    runner = CliRunner()
    assert runner.invoke(main, ["plan", "-c", str(config)]).exit_code == 0
    paused = runner.invoke(main, ["pause", "-c", str(config), "central"])
    assert paused.exit_code == 0 and "central: приостановлено" in paused.output
    assert runner.invoke(main, ["resume", "-c", str(config), "central"]).exit_code == 0
    cancelled = runner.invoke(main, ["cancel", "-c", str(config), "central/club"])
    assert "central/club: отменено, снято запланированных действий: 2" in cancelled.output
    unknown = runner.invoke(main, ["cancel", "-c", str(config), "central/nope"])
    assert unknown.exit_code == 1 and "мероприятия «central/nope» в плане нет" in unknown.stderr


def test_an_english_library_is_answered_in_english(tmp_path: Path) -> None:
    config = write_config(tmp_path, language="en")
    write_event(tmp_path, at="2099-01-01T10:00:00")
    runner = CliRunner()
    checked = runner.invoke(main, ["validate", "-c", str(config)], env=TOKENS)
    assert "1 event(s), 2 publication(s) planned; 0 problem(s)" in checked.output
    assert runner.invoke(main, ["plan", "-c", str(config)]).exit_code == 0
    paused = runner.invoke(main, ["pause", "-c", str(config), "central"])
    assert paused.exit_code == 0 and "central: paused" in paused.output
    unknown = runner.invoke(main, ["cancel", "-c", str(config), "central/nope"])
    assert unknown.exit_code == 1 and "no event 'central/nope' in the plan" in unknown.stderr


def test_help_is_russian_unless_the_config_says_english(tmp_path: Path) -> None:
    runner = CliRunner()
    absent = {"BIBLIOBOT_CONFIG": str(tmp_path / "none.toml"), "BIBLIOBOT_LANGUAGE": ""}
    shown = runner.invoke(main, ["--help"], env=absent).output
    assert shown.startswith("Использование:") and "Команды:" in shown and "Параметры:" in shown
    assert "Показать эту справку и выйти." in shown and "Show this" not in shown
    report = runner.invoke(main, ["report", "--help"], env=absent).output
    assert "Отчёт за период" in report and "Месяц (2026-11)" in report
    plan = runner.invoke(main, ["plan", "--help"], env=absent).output
    assert "[по умолчанию: 30]" in plan and "default" not in plan
    english = write_config(tmp_path, language="en")
    told = runner.invoke(main, ["plan", "--help"], env={"BIBLIOBOT_CONFIG": str(english)}).output
    assert told.startswith("Usage:") and "How far ahead to show" in told
    forced = runner.invoke(main, ["--help"], env={**absent, "BIBLIOBOT_LANGUAGE": "en"}).output
    assert "Show this message and exit." in forced


def test_a_mistyped_command_is_told_in_russian_with_its_usage(tmp_path: Path) -> None:
    runner = CliRunner()
    absent = {"BIBLIOBOT_CONFIG": str(tmp_path / "none.toml"), "BIBLIOBOT_LANGUAGE": ""}
    cases = {
        ("plan", "--dayz", "3"): "Ошибка: нет параметра --dayz. Может быть, --days?",
        ("cancel",): "Ошибка: не указан аргумент 'EVENT_ID'.",
        ("plan", "--days", "x"): "Ошибка: неверное значение '--days': «x» — не целое число.",
        ("nosuch",): "Ошибка: нет команды «nosuch».",
        ("plan", "extra"): "Ошибка: лишние аргументы: extra",
    }
    for args, said in cases.items():
        result = runner.invoke(main, list(args), env=absent)
        assert result.exit_code == 2, result.output
        lines = result.output.splitlines()
        assert lines[0].startswith("Использование: ") and lines[1].startswith("Справка: ")
        assert lines[-1] == said
        assert "Error" not in result.output and "Try " not in result.output
    english = runner.invoke(main, ["cancel"], env={**absent, "BIBLIOBOT_LANGUAGE": "en"})
    assert english.output.splitlines()[-1] == "Error: Missing argument 'EVENT_ID'."
