"""Reading TOML files so that every error can name its file, line and key.

``tomllib`` reports a line only for syntax errors; for a bad value we find the
line of the key ourselves by walking the file's table headers. A byte order mark
(Notepad writes one) is accepted, and a date-time without seconds, which TOML
refuses, is named as such. ``unknown_key`` words the refusal of a key no one reads;
``key_name`` writes a key as the file must spell it (``""`` for an empty one), and
``shown`` quotes a value, cut short.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.errors import InputError

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(#.*)?$")
_BARE = re.compile(r"^[A-Za-z0-9_\-]+$")
# a bare key, a "quoted" one (with escapes) or a 'literal' one
_KEY = re.compile(r"""^\s*([A-Za-z0-9_\-]+|"(?:[^"\\]|\\.)*"|'[^']*')\s*=""")
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
# 2026-12-05T18:00 (or with a space): TOML wants the seconds too
_NO_SECONDS = re.compile(r"[=\[,]\s*(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2})(?![:\d])")

Path_ = tuple[str | int, ...]


def read_toml(path: Path, error: type[InputError]) -> tuple[dict[str, Any], str]:
    """Parse ``path``; raise ``error`` naming the line on bad syntax or encoding."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM (Notepad) is dropped
    except FileNotFoundError:
        raise error(path, "", "file not found") from None
    except UnicodeDecodeError:
        raise error(path, "", "not UTF-8 text; save the file in UTF-8") from None
    except OSError as exc:
        raise error(path, "", f"cannot read: {exc.strerror}") from None
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
            message = f"a date and time needs seconds; add them: {short.group(1)}:00"
        raise error(path, "", f"TOML syntax: {message}", line) from None


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
        return f"unknown key{where}; did you mean `{near}`?"
    return f"unknown key{where}; known: {', '.join(sorted(set(known)))}"


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
