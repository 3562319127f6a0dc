"""The events folder: typos, copies, near-miss names, fake images and past events are told."""

from __future__ import annotations

import itertools
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import check_events, load_plan
from bot.cli import main
from bot.problems import ProblemTeller
from core.clock import ManualClock
from core.config_file import load_config
from core.errors import EventFileError, Problems
from core.storage import open_db
from scheduler.events import load_event, load_events
from tests.conftest import TG_ENV, VK_COMMUNITY_ENV, VK_USER_ENV, write_config, write_event
from tests.images import png

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
BEFORE = ManualClock(datetime(2026, 12, 1, tzinfo=UTC))  # the fixed dates below are ahead
DUE = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)  # 2026-12-05T18:00:00 in Moscow
_PLANS = itertools.count()


def jpeg(width: int, height: int) -> bytes:
    """The head of a baseline JPEG: SOI, a JFIF segment, then the frame (SOF0) with its size."""
    jfif = b"\xff\xe0" + (16).to_bytes(2, "big") + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    frame = b"\xff\xc0" + (17).to_bytes(2, "big") + b"\x08"
    frame += height.to_bytes(2, "big") + width.to_bytes(2, "big") + b"\x03" + bytes(9)
    return b"\xff\xd8" + jfif + frame + b"\xff\xd9"


def problems(tmp_path: Path, clock: ManualClock = BEFORE) -> list[str]:
    """The problems of loading the folder into a new, empty plan."""
    config = load_config(tmp_path / "config.toml")
    db = open_db(tmp_path / f"plan{next(_PLANS)}.db")
    return [str(p) for p in load_plan(db, config, clock).problems]


def with_table(path: Path, table: str) -> Path:
    path.write_text(path.read_text(encoding="utf-8") + table, encoding="utf-8")
    return path


# 1. Unknown keys ---------------------------------------------------------------------


def test_a_misspelt_key_in_an_announcement_is_refused_with_the_nearest_key(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, language="en")
    path = write_event(tmp_path, remind_befor='["1d"]')
    assert problems(tmp_path) == [
        f"{path}:7 [remind_befor]: unknown key in an announcement; did you mean `remind_before`?"
    ]


def test_a_misspelt_close_at_in_a_poll_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    poll = {"kind": '"poll"', "question": '"Что читаем?"', "options": '["А", "Б"]'}
    path = write_event(tmp_path, **poll, close="2026-12-06T18:00:00")
    assert problems(tmp_path) == [
        f"{path}:9 [close]: unknown key in a poll; did you mean `close_at`?"
    ]


def test_unknown_keys_in_sub_tables_are_refused(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    repeat = with_table(
        write_event(tmp_path, "a"), '[repeat]\nevery = "week"\nuntill = 2027-01-01\n'
    )
    network = with_table(write_event(tmp_path, "b"), '[text_by_network]\nvkk = "Для ВК"\n')
    inline = write_event(tmp_path, "c", text_by_network='{ telegam = "Для TG" }')
    below = with_table(
        write_event(tmp_path, "d"), '[text_by_network]\nvk = "Для ВК"\nremind_before = ["1d"]\n'
    )
    assert problems(tmp_path) == [
        f"{repeat}:9 [repeat.untill]: unknown key in [repeat]; did you mean `until`?",
        f"{network}:8 [text_by_network.vkk]: unknown network 'vkk'; did you mean `vk`?",
        f"{inline}:7 [text_by_network.telegam]: unknown network 'telegam'; "
        "did you mean `telegram`?",
        f"{below}:9 [text_by_network.remind_before]: unknown key in [text_by_network]; "
        "`remind_before` belongs above the [text_by_network] line "
        "(keys below a [table] header belong to that table)",
    ]


def test_unknown_keys_in_a_quiz_name_the_nearest_key(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    head = (
        'kind = "quiz"\nlibrary = "central"\ntitle = "Викторина"\ntext = "Начинаем!"\n'
        'at = 2026-12-05T18:00:00\nmode = "live"\n'
    )
    question = '\n[[questions]]\ntext = "Кто?"\nanswers = ["Пушкин"]\n'
    cases = {
        "winers = 3\n" + question: (":7 [winers]", "did you mean `winners`?"),
        question + 'explanaton = "Да"\n': (":11 [questions[1].explanaton]", "`explanation`?"),
        question + "winners = 3\n": (
            ":11 [questions[1].winners]",
            "`winners` belongs above the first [[questions]] line",
        ),
    }
    for body, (where, message) in cases.items():
        path = tmp_path / "events" / "quiz.toml"
        path.write_text(head + body, encoding="utf-8")
        with pytest.raises(EventFileError) as caught:
            load_event(path, config)
        assert str(caught.value).startswith(f"{path}{where}: unknown key")
        assert message in str(caught.value)


def test_a_misspelt_config_key_names_the_nearest_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[library]]\nid = "a"\nname = "N"\ntimezon = "UTC"\n', encoding="utf-8")
    with pytest.raises(Problems) as caught:
        load_config(path)
    assert (
        f"{path}:4 [library[a].timezon]: неизвестный ключ; может быть, имелся в виду `timezone`?"
        in [str(p) for p in caught.value.problems]
    )


# 2. The same event in two files ------------------------------------------------------


def test_a_copied_event_file_is_refused_and_the_first_still_loads(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    first = write_event(tmp_path, "club")
    copy = tmp_path / "events" / "copy-of-club.toml"
    shutil.copy(first, copy)
    db = open_db(tmp_path / "plan.db")
    result = load_plan(db, load_config(tmp_path / "config.toml"), BEFORE)
    assert [str(p) for p in result.problems] == [
        f"{copy}: the same event as club.toml (library, kind, title and `at`): "
        "it would be posted twice; delete one of the two files"
    ]
    assert [e["id"] for e in db["events"].rows] == ["central/club"]


def test_the_planned_one_of_two_copies_stays(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    db = open_db(tmp_path / "plan.db")
    write_event(tmp_path, "club")
    load_plan(db, config, BEFORE)
    earlier = tmp_path / "events" / "0-club.toml"  # sorts before the planned file
    shutil.copy(tmp_path / "events" / "club.toml", earlier)
    assert [p.path for p in load_plan(db, config, BEFORE).problems] == [str(earlier)]
    assert [e["id"] for e in db["events"].rows] == ["central/club"]


def test_the_same_title_at_the_same_time_is_not_a_copy_on_other_networks(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    write_event(tmp_path, "club-tg", networks='["telegram"]')
    write_event(tmp_path, "club-vk", networks='["vk"]', text='"Текст для ВК"')
    write_event(tmp_path, "club-later", at="2026-12-05T19:00:00")
    assert problems(tmp_path) == []


# 3. Names that only look like event files --------------------------------------------


def test_near_miss_names_are_told_and_images_and_tables_are_not(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    folder = tmp_path / "events"
    write_event(tmp_path, "club")
    for name in ("club.toml.txt", "lecture.TOML", "club.toml.bak", ".club.toml.swp"):
        shutil.copy(folder / "club.toml", folder / name)
    (folder / "club.png").write_bytes(png(4, 4))
    (folder / "photo.JPG").write_bytes(jpeg(4, 4))
    for name in ("quiz.xlsx", "quiz.csv", "notes.txt"):
        (folder / name).write_bytes(b"x")
    events, found = load_events(config, now=BEFORE.now())
    assert [e.id for e in events] == ["central/club"]
    assert [str(p) for p in found] == [
        f"{folder / 'club.toml.bak'}: not read: the name must end in .toml "
        "(a copy of club.toml? move it out of the folder)",
        f"{folder / 'club.toml.txt'}: not read: the name must end in .toml "
        "(a copy of club.toml? move it out of the folder)",
        f"{folder / 'lecture.TOML'}: not read: the name must end in .toml "
        "(rename it to lecture.toml)",
    ]


def test_validate_names_a_file_it_does_not_read(tmp_path: Path) -> None:
    config = write_config(tmp_path, language="en")
    write_event(tmp_path, "club", at="2099-12-05T18:00:00")
    (tmp_path / "events" / "club.toml").rename(tmp_path / "events" / "club.toml.txt")
    env = {TG_ENV: "1:x", VK_USER_ENV: "u", VK_COMMUNITY_ENV: "c"}
    result = CliRunner().invoke(main, ["validate", "-c", str(config)], env=env)
    assert result.exit_code == 1
    assert "club.toml.txt: not read: the name must end in .toml (rename it to club.toml)" in (
        result.stderr
    )


# 4. Images that are not images -------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<!DOCTYPE html><html>a saved web page</html>", "is not an image, whatever its name"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "is a WebP file, whatever its name says"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00", "is a HEIC or AVIF file"),
        (b"", "is not an image"),
        (png(4, 4)[:12], "is a damaged PNG image (its size cannot be read)"),
        (jpeg(4, 4)[:24], "is a damaged JPEG image (its size cannot be read)"),
    ],
)
def test_an_image_that_is_not_one_inside_is_refused(
    tmp_path: Path, content: bytes, message: str
) -> None:
    write_config(tmp_path, language="en")
    (tmp_path / "events" / "poster.jpg").write_bytes(content)
    path = write_event(tmp_path, image='"poster.jpg"')
    [line] = problems(tmp_path)
    assert line.startswith(f"{path}:7 [image]: 'poster.jpg' {message}")


def test_png_and_jpeg_images_pass(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    (tmp_path / "events" / "a.png").write_bytes(png(40, 30))
    (tmp_path / "events" / "b.jpeg").write_bytes(jpeg(40, 30))
    shutil.copy(TEMPLATES / "events" / "ru" / "announcement.png", tmp_path / "events" / "c.png")
    for name in ("a.png", "b.jpeg", "c.png"):
        event = load_event(write_event(tmp_path, image=f'"{name}"'), config)
        assert event.image is not None and event.image.name == name


def test_a_quiz_question_image_is_checked_too(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    (tmp_path / "events" / "portrait.png").write_text("not a picture", encoding="utf-8")
    path = tmp_path / "events" / "quiz.toml"
    path.write_text(
        'kind = "quiz"\nlibrary = "central"\ntitle = "В"\ntext = "Начинаем!"\n'
        'at = 2026-12-05T18:00:00\nmode = "live"\n\n[[questions]]\ntext = "Кто это?"\n'
        'answers = ["Пушкин"]\nimage = "portrait.png"\n',
        encoding="utf-8",
    )
    with pytest.raises(EventFileError) as caught:
        load_event(path, config)
    assert str(caught.value).startswith(
        f"{path}:11 [questions[1].image]: 'portrait.png' is not an image"
    )


# 5. Events whose time has passed -----------------------------------------------------


def test_a_passed_one_off_event_is_refused_when_not_planned(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    path = write_event(tmp_path, at="2026-11-20T18:00:00")
    expected = (
        f"{path}:4 [at]: 2026-11-20 18:00 has passed: nothing of this event would be posted; "
        "set a coming time"
    )
    assert problems(tmp_path) == [expected]
    config = load_config(tmp_path / "config.toml")
    planned, found = check_events(config, BEFORE)
    assert planned == [] and [str(p) for p in found] == [expected]


def test_an_event_within_the_misfire_grace_still_loads(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")  # misfire_grace = "15m"
    write_event(tmp_path)
    assert problems(tmp_path, ManualClock(DUE + timedelta(minutes=14))) == []
    assert "has passed" in problems(tmp_path, ManualClock(DUE + timedelta(minutes=16)))[0]


def test_a_planned_event_is_no_mistake_once_its_time_has_passed(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, language="en"))
    db = open_db(config.storage)
    clock = ManualClock(DUE - timedelta(days=1))
    write_event(tmp_path)
    assert load_plan(db, config, clock).problems == []
    clock.current = DUE + timedelta(days=3)  # the refreshes after the event
    assert load_plan(db, config, clock).problems == []
    write_event(tmp_path, text='"Спасибо, что пришли!"')  # even an edit afterwards
    assert load_plan(db, config, clock).problems == []
    teller = ProblemTeller(config, None)  # type: ignore[arg-type]
    assert teller.new(load_plan(db, config, clock).problems) == []  # no admin is told
    # validate, on the machine that has the plan, agrees
    planned, found = check_events(config, clock)
    assert found == [] and [e.id for e, _ in planned] == ["central/club"]


def test_a_series_keeps_its_coming_times_and_is_refused_when_all_have_passed(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, language="en")
    series = with_table(
        write_event(tmp_path, "weekly", at="2026-11-20T18:00:00"),
        '[repeat]\nevery = "week"\ncount = 3\n',  # 20 and 27 November, 4 December
    )
    assert problems(tmp_path, ManualClock(datetime(2026, 11, 30, tzinfo=UTC))) == []
    assert problems(tmp_path, ManualClock(datetime(2026, 12, 5, tzinfo=UTC))) == [
        f"{series}:7 [repeat]: every time has passed, the last on 2026-12-04 18:00: "
        "nothing of this event would be posted; set a coming time"
    ]


# 6. A byte order mark ----------------------------------------------------------------


def test_files_saved_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, language="en")
    config_path.write_bytes(b"\xef\xbb\xbf" + config_path.read_bytes())
    config = load_config(config_path)
    path = write_event(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_event(path, config).title == "Книжный клуб"
    path.write_bytes(path.read_bytes().replace(b'kind = "announcement"', b'kind = "concert"'))
    [problem] = load_plan(open_db(tmp_path / "plan.db"), config, BEFORE).problems
    assert str(problem).startswith(f"{path}:1 [kind]: unknown kind 'concert'")
    assert [library for library, _ in ProblemTeller(config, None).new([problem])] == ["central"]  # type: ignore[arg-type]


# 7. A date and time without seconds --------------------------------------------------


def test_a_time_without_seconds_says_to_add_them(tmp_path: Path) -> None:
    write_config(tmp_path, language="en")
    path = write_event(tmp_path, at="2026-12-05T18:00")
    assert problems(tmp_path) == [
        f"{path}:4: TOML syntax: a date and time needs seconds; add them: 2026-12-05T18:00:00"
    ]
    path = write_event(tmp_path, at='"5 декабря"')
    assert problems(tmp_path) == [
        f"{path}:4 [at]: '5 декабря' is not a date and time like 2026-12-05T18:00:00"
    ]


def test_a_config_time_without_seconds_says_to_add_them(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('storage = "a.db"\nsince = 2026-12-05 18:00\n', encoding="utf-8")
    with pytest.raises(Exception) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}:2: ошибка в записи TOML: у даты и времени должны быть секунды; допишите их: "
        "2026-12-05 18:00:00"
    )


# 8. A numeric chat id in quotes ------------------------------------------------------


def test_a_quoted_numeric_chat_id_is_that_chat(tmp_path: Path) -> None:
    config = load_config(
        write_config(tmp_path, language="en", channel='"-1001234567890", "@central_library"')
    )
    assert config.libraries[0].telegram.chats == ("-1001234567890", "@central_library")


def test_a_username_without_its_at_sign_is_told(tmp_path: Path) -> None:
    path = write_config(tmp_path, language="en", channel='"central_library"')
    with pytest.raises(Problems) as caught:
        load_config(path)
    assert [p.message for p in caught.value.problems] == [
        "'central_library' is neither a numeric chat id (like -1001234567890) nor an "
        "@username; a username starts with @"
    ]
