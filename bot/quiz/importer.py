"""A spreadsheet of questions (.xlsx or .csv) → a quiz event file (``bibliobot import``).

Columns, by their header in the first row (Russian or English, any case, any order), on
the one sheet of a workbook whose first row holds a «Вопрос» (question) column; a workbook
with several such sheets needs the sheet named (``--sheet``):

    №            / number       optional, ignored (for the librarian's own order)
    Вопрос       / question     the question text (required)
    Вариант 1…12 / option1…12   options, left to right, without gaps
    Правильный   / correct      the right option number(s): "2" or "1;3"
    Ответы       / answers      free-text accepted answers, separated by ";"
    Пояснение    / explanation  optional, ≤ 200 characters
    Баллы        / points       optional, 1–100 (default 1)
    Картинка     / image        optional, a PNG/JPEG file next to the spreadsheet

Every question goes through ``scheduler.quiz_events.build_question``, the same rules as a
hand-written event file; every bad row is reported (row and column), and nothing is written
unless all rows are good. A table is read row by row, whatever size it declares, and may
fill at most ``MAX_ROWS`` rows and ``MAX_COLUMNS`` columns.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from core.config import Config
from core.errors import BibliobotError, InputError
from core.matching import normalize
from core.messages import text, use_language
from core.quiz_model import Question
from scheduler.quiz_events import MAX_QUESTIONS, QuestionProblem, QuestionRules, build_question

COLUMNS = {
    "number": ("№", "n", "no", "nr", "номер", "number", "#"),
    "text": ("вопрос", "текст вопроса", "question"),
    "correct": ("правильный", "правильный ответ", "правильные", "верный", "correct"),
    "answers": ("ответы", "ответ", "принимаемые ответы", "answers", "answer", "accepted"),
    "explanation": ("пояснение", "explanation"),
    "points": ("баллы", "балл", "очки", "points"),
    "image": ("картинка", "изображение", "image", "picture"),
}
LABELS = {"text": "Вопрос", "correct": "Правильный", "answers": "Ответы", "options": "Вариант 1"}
_OPTION = re.compile(r"^(?:вариант|option)\s*(\d{1,2})$")
MAX_ROWS, MAX_COLUMNS = 1000, 30  # far more than a quiz needs; a table beyond is refused


class ImportFailed(BibliobotError):
    """The spreadsheet cannot become a quiz; ``problems`` holds one line per bad row or cell."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Sheet:
    """A table as read: the header cells and the data rows with their spreadsheet numbers."""

    name: str  # how problems name the table: the file, and the sheet if the workbook has more
    header_row: int
    headers: list[str]
    rows: list[tuple[int, list[str]]]
    sheet: str = ""  # the workbook's sheet read; "" for a CSV


@dataclass(frozen=True)
class Imported:
    """What ``import_quiz`` wrote: the questions, and the sheet they came from."""

    questions: list[Question]
    sheet: str  # "" for a CSV


Numbered = list[tuple[int, list[str]]]  # the non-empty rows as text, with their numbers


def read_sheet(path: Path, sheet: str | None = None) -> Sheet:
    """The sheet of questions of an .xlsx, or a .csv (UTF-8 with or without BOM, `;` or `,`).

    Of a workbook, the sheet named ``sheet``, else the one whose first row holds a
    question column (a workbook with one filled sheet: that one, whatever its columns).
    """
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        tables = [(title, _numbered(rows)) for title, rows in _xlsx_tables(path)]
        title, numbered = _choose(path.name, tables, sheet)
        name = _sheet_name(path.name, title) if len(tables) > 1 else path.name
    elif suffix == ".csv":
        if sheet is not None:
            raise ImportFailed([text("sheets.csv_no_sheets", file=path.name)])
        title, numbered, name = "", _numbered(_csv_rows(path)), path.name
    else:
        raise ImportFailed([text("sheets.save_as", file=path.name)])
    if not numbered:
        raise ImportFailed([text("sheets.empty", file=name)])
    (header_row, headers), *rows = numbered
    headers = [" ".join(header.split()) for header in headers]  # a line break: a space
    return Sheet(name, header_row, headers, rows, title)


def _sheet_name(file: str, sheet: str) -> str:
    """How problems name one sheet of a workbook: "quiz.xlsx, лист «Вопросы»"."""
    return text("sheets.file_sheet", file=file, sheet=sheet)


def _numbered(table: list[Sequence[object]]) -> Numbered:
    numbered = [(n, [_cell(v) for v in row]) for n, row in enumerate(table, start=1)]
    return [(n, row) for n, row in numbered if any(row)]


def _choose(file: str, tables: list[tuple[str, Numbered]], wanted: str | None):
    """The (title, rows) of the workbook's sheet of questions; ImportFailed naming the sheets."""
    names = ", ".join(f"«{title}»" for title, _ in tables)
    if wanted is not None:
        found = [t for t in tables if t[0].strip().casefold() == wanted.strip().casefold()]
        if not found:
            raise ImportFailed([text("sheets.no_sheet", file=file, sheet=wanted, names=names)])
        return found[0]
    filled = [t for t in tables if t[1]]
    if len(filled) <= 1:
        return filled[0] if filled else tables[0]
    headed = [t for t in filled if "text" in {_header_key(h) for h in t[1][0][1]}]
    asked = [t for t in headed if len(t[1]) > 1]  # a header row with questions under it
    if len(asked) > 1:
        which = ", ".join(f"«{title}»" for title, _ in asked)
        raise ImportFailed([text("sheets.several", file=file, names=which)])
    if asked or headed:
        return (asked or headed)[0]
    raise ImportFailed([text("sheets.no_question_sheet", file=file, names=names)])


def _xlsx_tables(path: Path) -> list[tuple[str, list[Sequence[object]]]]:
    """Every worksheet of a workbook: its title and its rows of values."""
    from openpyxl import load_workbook  # heavy; only `import` needs it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ImportFailed([text("sheets.bad_xlsx", file=path.name, reason=exc)]) from None
    try:
        tables = []
        for sheet in book.worksheets:
            # The declared size may be a million rows by 16384 columns (one stray cell at
            # XFD1048576): forget it and read only the cells there are, row by row.
            sheet.reset_dimensions()
            several = len(book.worksheets) > 1
            where = _sheet_name(path.name, sheet.title) if several else path.name
            tables.append((sheet.title, _bounded(sheet.iter_rows(values_only=True), where)))
        return tables
    finally:
        book.close()


def _bounded(rows: Iterable[Sequence[object]], where: str) -> list[Sequence[object]]:
    """The rows, read one by one; ImportFailed at a filled cell past MAX_ROWS or MAX_COLUMNS."""
    from openpyxl.utils import get_column_letter

    table: list[Sequence[object]] = []
    for number, row in enumerate(rows, start=1):
        filled = [index for index, value in enumerate(row) if _cell(value)]
        if filled and number > MAX_ROWS:
            problem = text(
                "sheets.too_many_rows",
                file=where,
                most=MAX_ROWS,
                row=number,
                questions=MAX_QUESTIONS,
            )
            raise ImportFailed([problem])
        if filled and filled[-1] >= MAX_COLUMNS:
            column = get_column_letter(filled[-1] + 1)
            problem = text(
                "sheets.too_many_columns", file=where, most=MAX_COLUMNS, row=number, column=column
            )
            raise ImportFailed([problem])
        if number <= MAX_ROWS:  # blank rows below are skipped, not kept
            table.append(tuple(row[:MAX_COLUMNS]))
    return table


def _csv_rows(path: Path) -> list[Sequence[object]]:
    raw = path.read_bytes()
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            decoded = raw.decode("utf-16")  # Excel's "Unicode text"
        else:
            try:
                decoded = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                decoded = raw.decode("cp1251")  # Russian Excel's plain "CSV" is Windows-1251
    except UnicodeDecodeError:
        raise ImportFailed([text("sheets.encoding", file=path.name)]) from None
    first = decoded.split("\n", 1)[0]
    # the header line shows the separator: more `;` than `,` in it means `;`
    delimiter = max(";,\t", key=first.count)
    try:
        return _bounded(csv.reader(decoded.splitlines(), delimiter=delimiter), path.name)
    except csv.Error as exc:
        raise ImportFailed([text("sheets.bad_csv", file=path.name, reason=exc)]) from None


def _cell(value: object) -> str:
    """A cell as text: 1799.0 → "1799", None → ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _header_key(header: str) -> str | None:
    """ "Вариант 3" → "option3", "Правильный ответ" → "correct", unknown → None."""
    name = normalize(header)
    found = _OPTION.match(name)
    if found and 1 <= int(found.group(1)) <= 12:
        return f"option{int(found.group(1))}"
    plain = " ".join(header.casefold().replace("ё", "е").split())
    return next((key for key, names in COLUMNS.items() if name in names or plain in names), None)


def questions_from(sheet: Sheet, rules: QuestionRules) -> list[Question]:
    """Every row as a Question; ImportFailed lists every bad row and header at once."""
    columns: dict[str, int] = {}
    problems = []
    for index, header in enumerate(sheet.headers):
        if not header:
            continue
        key = _header_key(header)
        if key is None:
            where = _cell_name(sheet.name, sheet.header_row, header)
            problems.append(text("sheets.unknown_column", where=where))
        elif key in columns:
            where = _cell_name(sheet.name, sheet.header_row, header)
            problems.append(text("sheets.column_twice", where=where))
        else:
            columns[key] = index
    if "text" not in columns:
        where = _cell_name(sheet.name, sheet.header_row, "")
        problems.append(text("sheets.no_question_column", where=where))
    if problems:
        raise ImportFailed(problems)
    questions = []
    for number, (row_number, row) in enumerate(sheet.rows, start=1):
        try:
            questions.append(_question(sheet, columns, row, number, rules))
        except QuestionProblem as problem:
            where = _cell_name(sheet.name, row_number, _column_of(sheet, columns, problem))
            problems.append(f"{where}: {problem.message}")
    if len(sheet.rows) > MAX_QUESTIONS:
        problems.append(
            text("sheets.too_many", file=sheet.name, count=len(sheet.rows), most=MAX_QUESTIONS)
        )
    if rules.mode == "comments" and len(sheet.rows) != 1:
        problems.append(text("sheets.comments_one", file=sheet.name, count=len(sheet.rows)))
    if problems:
        raise ImportFailed(problems)
    return questions


def _cell_name(sheet: str, row: int, header: str) -> str:
    """Where a problem is: "quiz.xlsx, строка 3, столбец «Вопрос»" (no column: the row)."""
    if header:
        return text("sheets.row_column", file=sheet, row=row, column=header)
    return text("sheets.row", file=sheet, row=row)


def _question(
    sheet: Sheet, columns: dict[str, int], row: list[str], number: int, rules: QuestionRules
) -> Question:
    """One row → the raw question table an event file would hold → a checked Question."""

    def cell(key: str) -> str:
        index = columns.get(key)
        return row[index] if index is not None and index < len(row) else ""

    raw: dict[str, object] = {"text": cell("text") or None}
    options = [cell(f"option{n}") for n in range(1, 13)]
    while options and not options[-1]:
        options.pop()
    for position, option in enumerate(options, start=1):
        if not option:
            raise QuestionProblem("options", text("sheets.option_gap", number=position), position)
    if options:
        raw["options"] = options
    if cell("correct"):
        parts = [p for p in re.split(r"[;,.\s/]+", cell("correct")) if p]
        if not parts or not all(p.isdigit() for p in parts):
            raise QuestionProblem("correct", text("sheets.correct_form"))
        numbers = [int(p) for p in parts]
        raw["correct"] = numbers if len(numbers) > 1 else numbers[0]
    if cell("answers"):
        raw["answers"] = [a.strip() for a in re.split(r"[;\n]", cell("answers")) if a.strip()]
    if cell("explanation"):
        raw["explanation"] = cell("explanation")
    if cell("points"):
        if not cell("points").isdigit():
            raise QuestionProblem("points", text("events.whole_from_to", low=1, high=100))
        raw["points"] = int(cell("points"))
    if cell("image"):
        raw["image"] = cell("image")
    return build_question(raw, number, rules)


def _column_of(sheet: Sheet, columns: dict[str, int], problem: QuestionProblem) -> str:
    """The header of the column a problem is in, as the spreadsheet spells it."""
    key = problem.key
    if key == "options" and problem.option:
        key = f"option{problem.option}"
    elif key == "options":
        key = next((k for k in (f"option{n}" for n in range(1, 13)) if k in columns), "options")
    if key in columns:
        return sheet.headers[columns[key]]
    return LABELS.get(key, "")


@dataclass(frozen=True)
class QuizHeader:
    """The event-file keys that do not come from the spreadsheet."""

    library: str
    title: str
    at: datetime
    mode: str = "live"
    text: str = ""
    networks: tuple[str, ...] = ()  # empty: the library's networks
    interval: str = ""  # empty: the mode's default


def _string(value: str) -> str:
    """A TOML basic string; JSON's escapes are TOML's, except DEL which TOML forbids raw."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _strings(values: Sequence[str]) -> str:
    return "[" + ", ".join(_string(v) for v in values) + "]"


def quiz_toml(header: QuizHeader, questions: Sequence[Question], source: str, out_dir: Path) -> str:
    """The event file for ``questions``; images are written relative to ``out_dir``."""
    count = len(questions)
    invite = header.text or text("sheets.invite", title=header.title, count=count)
    lines = [
        "# " + text("sheets.made_from", source=source),
        'kind = "quiz"',
        f"library = {_string(header.library)}",
        f"title = {_string(header.title)}",
        f"at = {header.at.replace(tzinfo=None, microsecond=0).isoformat()}",
        f"mode = {_string(header.mode)}",
    ]
    if header.networks:
        lines.append(f"networks = {_strings(header.networks)}")
    if header.interval:
        lines.append(f"interval = {_string(header.interval)}")
    lines.append(f"text = {_string(invite)}")
    for question in questions:
        lines += ["", "[[questions]]", f"text = {_string(question.text)}"]
        if question.options:
            lines.append(f"options = {_strings(question.options)}")
            numbers = [i + 1 for i in question.correct]
            lines.append(f"correct = {numbers[0] if len(numbers) == 1 else numbers}")
        else:
            lines.append(f"answers = {_strings(question.accepted)}")
        if question.explanation:
            lines.append(f"explanation = {_string(question.explanation)}")
        if question.points != 1:
            lines.append(f"points = {question.points}")
        if question.image is not None:
            relative = Path(os.path.relpath(question.image, out_dir.resolve())).as_posix()
            lines.append(f"image = {_string(relative)}")
    return "\n".join(lines) + "\n"


def import_quiz(
    source: Path,
    out: Path,
    header: QuizHeader,
    config: Config | None = None,
    force: bool = False,
    sheet: str | None = None,
) -> Imported:
    """Read ``source`` (its sheet ``sheet``, else the sheet of questions), write the quiz event
    file ``out``; with a config, load it back first.

    The file is written under a temporary name next to ``out`` and checked with
    ``load_event`` (images resolve from the same folder) before it takes its name.
    Problems are told in the config's language (without one, the language in hand).
    """
    if config is None:
        return _import_quiz(source, out, header, config, force, sheet)
    with use_language(config.language):
        return _import_quiz(source, out, header, config, force, sheet)


def _import_quiz(
    source: Path,
    out: Path,
    header: QuizHeader,
    config: Config | None,
    force: bool,
    sheet: str | None,
) -> Imported:
    from scheduler.events import load_event

    if out.exists() and not force:
        raise ImportFailed([text("sheets.exists", file=out)])
    networks = header.networks
    if not networks and config is not None and config.library(header.library):
        networks = config.library(header.library).networks
    if header.mode == "channel":
        networks = ("telegram",)
    rules = QuestionRules(header.mode, networks or ("telegram", "vk"), source.parent)
    table = read_sheet(source, sheet)
    questions = questions_from(table, rules)
    written = quiz_toml(header, questions, source.name, out.parent)
    check = out.with_name(out.stem + ".check.toml")
    check.write_text(written, encoding="utf-8")
    try:
        if config is not None:
            load_event(check, config)
        else:
            tomllib.loads(written)  # at least well-formed; the library is checked by validate
        os.replace(check, out)
    except InputError as exc:
        raise ImportFailed(
            [f"{out.name}: {exc.message}" + (f" [{exc.field}]" if exc.field else "")]
        ) from None
    finally:
        check.unlink(missing_ok=True)
    return Imported(questions, table.sheet)
