"""Giveaway event files and the verifiable draw: parsing, refusals, proofs, verify-draw."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.giveaway import draw
from core.config_file import load_config
from core.errors import EventFileError
from core.model import DRAW, MARK
from scheduler.events import load_event
from scheduler.plan import expand
from tests.conftest import write_config

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
GIVEAWAY = """kind = "giveaway"
library = "central"
title = "Розыгрыш книг"
at = 2026-12-10T12:00:00
draw_at = 2026-12-20T18:00:00
text = "Разыгрываем книги!"
winners = 2
reserve = 1
prizes = ["Книга"]
{extra}
"""


def _write(tmp_path: Path, extra: str = 'conditions = ["member", "comment"]') -> Path:
    path = tmp_path / "events" / "give.toml"
    path.write_text(GIVEAWAY.format(extra=extra), "utf-8")
    return path


def test_sample_giveaways_in_templates_are_valid(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    for language in ("ru", "en"):
        folder = TEMPLATES / "events" / language
        shutil.copy(folder / "giveaway.toml", tmp_path / "events" / "sample.toml")
        shutil.copy(folder / "giveaway.png", tmp_path / "events")
        event = load_event(tmp_path / "events" / "sample.toml", config)
        actions = expand(event, config)
        assert {(a.kind, a.network) for a in actions} == {
            (k, n) for k in ("giveaway", DRAW) for n in ("telegram", "vk")
        }


def test_announcement_publishes_the_rules_and_room_for_the_commitment(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    extra = 'conditions = ["member", "comment"]\ncomment_word = "участвую"\norganiser = "ЦБС"'
    event = load_event(_write(tmp_path, extra + '\nexclude_recent_winners = "30d"'), config)
    actions = {(a.kind, a.network): a for a in expand(event, config)}
    text = actions["giveaway", "vk"].payload["text"]
    for part in ("10 декабря 2026", "20 декабря 2026", "ЦБС", "«участвую»", "Книга", MARK):
        assert part in text
    assert "за последние 30 дн." in text and "паспорт" in text
    spec = actions[DRAW, "telegram"].payload
    assert spec["winners"] == 2 and spec["reserve"] == 1 and spec["exclude_recent_days"] == 30


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            'conditions = ["like", "comment"]',
            "[conditions]: `like` cannot be checked on Telegram: a bot does not see who reacted",
        ),
        (
            'conditions = ["repost", "comment"]',
            "`repost` cannot be checked on Telegram: a bot does not see who forwarded",
        ),
        ('conditions = ["member"]', "on Telegram the entrants are found by `comment`"),
        (
            'conditions = ["member"]\nnetworks = ["vk"]',
            "on VK the entrants are found by `like` or `repost` or `comment`",
        ),
        ('conditions = ["comment", "vote"]', "unknown condition 'vote'"),
        ('conditions = ["like"]\nnetworks = ["vk"]\ncomment_word = "да"', "[comment_word]: needs"),
        ('conditions = ["comment"]\nwiners = 3', "did you mean `winners`?"),
        ('conditions = ["comment"]\ndraw_at = 2026-12-10T12:00:03', "[draw_at]: must be between"),
        ('conditions = ["comment"]\nexclude_recent_winners = "soon"', "[exclude_recent_winners]"),
        ('conditions = ["comment"]\ntell_winners = "phone"', "[tell_winners]: must be one of"),
    ],
)
def test_what_cannot_be_checked_is_refused_in_one_line(
    tmp_path: Path, extra: str, message: str
) -> None:
    config = load_config(write_config(tmp_path, language="en"))  # about the English wording
    if "draw_at" in extra:  # the file's own draw_at is replaced
        text = GIVEAWAY.replace("draw_at = 2026-12-20T18:00:00\n", "").format(extra=extra)
        (tmp_path / "events" / "give.toml").write_text(text, "utf-8")
        path = tmp_path / "events" / "give.toml"
    else:
        path = _write(tmp_path, extra)
    with pytest.raises(EventFileError) as caught:
        load_event(path, config)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_vk_like_and_repost_conditions_are_accepted(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    extra = 'conditions = ["member", "like", "repost"]\nnetworks = ["vk"]'
    event = load_event(_write(tmp_path, extra), config)
    assert event.giveaway.conditions == ("member", "like", "repost")


PEOPLE = [hashlib.sha256(str(n).encode()).hexdigest()[:16] for n in range(150)]


def test_the_draw_is_reproducible_and_without_repeats() -> None:
    seed = bytes(range(32))
    picked = draw.draw(seed, PEOPLE, 10)
    assert picked == draw.draw(seed, list(reversed(PEOPLE)), 10)  # the order given is irrelevant
    assert len(set(picked)) == 10 and set(picked) <= set(PEOPLE)
    assert draw.draw(seed, PEOPLE, 500) == draw.draw(seed, PEOPLE, 500)[:150]
    assert sorted(draw.draw(seed, PEOPLE, 500)) == sorted(PEOPLE)
    assert draw.draw(seed, [], 3) == []
    assert draw.draw(bytes(32), PEOPLE, 10) != picked


def test_the_draw_is_uniform_enough() -> None:
    """Over many seeds each of 7 people wins about as often (rejection, no modulo bias)."""
    people = PEOPLE[:7]
    wins = dict.fromkeys(people, 0)
    for n in range(7000):
        wins[draw.draw(n.to_bytes(32, "big"), people, 1)[0]] += 1
    assert all(850 < count < 1150 for count in wins.values()), wins


def _proof(tmp_path: Path, **change) -> Path:
    proof = draw.make_proof(bytes(range(32)), PEOPLE, 3, 2, event="central/give", network="vk")
    proof.update(change)
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof), "utf-8")
    return path


def test_verify_draw_recomputes_a_proof_alone(tmp_path: Path) -> None:
    path = _proof(tmp_path)
    proof = json.loads(path.read_text("utf-8"))
    assert proof["commitment"] == hashlib.sha256(bytes(range(32))).hexdigest()
    assert len(proof["winners"]) == 3 and len(proof["reserves"]) == 2
    result = CliRunner().invoke(main, ["verify-draw", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ВЕРНО: участников 150, победители ")
    published = proof["commitment"]
    result = CliRunner().invoke(main, ["verify-draw", str(path), "--commitment", published])
    assert result.exit_code == 0


def test_verify_draw_detects_a_changed_list_or_seed(tmp_path: Path) -> None:
    changed_list = _proof(tmp_path, participants=sorted(PEOPLE[1:] + ["ffffffffffffffff"]))
    result = CliRunner().invoke(main, ["verify-draw", str(changed_list)])
    assert result.exit_code == 1
    assert "РАСХОДИТСЯ: the list's SHA-256 is" in result.output
    other_seed = _proof(tmp_path, seed=bytes(32).hex())
    result = CliRunner().invoke(main, ["verify-draw", str(other_seed)])
    assert result.exit_code == 1
    assert "the seed does not match the commitment" in result.output
    good = _proof(tmp_path)
    result = CliRunner().invoke(main, ["verify-draw", str(good), "--commitment", "00" * 32])
    assert result.exit_code == 1 and "published 0000" in result.output
    # The list changed together with its digest and count: the winners then differ.
    people = sorted(PEOPLE[:-1])
    forged = _proof(
        tmp_path,
        participants=people,
        participants_count=len(people),
        participants_sha256=draw.list_digest(people),
    )
    result = CliRunner().invoke(main, ["verify-draw", str(forged)])
    assert result.exit_code == 1 and "recomputed" in result.output


def test_comment_condition_uses_the_word_or_the_quiz_answer_matching() -> None:
    from bot.giveaway.eligibility import comment_counts

    assert comment_counts("Участвую!", "участвую", [])
    assert not comment_counts("Хочу книгу", "участвую", [])
    assert comment_counts("А. С. Пушкин", "", ["Пушкин"])
    assert comment_counts("Пушкн", "", ["Пушкин"])  # a typo is forgiven, as in quizzes
    assert not comment_counts("Пушкин или Лермонтов", "", ["Пушкин"])
    assert comment_counts("🎁", "", [])  # no word asked: any comment counts
