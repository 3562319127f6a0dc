"""The message catalogue: both languages everywhere, and every key the code asks for exists."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from core import messages

ROOT = Path(__file__).resolve().parent.parent
CODE = [p for d in ("core", "bot", "scheduler", "reports") for p in (ROOT / d).rglob("*.py")]


def _keys_in_code() -> dict[str, str]:
    """Every literal key passed to ``text``/``text_in`` → where it is used."""
    used: dict[str, str] = {}
    for path in CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            position = {"text": 0, "text_in": 1}.get(name or "")
            if position is None or len(node.args) <= position:
                continue
            key = node.args[position]
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and "." in key.value:
                used[key.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return used


def test_every_entry_has_both_languages_with_the_same_fields() -> None:
    entries = messages.catalogue()
    assert entries
    for key, entry in entries.items():
        assert set(entry) == set(messages.LANGUAGES), key
        assert all(entry[code].strip() for code in messages.LANGUAGES), key
        ru, en = (messages.fields_of(entry[code]) for code in ("ru", "en"))
        assert ru == en, (key, ru, en)


def test_every_key_the_code_asks_for_is_in_the_catalogue() -> None:
    used = _keys_in_code()
    assert "alerts.post_not_out" in used  # the walk does find the calls
    missing = {key: where for key, where in used.items() if key not in messages.catalogue()}
    assert missing == {}


def test_the_language_is_russian_until_chosen_and_chosen_per_block() -> None:
    assert messages.text("common.state_sent") == "опубликовано"
    with messages.use_language("en"):
        assert messages.text("common.state_sent") == "published"
        with messages.use_language("xx"):  # unknown: Russian, the product's first language
            assert messages.text("common.state_sent") == "опубликовано"
    assert (
        messages.text_in(
            "en", "alerts.post_not_out", title="T", network="VK", state="s", reason="r"
        )
        == "⚠️ “T” on VK: s. Reason: r"
    )


def test_an_unknown_key_is_a_bug_that_shows() -> None:
    with pytest.raises(KeyError):
        messages.text("common.no_such_entry")
