"""Reading TOML files so that every error can name its file, line and key.

``tomllib`` reports a line only for syntax errors; for a bad value we find the
line of the key ourselves by walking the file's table headers. A byte order mark
(Notepad writes one) is accepted, and a date-time without seconds, which TOML
refuses, is named as such. ``unknown_key`` words the refusal of a key no one reads;
``key_name`` writes a key as the file must spell it (``""`` for an empty one), and
``shown`` quotes a value, cut short. Problem sentences come from the message catalogue
(``core/catalogue/config.toml``), in the language chosen for the work in hand; ``or_join``,
``plural`` and ``say_span`` build the phrases inside them in that language too.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import tomllib
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from core import messages
from core.errors import InputError

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(#.*)?$")
_BARE = re.compile(r"^[A-Za-z0-9_\-]+$")
# a bare key, a "quoted" one (with escapes) or a 'literal' one
_KEY = re.compile(r"""^\s*([A-Za-z0-9_\-]+|"(?:[^"\\]|\\.)*"|'[^']*')\s*=""")
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
# 2026-12-05T18:00 (or with a space): TOML wants the seconds too
_NO_SECONDS = re.compile(r"[=\[,]\s*(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2})(?![:\d])")

Path_ = tuple[str | int, ...]
# What tomllib says (English, fixed texts) → the catalogue entry that says it to a librarian;
# a text not listed here (a newer Python's) is shown as tomllib words it.
_TOML_SAID = {
    "Invalid value": "config.toml_invalid_value",
    "Invalid statement": "config.toml_invalid_statement",
    "Expected newline or end of document after a statement": "config.toml_one_per_line",
    "Expected '=' after a key in a key/value pair": "config.toml_expected_equals",
    "Invalid initial character for a key part": "config.toml_bad_key",
    "Cannot overwrite a value": "config.toml_overwrite",
    "Unterminated string": "config.toml_unterminated",
    "Unclosed array": "config.toml_unclosed_array",
    "Unclosed inline table": "config.toml_unclosed_table",
    "Invalid date or datetime": "config.toml_bad_date",
    "Expected ']' at the end of a table declaration": "config.toml_table_bracket",
    "Expected ']]' at the end of an array declaration": "config.toml_array_bracket",
}
_AT_END = "(at end of document)"
_TOML_TWICE = re.compile(r"^Cannot declare (.+) twice$")
_TOML_CHARACTER = re.compile(r"^(?:Illegal|Found invalid) character (.+)$")


def read_toml(path: Path, error: type[InputError]) -> tuple[dict[str, Any], str]:
    """Parse ``path``; raise ``error`` naming the line on bad syntax or encoding."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM (Notepad) is dropped
    except FileNotFoundError:
        raise error(path, "", messages.text("config.file_not_found")) from None
    except UnicodeDecodeError:
        raise error(path, "", messages.text("config.not_utf8")) from None
    except OSError as exc:
        raise error(path, "", messages.text("config.cannot_read", reason=exc.strerror)) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _AT_LINE.search(message)
        line = int(found.group(1)) if found else None
        message = _AT_LINE.sub("", message).strip()
        lines = text.split("\n")  # as tomllib counts them
        short = _NO_SECONDS.search(lines[line - 1]) if line and line <= len(lines) else None
        if short:
            message = messages.text("config.needs_seconds", value=f"{short.group(1)}:00")
        else:
            message = _toml_said(message)
        raise error(path, "", messages.text("config.toml_syntax", reason=message), line) from None


def _toml_said(message: str) -> str:
    """tomllib's reason in the language in hand, where the catalogue has it."""
    if message.endswith(_AT_END):  # the file ends where a value should be
        said = _toml_said(message.removesuffix(_AT_END).strip())
        return f"{said} ({messages.text('config.toml_at_end')})"
    if message in _TOML_SAID:
        return messages.text(_TOML_SAID[message])
    if twice := _TOML_TWICE.match(message):
        try:  # tomllib names the key as a tuple: ('library', 'vk') → library.vk
            key = ".".join(map(str, ast.literal_eval(twice.group(1))))
        except (ValueError, SyntaxError, TypeError):
            key = twice.group(1)
        return messages.text("config.toml_twice", key=key)
    if character := _TOML_CHARACTER.match(message):
        return messages.text("config.toml_character", character=character.group(1))
    return message


def key_name(key: str) -> str:
    """A key as a file spells it: ``remind_before``, or quoted: ``""``, ``"my key"``."""
    return key if _BARE.match(key) else json.dumps(key, ensure_ascii=False)


def shown(value: object, limit: int = 40) -> str:
    """A value as a message quotes it (its repr), cut short: "99999…" is enough to find it."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unquoted(raw: str) -> str:
    """The key a bare, "quoted" or 'literal' key in the file stands for."""
    if raw[0] not in "\"'":
        return raw
    try:
        return tomllib.loads(f"k = {raw}")["k"]
    except tomllib.TOMLDecodeError:
        return raw


def nearest(word: str, known: Iterable[str]) -> str | None:
    """The known word a typo most likely meant (``remind_befor`` → ``remind_before``)."""
    near = difflib.get_close_matches(word.lower(), sorted(set(known)), n=1, cutoff=0.6)
    return near[0] if near else None


def unknown_key(key: str, known: Iterable[str], where: str = "") -> str:
    """The message for a key no one reads: the nearest known key, else all of them."""
    near = nearest(key, known)
    if near:
        return messages.text("config.unknown_key_near", where=where, near=near)
    return messages.text("config.unknown_key", where=where, known=", ".join(sorted(set(known))))


def or_join(items: Iterable[str]) -> str:
    """Choices as a sentence says them: "a or b or c" / "a или b или c"."""
    return f" {messages.text('config.or')} ".join(items)


def plural(count: int, key: str) -> str:
    """``count`` with the word of entry ``key`` ("one|few|many" in Russian, "one|many" in
    English): 1 день, 3 дня, 5 дней; 1 day, 5 days."""
    forms = messages.text(key).split("|")
    if len(forms) < 3:  # English: one and the rest
        word = forms[0] if count == 1 else forms[-1]
    elif count % 10 == 1 and count % 100 != 11:
        word = forms[0]
    elif 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        word = forms[1]
    else:
        word = forms[2]
    return f"{count} {word}"


def say_span(span: timedelta) -> str:
    """How a bound reads in a message: "366 дней", "1 day", "10 минут", "1 second"."""
    seconds = int(span.total_seconds())
    units = (
        ("config.unit_day", 86400),
        ("config.unit_hour", 3600),
        ("config.unit_minute", 60),
        ("config.unit_second", 1),
    )
    for unit, size in units:
        if seconds % size == 0 and seconds >= size:
            return plural(seconds // size, unit)
    return plural(0, "config.unit_second")


def line_of(text: str, key_path: Path_) -> int | None:
    """The 1-based line where ``key_path`` (e.g. ("library", 1, "vk", "group_id")) is set."""
    table: list[str | int] = []
    counters: dict[tuple[str | int, ...], int] = {}
    target = tuple(key_path)
    text = text.removeprefix("\ufeff")  # read as plain UTF-8, a BOM hides the first key
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header:
            table = _table_path(header.group(2).split("."), header.group(1) == "[[", counters)
            if tuple(table) == target:
                return number
            continue
        key = _KEY.match(raw)
        if key and (*table, _unquoted(key.group(1))) == target:
            return number
    return None


def _table_path(names: list[str], is_array: bool, counters: dict) -> list[str | int]:
    """Resolve a [a.b] / [[a.b]] header to a path with array indices filled in."""
    path: list[str | int] = []
    for position, name in enumerate(names):
        path.append(name)
        prefix = tuple(path)
        last = position == len(names) - 1
        if last and is_array:
            counters[prefix] = counters.get(prefix, -1) + 1
            path.append(counters[prefix])
        elif prefix in counters:
            path.append(counters[prefix])
    return path


def dotted(key_path: Path_) -> str:
    """``("library", 1, "vk", "group_id")`` → ``library[1].vk.group_id``."""
    out = ""
    for part in key_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
