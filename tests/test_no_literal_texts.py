"""No English text reaches a reader of a Russian library: person-facing strings come from the
catalogue, and the catalogue's Russian is Russian.

Two walks: the code of everything that speaks to a person (CLI, run lines, admin chat,
alerts, doctor) has no literal sentence passed to what prints or sends it; and no Russian
entry of the catalogue holds a run of English words (names, commands, keys and fields in
backquotes, braces or «» are not sentences).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from core import messages

ROOT = Path(__file__).resolve().parent.parent
SPEAKERS = [
    *sorted((ROOT / "bot").glob("cli*.py")),
    ROOT / "bot" / "run_lines.py",
    ROOT / "bot" / "alerts.py",
    ROOT / "bot" / "doctor.py",
    *sorted((ROOT / "bot" / "admin").glob("*.py")),
    ROOT / "bot" / "problems.py",
    ROOT / "bot" / "quiz" / "importer.py",
    ROOT / "bot" / "runlock.py",
    *[ROOT / "core" / f"{name}.py" for name in ("config", "config_file", "tomlfile", "texts")],
    ROOT / "core" / "errors.py",
    *sorted((ROOT / "scheduler").glob("*.py")),
    *sorted((ROOT / "reports").glob("period.py")),
]
# Calls whose text argument a person reads.
SAYING = {"echo", "secho", "_fail", "say", "reply", "answer_press", "send_notice", "notify"}
# ... and the problems a person is told of (config, event files, spreadsheets).
SAYING |= {"fail", "problem", "InputError", "EventFileError", "Problem", "ImportFailed"}
SAYING |= {"NoSuchLibrary", "PeriodError", "AlreadyRunning", "MissingSecret", "problem_at"}
SENTENCE = re.compile(r"[A-Za-zА-Яа-яЁё]{2,}[ ,;:]+[A-Za-zА-Яа-яЁё]{2,}")
NOT_WORDS = re.compile(
    r"bibliobot(?: [a-z-]+)?|`[^`]*`|\{[^}]*\}|«[^»]*»|\"[^\"]*\"|https?://\S+|--?[a-z][a-z-]*|\$\w+"
)
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}\b")
# Names a Russian sentence may hold: networks, formats, products, units.
NAMES = re.compile(
    r"\b(?:Telegram|VK|MAX|Bot API|Long Poll|Callback API|XLSX|HTML|CSV|TOML|JSON|HTTPS?|"
    r"SHA-256|iCalendar|Excel|LibreOffice|Ctrl-C|BotFather|Markdown|PNG|JPEG|ISO|UTC|ID|id|"
    r"allowed_updates|can_post_messages|message_new|wall_reply_new|wall_post_new|"
    r"message_event|like_add|like_remove)\b"
)


def _literal_text(node: ast.AST) -> str:
    """The literal words of a string or f-string node ("" if it is not one)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(
            part.value for part in node.values if isinstance(part, ast.Constant)
        )  # the {fields} between are not words
    return ""


def _called(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_no_literal_sentence_is_said_in_code() -> None:
    found = []
    for path in SPEAKERS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            said = list(node.args) if _called(node) in SAYING else []
            said += [kw.value for kw in node.keywords if kw.arg == "help"]
            for argument in said:
                text = NOT_WORDS.sub(" ", _literal_text(argument))
                if SENTENCE.search(text):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text.strip()!r}")
    assert found == []


def test_the_russian_catalogue_holds_no_english_sentences() -> None:
    found = []
    for key, entry in messages.catalogue().items():
        text = NAMES.sub(" ", NOT_WORDS.sub(" ", entry["ru"]))
        if match := ENGLISH_RUN.search(text):
            found.append(f"{key}: {match.group(0)!r}")
    assert found == []


def test_the_walk_sees_a_literal_sentence(tmp_path: Path) -> None:
    """The walk itself: a literal sentence passed to echo is found, a catalogue call is not."""
    code = 'click.echo("no such library here")\nclick.echo(messages.text("cli.none"))\n'
    tree = ast.parse(code)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _called(n) == "echo"]
    texts = [_literal_text(call.args[0]) for call in calls]
    assert [bool(SENTENCE.search(t)) for t in texts] == [True, False]
    assert ENGLISH_RUN.search("библиотека: the token was rejected")
