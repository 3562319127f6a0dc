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


# -- keys built from a code: each code that can occur has its entry ---------------------


def _label_keys_in_reports() -> tuple[set[str], set[str]]:
    """Every label (``words["x"]``, ``words[k] for k in …``) and formula (``words.formula("x")``)
    the report writers ask for, read from their code."""
    labels: set[str] = set()
    formulas: set[str] = set()

    def strings(node: ast.AST | None, names: dict[str, set[str]]) -> set[str]:
        """The strings a tuple or list literal holds (``*name`` as ``name`` holds them)."""
        if isinstance(node, ast.Name):
            return names.get(node.id, set())
        if not isinstance(node, ast.Tuple | ast.List):
            return set()
        found: set[str] = set()
        for item in node.elts:
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                found.add(item.value)
            elif isinstance(item, ast.Starred):
                found |= strings(item.value, names)
        return found

    def walk(scope: ast.AST, names: dict[str, set[str]]) -> None:
        names = dict(names)
        for node in ast.walk(scope):  # first the lists of keys this scope names
            if isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = names.get(target.id, set()) | strings(node.value, names)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if node.func.attr in ("insert", "append") and isinstance(owner, ast.Name):
                    added = [a.value for a in node.args if isinstance(a, ast.Constant)]
                    names[owner.id] = names.get(owner.id, set()) | {
                        a for a in added if isinstance(a, str)
                    }
        loops: dict[str, set[str]] = {}  # a loop's name → the keys it goes through
        for node in ast.walk(scope):
            if isinstance(node, ast.For | ast.comprehension) and isinstance(node.target, ast.Name):
                loops[node.target.id] = loops.get(node.target.id, set()) | strings(node.iter, names)
        for node in ast.walk(scope):
            if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "words":
                key = node.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    labels.add(key.value)
                elif isinstance(key, ast.Name):
                    assert key.id in loops, f"words[{key.id}]: where do its keys come from?"
                    labels.update(loops[key.id])
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", None) == "formula"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                formulas.add(node.args[0].value)

    for path in sorted((ROOT / "reports").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                module[node.targets[0].id] = strings(node.value, {})
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                walk(node, module)
    return labels, formulas


def test_every_label_and_formula_a_report_asks_for_is_in_the_catalogue() -> None:
    labels, formulas = _label_keys_in_reports()
    # The walk does find the literal, looped and listed keys (the events' columns).
    assert {"na_note", "er_channel", "contest_entries", "note", "time_s", "proof"} <= labels
    assert {"participations", "engagement", "growth"} <= formulas
    entries = messages.catalogue()
    assert sorted(k for k in labels if f"reports.label_{k}" not in entries) == []
    assert sorted(k for k in formulas if f"reports.formula_{k}" not in entries) == []
    from core.networks import registry

    # What readers press under a post is named by the label of the network's likes.
    assert all(f"reports.label_{n.likes}" in entries for n in registry().values() if n.likes)


def test_every_code_a_text_is_built_from_has_its_entry() -> None:
    """Kinds, states, reasons and entry types are looked up as "<part>.<prefix>_<code>"."""
    from bot.quiz.answers import REASONS
    from scheduler.agenda import KINDS, STATES
    from scheduler.contest_events import ENTRY_TYPES
    from scheduler.events import PARSERS

    entries = messages.catalogue()
    expected = [f"reports.kind_{kind}" for kind in PARSERS]  # every kind of event file
    expected += [f"quiz.reply_{reason or 'accepted'}" for reason in REASONS]
    expected += [f"agenda.kind_{kind}" for kind in KINDS]
    expected += [f"agenda.state_{state}" for state in STATES]
    expected += [f"contest.type_{kind}" for kind in ENTRY_TYPES]
    assert [key for key in expected if key not in entries] == []


def test_every_phrase_the_contest_says_is_in_the_catalogue() -> None:
    """``bot.contest.words.say(language, "key")`` asks for "contest.<key>"."""
    said = set()
    for path in sorted((ROOT / "bot" / "contest").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say":
                key = node.args[1] if len(node.args) > 1 else None
                if isinstance(key, ast.Constant):
                    said.add(key.value)
                elif isinstance(key, ast.Name):  # a key chosen in place: "approved" or …
                    said |= {"approved", "rejected"}
    assert {"received", "late", "types", "unknown"} <= said  # the walk does find them
    assert sorted(k for k in said if f"contest.{k}" not in messages.catalogue()) == []


def test_the_words_moved_into_the_catalogue_read_as_before() -> None:
    """A sample of each part, in both languages, as the code gives it."""
    from datetime import datetime

    from bot.contest.words import per_person
    from bot.quiz import answers, buttons
    from core.texts import human_time
    from reports.words import Words
    from scheduler.agenda import kind_word, state_word
    from scheduler.contest_plan import type_word, type_words

    moment = datetime(2026, 12, 5, 18, 0)
    assert human_time(moment) == "5 декабря 2026, суббота, 18:00"
    assert human_time(moment, "en") == "Saturday, 5 December 2026, 18:00"
    assert (buttons.send_label("ru"), buttons.send_label("en")) == ("Готово", "Done")
    assert answers.reply("en", answers.MARKED, marked="1, 3").startswith("Chosen: 1, 3. ")
    assert answers.reply("ru", None) == "Ответ принят!"
    assert (per_person("ru", 1), per_person("en", 3)) == ("одна работа", "up to 3 entries")
    assert type_words("ru", ["photo", "text"]) == "фото, текст"
    assert type_word("en", "sculpture") == "sculpture"  # an unknown one, as written
    assert (kind_word("publish", "ru"), kind_word("contest_poll", "ru")) == (
        "публикация",
        "contest_poll",
    )
    assert (state_word("sending", "en"), state_word("sent", "en")) == ("sending", "sent")
    ru, en = Words("ru"), Words("en")
    assert (ru["six_nk"], en["six_nk"], en["entry_no"]) == ("6-НК", "6-NK", "No. ")
    assert (ru.name("quiz"), en.name("quiz"), ru.name("vk")) == ("викторина", "quiz", "ВКонтакте")
    assert "VK" in en["anonymous"] or "Telegram" in en["anonymous"]  # networks filled in
    assert "{" not in ru.formula("participations") + en.formula("people")
