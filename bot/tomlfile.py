"""Reading TOML files so that every error can name its file, line and key.

``tomllib`` reports a line only for syntax errors; for a bad value we find the
line of the key ourselves by walking the file's table headers.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from bot.errors import InputError

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")
_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")

Path_ = tuple[str | int, ...]


def read_toml(path: Path, error: type[InputError]) -> tuple[dict[str, Any], str]:
    """Parse ``path``; raise ``error`` naming the line on bad syntax or encoding."""
    try:
        text = path.read_bytes().decode("utf-8")
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
        raise error(path, "", "TOML syntax: " + _AT_LINE.sub("", message).strip(), line) from None


def line_of(text: str, key_path: Path_) -> int | None:
    """The 1-based line where ``key_path`` (e.g. ("library", 1, "vk", "group_id")) is set."""
    table: list[str | int] = []
    counters: dict[tuple[str | int, ...], int] = {}
    target = tuple(key_path)
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header:
            table = _table_path(header.group(2).split("."), header.group(1) == "[[", counters)
            if tuple(table) == target:
                return number
            continue
        key = _KEY.match(raw)
        if key and (*table, key.group(1)) == target:
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
