"""Every word a report prints, in Russian and English, and the formulas it names.

The words are the catalogue's (``core/catalogue/reports.toml``); writers look them up
here (``Words(language)``, once per report), so the XLSX, HTML, CSV and Markdown say the
same thing in the same words.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import NamedTuple

from core import messages
from core.config import ReportRules
from core.networks import network, registry
from reports.model import report_networks

# The words themselves are the catalogue's ``reports`` part (``core/catalogue/reports.toml``):
# labels, formulas and event kinds are its "label_", "formula_" and "kind_" entries, read
# once per report; networks are named as the registry (``core.networks``) titles them.
LABEL, FORMULA, KIND = "label_", "formula_", "kind_"


@functools.cache
def _entries(prefix: str, language: str) -> dict[str, str]:
    """The ``reports.<prefix><code>`` entries in ``language``, by code (read once)."""
    head = f"reports.{prefix}"
    return {
        key.removeprefix(head): entry.get(language) or entry[messages.DEFAULT_LANGUAGE]
        for key, entry in messages.catalogue().items()
        if key.startswith(head)
    }


def _listed(items: list[str], language: str) -> str:
    """Items joined as a sentence lists them: "A", "A и B", "A, B и C"."""
    if len(items) < 2:
        return "".join(items)
    return messages.text_in(
        language, "reports.list_last", rest=", ".join(items[:-1]), last=items[-1]
    )


def _network_phrases(language: str, labels: dict[str, str]) -> dict[str, str]:
    """The parts of labels and formulas that name networks, from what the registry says
    each can show: ``{channels}``, ``{anonymous_on}``, ``{unviewed_on}`` and the like."""
    ordered = [network(name) for name in report_networks()]

    def on(test) -> str:
        return _listed([n.title_on(language) for n in ordered if test(n.capabilities)], language)

    unviewed = [n.title_on(language) for n in ordered if not n.capabilities.views_readable]
    return {
        "networks": _listed([n.title(language) for n in ordered], language),
        "channels": ", ".join(n.title(language) for n in ordered if n.capabilities.channel_rates),
        "anonymous_on": on(lambda c: c.anonymous_reactions),
        "unreposted_on": on(lambda c: not c.reposts_readable),
        "unviewed_on": unviewed[0] if unviewed else "",  # an example: the first is enough
        # In registration order: what readers press under a post on each network.
        "pressed": ", ".join(
            messages.text_in(
                language,
                "reports.pressed_on",
                what=labels[n.likes].lower(),
                on=n.title_on(language),
            )
            for n in registry().values()
            if n.likes
        ),
    }


def _filled(texts: dict[str, str], phrases: dict[str, str]) -> dict[str, str]:
    """``texts`` with the network phrases put in (texts without a brace stay as they are)."""
    return {key: text.format(**phrases) if "{" in text else text for key, text in texts.items()}


class Rule(NamedTuple):
    """A counting rule as the report prints it: ``setting = value`` and its meaning."""

    setting: str
    meaning: str


class Words:
    """Labels, names and formulas in one language."""

    def __init__(self, language: str) -> None:
        self.language = language if language in messages.LANGUAGES else messages.DEFAULT_LANGUAGE
        labels = _entries(LABEL, self.language)
        phrases = _network_phrases(self.language, labels)
        self.labels = _filled(labels, phrases)
        self.formulas = _filled(_entries(FORMULA, self.language), phrases)
        titles = {name: one.title(self.language) for name, one in registry().items()}
        self.names = {**_entries(KIND, self.language), **titles}

    def __getitem__(self, key: str) -> str:
        return self.labels[key]

    def name(self, value: str) -> str:
        """A network or event kind as a reader says it."""
        return self.names.get(value, value)

    def formula(self, key: str) -> str:
        """The formula printed beside a figure ('' when it is a plain count)."""
        return self.formulas.get(key, "")

    def when(self, moment: datetime) -> str:
        """A local date and time as text."""
        return (
            moment.strftime("%d.%m.%Y %H:%M")
            if self.language == "ru"
            else moment.strftime("%Y-%m-%d %H:%M")
        )

    def rules(self, rules: ReportRules) -> list[Rule]:
        """The counting rules as lines of a setting and what it means."""

        code = self.language
        kinds = (
            ", ".join(rules.event_kinds)
            if rules.event_kinds
            else messages.text_in(code, "reports.rule_kinds_all")
        )
        per_person = rules.participation == "per_person_per_event"
        meaning = {
            "views": messages.text_in(code, "reports.rule_views_visits")
            if rules.views_are_visits
            else messages.text_in(code, "reports.rule_views_not_visits"),
            "participation": messages.text_in(code, "reports.rule_per_person")
            if per_person
            else messages.text_in(code, "reports.rule_per_act"),
            "reminders": messages.text_in(code, "reports.rule_reminders_events")
            if rules.count_reminders_as_events
            else messages.text_in(code, "reports.rule_reminders_not_events"),
            "kinds": messages.text_in(code, "reports.rule_kinds", kinds=kinds),
        }
        return [
            Rule(f"views_are_visits = {str(rules.views_are_visits).lower()}", meaning["views"]),
            Rule(f'participation = "{rules.participation}"', meaning["participation"]),
            Rule(
                f"count_reminders_as_events = {str(rules.count_reminders_as_events).lower()}",
                meaning["reminders"],
            ),
            Rule(
                "event_kinds = [" + ", ".join(f'"{k}"' for k in rules.event_kinds) + "]",
                meaning["kinds"],
            ),
        ]


_VOWELS = frozenset("аеёиоуыэюяaeiouy")
_LETTERS = re.compile(r"[^\W\d_]+")
# Consonant pairs that begin a syllable together ("про", "бла"): not split.
_ONSETS = frozenset(a + b for a in "бвгдкптфbcdfgkpt" for b in "рлrl")


def break_points(word: str) -> list[int]:
    """Where a word may be hyphenated: the usual Russian rules (which serve English
    well enough). Each part keeps two letters and a vowel; ь, ъ and й stay with the
    letter before them; a single consonant before a vowel starts its syllable (ли-те),
    two consonants are split (ком-мен) unless they begin a syllable together (про)."""
    core = word.strip("()«»\"'.,:;!?%")
    start = word.find(core)
    lower = core.lower()
    if len(core) < 5 or not _LETTERS.fullmatch(core):
        return []
    kinds = "".join("g" if c in _VOWELS else "x" if c in "ьъй" else "s" for c in lower)
    points = []
    for i in range(2, len(core) - 1):
        left, right = kinds[:i], kinds[i:]
        if "g" not in left or "g" not in right or right[0] in "gx":
            continue
        if (
            left[-1] == "x"  # напоминань-ями
            or (left[-1] == "g" and right[:2] == "sg")  # ли-те
            or (left[-1] == "g" and right[:3] == "ssg" and lower[i : i + 2] in _ONSETS)  # ме-ро-при
            or (left[-2:] == "gs" and right[:2] == "sg" and lower[i - 1 : i + 1] not in _ONSETS)
            or (left[-2:] == "gs" and right[:3] == "ssg")  # об-слу
            or (left[-3:] == "gss" and right[:2] == "sg")  # участ-ни
        ):
            points.append(start + i)
    return points


def hyphenate(text: str, width: int) -> str:
    """``text`` with its words longer than ``width`` letters broken by hyphens and line
    breaks where the rules allow (for a narrow column's header)."""
    words = []
    for word in text.split(" "):
        pieces = []
        for part in re.findall(r"[^-]+-?|-", word):  # a compound breaks at its own hyphen
            lines = []
            while len(part) > width:
                fits = [i for i in break_points(part.rstrip("-")) if i + 1 <= width]
                if not fits:
                    break
                lines.append(part[: fits[-1]] + "-")
                part = part[fits[-1] :]
            pieces.append("\n".join([*lines, part]))
        joined = pieces[0] if pieces else ""
        for piece in pieces[1:]:
            fits = len(joined.rsplit("\n", 1)[-1]) + len(piece.split("\n", 1)[0]) <= width
            joined += piece if fits else "\n" + piece
        words.append(joined)
    return " ".join(words)
