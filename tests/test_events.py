"""Event files: a good announcement loads; each bad one is a clear line and changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.app import load_plan
from core.clock import SystemClock
from core.config_file import load_config
from core.storage import open_db
from scheduler.events import load_event
from scheduler.plan import expand
from tests.conftest import write_config, write_event

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_announcement_loads_in_the_library_time_zone(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en", timezone="Asia/Kamchatka"))
    event = load_event(write_event(tmp_path, at="2026-12-05T18:00:00"), config)
    assert event.id == "central/club"
    assert event.at.utcoffset().total_seconds() == 12 * 3600
    assert event.networks == ("telegram", "vk")


def test_sample_event_in_templates_is_valid(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    for language in ("ru", "en"):
        shutil.copy(
            TEMPLATES / "events" / language / "announcement.toml",
            tmp_path / "events" / "sample.toml",
        )
        shutil.copy(TEMPLATES / "events" / language / "announcement.png", tmp_path / "events")
        event = load_event(tmp_path / "events" / "sample.toml", config)
        actions = expand(event, config)
        assert {a.network for a in actions} == {"telegram", "vk"}
        assert event.image is not None and event.image.name == "announcement.png"


def test_texts_render_per_network_with_escaping(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    path = write_event(
        tmp_path,
        title='"Клуб <любителей> & друзей"',
        text='"Ждём вас: {{ when }}"',
        text_by_network='{ vk = "ВК: {{ title }}" }',
    )
    actions = {a.network: a for a in expand(load_event(path, config), config)}
    tg_text, vk_text = actions["telegram"].payload["text"], actions["vk"].payload["text"]
    assert tg_text.startswith("<b>Клуб &lt;любителей&gt; &amp; друзей</b>")
    assert "Ждём вас: 5 декабря 2026, суббота, 18:00" in tg_text
    assert vk_text.startswith("Клуб <любителей> & друзей\n\nВК: Клуб <любителей> & друзей")


BAD_EVENTS = [
    ({"kind": '"concert"'}, ":1 [kind]: unknown kind 'concert'"),
    ({"title": None}, " [title]: is required"),
    ({"title": '""'}, ":3 [title]: must be non-empty text"),
    ({"at": '"5 декабря"'}, ":4 [at]: '5 декабря' is not a date and time like 2026-12-05T18:00"),
    ({"at": "2026-12-05T18:00:00+03:00"}, ":4 [at]: write local time without an offset"),
    ({"at": "2026-12-05"}, ":4 [at]: needs a time of day too"),
    ({"library": '"branch"'}, ":2 [library]: no library 'branch' in the config; known: central"),
    ({"networks": '["ok"]'}, ":5 [networks]: unknown network 'ok'"),
    ({"text": '"Привет, {{ имя }"'}, ":6 [text]: template error on line 1 of the text"),
    ({"text": '"{{ reader }}"'}, ":6 [text]: template error: 'reader' is undefined"),
    ({"image": '"missing.png"'}, ":7 [image]: file 'missing.png' not found next to the event file"),
    ({"image": '"photo.gif"'}, ":7 [image]: 'photo.gif': only PNG or JPEG images are supported"),
    ({"title": "= broken"}, ":3: TOML syntax"),
]


@pytest.mark.parametrize(("fields", "expected"), BAD_EVENTS, ids=[e for _, e in BAD_EVENTS])
def test_bad_event_is_one_line_and_writes_nothing(
    tmp_path: Path, fields: dict, expected: str
) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    path = write_event(tmp_path, **fields)
    db = open_db(tmp_path / "plan.db")
    result = load_plan(db, config, SystemClock())
    assert [str(p) for p in result.problems] == [str(result.problems[0])]
    line = str(result.problems[0])
    assert line.startswith(str(path)) and expected in line and "\n" not in line
    assert db["events"].count == 0 and db["actions"].count == 0


def test_caption_too_long_for_telegram_names_the_field(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    (tmp_path / "events" / "pic.png").write_bytes(
        (TEMPLATES / "events" / "ru" / "announcement.png").read_bytes()
    )
    write_event(tmp_path, at="2099-12-05T18:00:00", text='"' + "а" * 1100 + '"', image='"pic.png"')
    result = load_plan(open_db(tmp_path / "plan.db"), config)
    assert len(result.problems) == 1
    assert "[text]: the Telegram post is" in str(result.problems[0]) and "at most 1024" in str(
        result.problems[0]
    )


def test_one_bad_file_does_not_stop_the_good_ones(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    write_event(tmp_path, "good", at="2099-12-05T18:00:00")
    write_event(tmp_path, "bad", at='"завтра"')
    db = open_db(tmp_path / "plan.db")
    result = load_plan(db, config)
    assert len(result.problems) == 1 and "bad.toml" in str(result.problems[0])
    assert [e["id"] for e in db["events"].rows] == ["central/good"]
    assert db["actions"].count == 2
