"""Check report files as a reader sees them on paper: ``python -m reports.check_files FILE...``

An XLSX is printed to PDF by LibreOffice headless (``soffice``), each sheet alone (a
copy with the other sheets hidden); an HTML file is printed to PDF by headless Chromium.
The PDFs are then read with poppler's ``pdftotext`` and ``pdfinfo``:

* every page is A4 landscape;
* XLSX: each sheet is one page wide: some page shows every cell of the sheet's widest
  row of text (its table's header); each chart is whole on a page: its title and its
  categories inside the same page's margins (every name of a chart of names; the first
  date of a chart over dates, whose axis may leave some out);
* HTML: every table keeps all its columns: its last header is in the printed text, and
  some page shows all its headers.

Where a program is missing the check says so and is skipped (exit code 0); exit code 1
when a file fails a check or a program that exists cannot print it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

OFFICE = ("soffice", "libreoffice")
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
A4 = (841.9, 595.3)  # points, landscape
_SHEET_TAG = re.compile(r"<sheet\b[^>]*?/>")
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


@dataclass
class Page:
    """One printed page: its size, its words with their boxes, its text in print order."""

    width: float
    height: float
    words: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    text: str = ""

    def body(self, top: float, bottom: float) -> str:
        """The words wholly between the top and bottom margins (not the header, the
        footer, or a drawing's text clipped at the page's edge), normalized."""
        inside = [w for _, y0, _, y1, w in self.words if y0 >= top and y1 <= self.height - bottom]
        return normalized(" ".join(inside))


def find(names: tuple[str, ...]) -> str | None:
    """The first of ``names`` on PATH, or None."""
    return next((found for name in names if (found := shutil.which(name))), None)


def normalized(text: str) -> str:
    """Text as compared: no spaces, no hyphens (a word broken at a line's end reads the
    same as whole), case folded."""
    return re.sub(r"[\s\-\u00ad\u2010\u2011]+", "", text).casefold()


def pages(pdf: Path) -> list[Page]:
    """The pages of a PDF, read with pdftotext."""
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    raw = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    found = []
    for n, (width, height, body) in enumerate(_PAGE.findall(boxes)):
        words = [
            (float(a), float(b), float(c), float(d), _unescape(w))
            for a, b, c, d, w in _WORD.findall(body)
        ]
        found.append(Page(float(width), float(height), words, raw[n] if n < len(raw) else ""))
    return found


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


def _landscape(found: list[Page], what: str) -> list[str]:
    """Problems with the pages' size: each must be A4 landscape."""
    wrong = [
        (n, f"{page.width:.0f}×{page.height:.0f} pt")
        for n, page in enumerate(found, start=1)
        if abs(page.width - A4[0]) > 3 or abs(page.height - A4[1]) > 3
    ]
    if not wrong:
        return []
    sizes = ", ".join(sorted({size for _, size in wrong}))
    return [f"{what}: {len(wrong)} of {len(found)} page(s) are {sizes}, not A4 landscape"]


def _together(texts: list[str], found: list[Page]) -> bool:
    """Whether some page shows all these texts."""
    wanted = [normalized(text) for text in texts if text.strip()]
    return any(all(text in normalized(page.text) for text in wanted) for page in found)


# XLSX ------------------------------------------------------------------------------------


def _alone(book: Path, index: int, target: Path) -> None:
    """A copy of ``book`` where only sheet ``index`` (0-based) is visible (and so printed)."""
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = _only(data.decode("utf-8"), index).encode("utf-8")
            out.writestr(item, data)


def _only(workbook_xml: str, index: int) -> str:
    """workbook.xml with every sheet but one hidden, and that one active."""
    tags = _SHEET_TAG.findall(workbook_xml)
    parts = _SHEET_TAG.split(workbook_xml)
    out = [parts[0]]
    for n, (tag, rest) in enumerate(zip(tags, parts[1:], strict=True)):
        plain = re.sub(r'\s+state="[^"]*"', "", tag)[:-2].rstrip()
        out += [plain + f' state="{"visible" if n == index else "hidden"}"/>', rest]
    xml = "".join(out)
    xml = re.sub(r'activeTab="\d+"', f'activeTab="{index}"', xml)
    return re.sub(r'firstSheet="\d+"', f'firstSheet="{index}"', xml)


def _widest_row(sheet) -> list[str]:
    """The cells of the sheet's widest row of text (among its first rows): a table's
    header, which a page of the table must show whole."""
    best: tuple[int, list[str]] = (0, [])
    for row in sheet.iter_rows(max_row=300):
        cells = [c for c in row if isinstance(c.value, str) and c.value.strip()]
        if len(cells) >= 2 and cells[-1].column > best[0]:
            best = (cells[-1].column, [c.value for c in cells])
    return best[1]


def _chart_texts(chart, book) -> tuple[str, list[str]]:
    """A chart's title and the category labels a whole chart shows: each name, or the
    first date (in the axis' format: a long axis of dates leaves some out)."""
    title = ""
    if chart.title is not None and chart.title.tx is not None and chart.title.tx.rich:
        title = "".join(run.t for paragraph in chart.title.tx.rich.p for run in (paragraph.r or []))
    labels: list[str] = []
    series = chart.series[0] if chart.series else None
    reference = None
    if series is not None and series.cat is not None:
        reference = (
            (series.cat.strRef or series.cat.numRef).f
            if (series.cat.strRef or series.cat.numRef)
            else None
        )
    if reference:
        sheet_name, cells = reference.rsplit("!", 1)
        sheet = book[sheet_name.strip("'").replace("''", "'")]
        axis = chart.x_axis.numFmt
        shape = axis.formatCode if axis is not None and axis.formatCode else "DD.MM.YYYY"
        found = sheet[cells.replace("$", "")]
        rows = found if isinstance(found, tuple) else ((found,),)  # one cell: a Cell
        for row in rows:
            for cell in row if isinstance(row, tuple) else (row,):
                value = cell.value
                if isinstance(value, datetime | date):
                    if not labels:
                        labels.append(value.strftime(_strftime(shape)))
                elif value is not None:
                    labels.append(str(value))
    return title, labels


def _strftime(number_format: str) -> str:
    """A spreadsheet's date format as strftime's (the formats reports use)."""
    out = number_format.upper().replace("YYYY", "%Y").replace("DD", "%d").replace("MM", "%m")
    return out.replace("HH", "%H").replace("%m:%m", "%H:%M")


def check_xlsx(path: Path, office: str, folder: Path) -> list[str]:
    """Print each sheet with LibreOffice and read the pages; the problems found."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    copies = []
    for index in range(len(book.worksheets)):
        copy = folder / f"sheet{index + 1:03d}.xlsx"
        _alone(path, index, copy)
        copies.append(copy)
    profile = (folder / "profile").resolve().as_uri()
    done = subprocess.run(
        [office, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(folder), *map(str, copies)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    problems: list[str] = []
    for index, sheet in enumerate(book.worksheets):
        what = f"sheet {sheet.title!r}"
        pdf = folder / f"sheet{index + 1:03d}.pdf"
        if not pdf.exists() or pdf.stat().st_size == 0:
            reason = done.stderr.strip() or done.stdout.strip()
            return [f"LibreOffice could not print {what}: {reason[-300:]}"]
        found = pages(pdf)
        problems += _landscape(found, what)
        margins = sheet.page_margins
        top, bottom = margins.top * 72 - 2, margins.bottom * 72 - 2
        widest = _widest_row(sheet)
        if widest and not _together(widest, found):
            problems.append(
                f"{what}: no page shows its whole row «{widest[0]}» … «{widest[-1]}»: "
                "the sheet is wider than a page"
            )
        for chart in sheet._charts:
            title, labels = _chart_texts(chart, book)
            wanted = [normalized(text) for text in (title, *labels) if text]
            if wanted and not any(
                all(text in page.body(top, bottom) for text in wanted) for page in found
            ):
                problems.append(
                    f"{what}: the chart «{title}» is not whole on any page "
                    "(its title and its categories are not printed together)"
                )
    return problems


# HTML ------------------------------------------------------------------------------------


class _Headers(HTMLParser):
    """The header cells of each table of an HTML file."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "th" and self.tables:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "th" and self._cell is not None:
            self.tables[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def print_html(path: Path, browser: str, pdf: Path) -> subprocess.CompletedProcess:
    """Print an HTML file to PDF with headless Chromium (the page's own print setup)."""
    return subprocess.run(
        [browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", path.resolve().as_uri()],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def check_html(path: Path, browser: str, folder: Path) -> list[str]:
    """Print with Chromium and read the pages; the problems found."""
    pdf = folder / (path.stem + "-html.pdf")
    done = print_html(path, browser, pdf)
    if done.returncode or not pdf.exists() or pdf.stat().st_size == 0:
        return [f"Chromium could not print it: {done.stderr.strip()[-300:]}"]
    found = pages(pdf)
    problems = _landscape(found, "the print")
    printed = normalized(" ".join(page.text for page in found))
    parser = _Headers()
    parser.feed(path.read_text(encoding="utf-8"))
    for n, headers in enumerate(parser.tables, start=1):
        named = f"table {n} ({' | '.join(headers[:3])} …)".replace("\u00ad", "")
        if headers and normalized(headers[-1]) not in printed:
            problems.append(
                f"{named}: its last column «{headers[-1]}» is not on the printed pages "
                "(cut at the page's edge)".replace("\u00ad", "")
            )
        elif headers and not _together(headers, found):
            problems.append(f"{named}: no page shows all its columns")
    return problems


# The command -----------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    """Check each file; print one line per file; exit 1 if a check failed."""
    if not argv:
        print("usage: python -m reports.check_files REPORT.xlsx REPORT.html ...")
        return 2
    office, browser, poppler = find(OFFICE), find(BROWSERS), find(("pdftotext",))
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for n, name in enumerate(argv):
            path = Path(name)
            if not path.exists():
                print(f"{path}: no such file")
                failed = True
                continue
            suffix = path.suffix.lower()
            program, check, label = {
                ".xlsx": (office, check_xlsx, "LibreOffice"),
                ".html": (browser, check_html, "Chromium"),
            }.get(suffix, (None, None, ""))
            if check is None:
                print(f"{path}: not checked (only .xlsx and .html are)")
                continue
            if program is None or poppler is None:
                missing = label if program is None else "pdftotext (poppler-utils)"
                print(f"{path}: skipped, {missing} is not installed")
                continue
            folder = Path(tmp) / str(n)
            folder.mkdir()
            problems = check(path, program, folder)
            if problems:
                failed = True
                print(f"{path}: FAILED ({label})")
                for problem in problems:
                    print(f"  - {problem}")
            else:
                print(f"{path}: OK ({label}: every page A4 landscape, nothing cut)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
