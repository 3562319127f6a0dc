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
    *sorted((ROOT / "bot").glob("demo*.py")),
    *sorted((ROOT / "bot" / "contest").glob("*.py")),
    *sorted((ROOT / "bot" / "quiz").glob("*.py")),
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


# Where a module may still hold its own {"ru": …, "en": …} words: the registry's data (a
# network's titles), and the MAX intake's vote replies until that file is free to edit
# (their entries are ready: "quiz.vote_counted" …); named by the variable, so no other
# dict slips in beside them.
OWN_WORDS_ALLOWED = {("core/networks.py", "*")}


def _wordy(node: ast.AST | None) -> bool:
    """A string, or a dict (or tuple) of strings: words a person reads, not structure."""
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return isinstance(node, ast.JoinedStr) or isinstance(node.value, str)
    if isinstance(node, ast.BinOp):  # "…" + "…", "…" % x
        return _wordy(node.left) or _wordy(node.right)
    if isinstance(node, ast.Dict):  # empty: a language with no words of its own yet
        return all(_wordy(v) for v in node.values)
    if isinstance(node, ast.Tuple):
        return bool(node.elts) and all(_wordy(v) for v in node.elts)
    return False


def _bilingual_dicts(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, variable) of each dict literal keyed by both "ru" and "en" with words in them."""
    owners = {}
    for node in ast.walk(tree):  # the variable a dict is assigned to, for the allowed list
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            for inner in ast.walk(node.value):
                owners.setdefault(id(inner), getattr(target, "id", "?"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
        languages = [v for k, v in zip(node.keys, node.values, strict=True) if k is not None
                     and isinstance(k, ast.Constant) and k.value in messages.LANGUAGES]  # fmt: skip
        if set(messages.LANGUAGES) <= keys and all(_wordy(v) for v in languages):
            found.append((node.lineno, owners.get(id(node), "?")))
    return found


def test_no_module_keeps_its_own_words_in_both_languages() -> None:
    """Every text a person reads is in the catalogue: no module keeps a {"ru", "en"} dict."""
    found = []
    for part in ("bot", "scheduler", "reports", "core"):
        for path in sorted((ROOT / part).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            for line, owner in _bilingual_dicts(ast.parse(path.read_text(encoding="utf-8"))):
                if (name, "*") not in OWN_WORDS_ALLOWED and (name, owner) not in OWN_WORDS_ALLOWED:
                    found.append(f"{name}:{line} {owner}")
    assert found == []


def test_the_walk_sees_words_kept_in_both_languages() -> None:
    """The walk itself: words by language are found, flat or nested, and data is not."""
    code = (
        'A = {"ru": "Готово", "en": "Done"}\n'
        'B = {"ru": {"x": "вопрос", "y": "итоги " + "дня"}, "en": {}}\n'
        'C = {"ru": ("голос", "голоса"), "en": ("vote", "votes")}\n'
        'D = {"ru": 1, "en": 2}\n'  # numbers by language are not words
        'E = {"ru": "a"}\n'  # one language is not a translation table
    )
    assert _bilingual_dicts(ast.parse(code)) == [(1, "A"), (2, "B"), (3, "C")]
