"""Every text a person reads, in Russian and in English, from one catalogue.

The catalogue is ``core/catalogue/<part>.toml``, one file per part of the product (``cli``,
``problems``, ``admin``, ``doctor``, ``alerts`` …); each entry holds both languages and
named fields::

    [planned]
    ru = "Запланировано действий: {count}"
    en = "Actions planned: {count}"

Code asks for ``text("cli.planned", count=3)``: the key is ``<part>.<entry>``. The
language is the config's ``language``; before a config is read (or when it cannot be),
Russian. ``use_language`` sets it for the work in hand (a CLI command, one library's
notice); ``text_in`` names it outright. A key missing from the catalogue is a bug, not a
reader's problem: it raises ``KeyError`` (a test walks the code for every key it uses).

Why a catalogue with keys rather than English texts translated on the fly: both languages
stand side by side where a librarian or translator reads them, and a test can check that
each entry has both, with the same fields.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from string import Formatter

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"  # before any config is read: the product is Russian first

_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@functools.cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every entry: ``"<part>.<entry>"`` → ``{"ru": ..., "en": ...}``."""
    entries: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOGUE_DIR.glob("*.toml")):
        with path.open("rb") as handle:
            part = tomllib.load(handle)
        for name, languages in part.items():
            entries[f"{path.stem}.{name}"] = languages
    return entries


def language() -> str:
    """The language texts are given in now."""
    return _language.get()


def set_language(code: str) -> None:
    """Give texts in ``code`` from now on (in this context); unknown codes keep Russian."""
    _language.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)


@contextmanager
def use_language(code: str) -> Iterator[None]:
    """Give texts in ``code`` inside the block."""
    token = _language.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def text_in(code: str, key: str, /, **fields: object) -> str:
    """The entry ``key`` in language ``code``, its ``{fields}`` filled in."""
    entry = catalogue()[key]
    pattern = entry.get(code) or entry[DEFAULT_LANGUAGE]
    return pattern.format(**fields) if fields else pattern


def text(key: str, /, **fields: object) -> str:
    """The entry ``key`` in the current language, its ``{fields}`` filled in."""
    return text_in(_language.get(), key, **fields)


def fields_of(pattern: str) -> set[str]:
    """The named fields a pattern uses (for the catalogue's own test)."""
    return {
        name.split(".")[0].split("[")[0] for _, name, _, _ in Formatter().parse(pattern) if name
    }
