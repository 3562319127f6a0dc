"""Fast worksheet rows: the ``<sheetData>`` of a sheet written as text.

openpyxl without lxml spends about 20 µs a cell, so a year of a network (100,000 rows)
would take a minute. openpyxl still builds the workbook (styles, column widths, charts,
print setup); this module writes the bulky part, the cells, into the saved file: numbers
as numbers (whole ones as counts with thousands separators, fractions with one or two
decimals, rates in per cent with one), dates as date serials with the workbook's own date
styles, text as inline strings that wrap in their column.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time
from io import BytesIO

from openpyxl.utils import get_column_letter

from reports.tables import Percent, Table

_EPOCH = datetime(1899, 12, 30)
_EPOCH_DAY = _EPOCH.toordinal()
_OPEN = '<c r="'
# One translate both escapes XML and drops what XML 1.0 refuses (most control characters;
# a stray one would make the file unreadable).
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\ufffe": None,
        "\uffff": None,
        **{chr(c): None for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))},
    }
)
_CELL_STYLE = re.compile(r'<c r="([A-Z]+)1" s="(\d+)"')
_SHEET_DATA = re.compile(r"<sheetData\s*/>|<sheetData>.*?</sheetData>", re.S)
_DIMENSION = re.compile(r'<dimension ref="[^"]*"\s*/>')

# The styles a sheet's cells use; the probe row of each sheet registers them in this order.
# "text": a table's text (wraps in its column); "line": a line of text above or below the
# tables (never wraps); "title": the sheet's title; "caption": a table's title.
STYLE_KINDS = (
    "text",
    "line",
    "title",
    "caption",
    "header",
    "int",
    "num",
    "pct",
    "datetime",
    "date",
    "time",
    "na",
)


# A row's height is written with it (neither Excel nor every LibreOffice fits a row to its
# wrapped text on opening): 15 pt a line of 11 pt text.
LINE_POINTS = 15
_NEVER = 1 << 30  # the characters after which a cell of figures would wrap: never


def text(value: str) -> str:
    """Text made safe for XML."""
    if value.isalnum():  # most cells: nothing to escape
        return value
    return value.translate(_ESCAPES)


def characters(width: float, bold: bool = False) -> int:
    """About how many characters of text a column ``width`` wide holds on a line."""
    return max(int(width * (1.02 if bold else 1.12)) - 1, 1)


def lines(value: str, chars: int) -> int:
    """How many lines ``value`` takes wrapped at spaces in ``chars`` characters (a word
    longer than that is broken inside, as a spreadsheet does)."""
    if " " not in value and "\n" not in value:  # one word (a link): broken where it must
        return -(-len(value) // chars)
    count = 0
    for paragraph in value.split("\n"):
        count += 1
        used = 0
        for word in paragraph.split():
            n = len(word)
            if used and used + 1 + n <= chars:
                used += 1 + n
                continue
            if used:
                count += 1
            while n > chars:
                count += 1
                n -= chars
            used = n
    return count


class Rows:
    """Accumulates one sheet's rows as XML; ``styles`` maps a kind to its style id,
    ``widths`` each column's width (0-based), so that rows grow to their wrapped text."""

    def __init__(self, styles: dict[str, int], na: str, widths: dict[int, float] | None = None):
        self.styles = styles
        self.parts: list[str] = []
        self.count = 0
        self.width = 1
        self.na = text(na)
        self.widths = widths or {}
        self._letters = [get_column_letter(i + 1) for i in range(60)]
        self._escaped: dict[str, str] = {}

    def line(self, value: str, kind: str = "line") -> None:
        """A row with one text cell (a title or a note)."""
        self.count += 1
        n, style = self.count, self.styles[kind]
        self.parts.append(
            f'<row r="{n}"><c r="A{n}" s="{style}" t="inlineStr">'
            f'<is><t xml:space="preserve">{text(value)}</t></is></c></row>'
        )

    def blank(self) -> None:
        """An empty row between blocks."""
        self.count += 1

    def table(self, table: Table, place: list[int] | None = None) -> None:
        """The table's title, header row and data rows.

        ``place``: the sheet column (0-based) of each of the table's columns, so that a
        short table under a wider one can put its columns under those that mean the same;
        the header band runs across the columns left out.
        """
        place = place or list(range(len(table.headers)))
        width = max(place) + 1
        self.line(table.title, "caption")
        headers = [""] * width
        for column, header in zip(place, table.headers, strict=True):
            headers[column] = header
        self.count += 1
        style, n = self.styles["header"], self.count
        tall = max(
            lines(header, characters(self.widths.get(i, 8.43), bold=True))
            for i, header in enumerate(headers)
        )
        self.parts.append(
            _row_tag(n, tall)
            + "".join(
                f'<c r="{self._letters[i]}{n}" s="{style}" t="inlineStr">'
                f'<is><t xml:space="preserve">{text(header)}</t></is></c>'
                for i, header in enumerate(headers)
            )
            + "</row>"
        )
        columns = self.columns(table.kinds, place)
        for row in table.rows:
            self.cells(row, columns)
        self.width = max(self.width, width)

    def columns(self, kinds: list[str], place: list[int] | None = None) -> list[tuple[str, ...]]:
        """Each column's fixed pieces of markup: made once a table, not once a cell.

        (cell opening with the column letter, then what follows the row number for
        text, a whole number, a date and time, a date, a time, a not-available mark, and
        a fraction.)
        """
        styles, found = self.styles, []
        for i, kind in enumerate(kinds):
            whole, fraction = styles["int"], styles["num"]
            if kind == "pct":
                whole = fraction = styles["pct"]
            column = place[i] if place else i
            wraps = kind in ("text", "link")
            chars = characters(self.widths.get(column, 8.43)) if wraps else _NEVER
            found.append(
                (
                    f"{_OPEN}{self._letters[column]}",
                    f'" s="{styles["text"]}" t="inlineStr"><is><t xml:space="preserve">',
                    f'" s="{whole}"><v>',
                    f'" s="{styles["datetime"]}"><v>',
                    f'" s="{styles["date"]}"><v>',
                    f'" s="{styles["time"]}"><v>',
                    f'" s="{styles["na"]}" t="inlineStr"><is><t>{self.na}</t></is></c>',
                    f'" s="{fraction}"><v>',
                    chars,
                )
            )
        return found

    def cells(self, values: list, columns: list[tuple[str, ...]]) -> None:
        """One row of typed cells (the hot loop: dispatch on the value's exact type)."""
        self.count += 1
        n = str(self.count)
        out = ['<row r="', n, '">']
        seen = self._escaped
        tall = 1
        for column, value in zip(columns, values, strict=True):
            kind = type(value)
            if kind is str:
                if value:
                    if len(value) > column[8]:
                        found = lines(value, column[8])
                        if found > tall:
                            tall = found
                    safe = seen.get(value)
                    if safe is None:
                        safe = text(value)
                        if len(seen) < 50_000:  # names, kinds, titles repeat down a sheet
                            seen[value] = safe
                    out += (column[0], n, column[1], safe, "</t></is></c>")
            elif kind is int:
                out += (column[0], n, column[2], repr(value), "</v></c>")
            elif kind is float:
                piece = column[2] if value.is_integer() else column[7]
                out += (column[0], n, piece, repr(value), "</v></c>")
            elif value is None:
                out += (column[0], n, column[6])
            elif kind is datetime:
                serial = (value - _EPOCH).total_seconds() / 86400
                out += (column[0], n, column[3], repr(serial), "</v></c>")
            elif kind is date:  # the diary's columns
                out += (column[0], n, column[4], str(value.toordinal() - _EPOCH_DAY), "</v></c>")
            elif kind is time:
                seconds = value.hour * 3600 + value.minute * 60 + value.second
                out += (column[0], n, column[5], repr(seconds / 86400), "</v></c>")
            else:
                out.append(self._other(f"{column[0][len(_OPEN) :]}{n}", value))
        if tall > 1:
            out[2] = f'" ht="{tall * LINE_POINTS}" customHeight="1">'
        out.append("</row>")
        self.parts.append("".join(out))

    def _other(self, ref: str, value: object) -> str:
        """Dates, times and anything else (rare kinds, kept out of the hot loop)."""
        styles = self.styles
        if isinstance(value, bool):
            return f'<c r="{ref}" s="{styles["int"]}"><v>{int(value)}</v></c>'
        if isinstance(value, Percent):  # a rate among plain numbers (a summary's ER rows)
            return f'<c r="{ref}" s="{styles["pct"]}"><v>{float(value)!r}</v></c>'
        if isinstance(value, int | float):
            style = styles["int"] if float(value).is_integer() else styles["num"]
            return f'<c r="{ref}" s="{style}"><v>{float(value)!r}</v></c>'
        if isinstance(value, datetime):
            serial = (value - _EPOCH).total_seconds() / 86400
            return f'<c r="{ref}" s="{styles["datetime"]}"><v>{serial!r}</v></c>'
        if isinstance(value, date):
            return f'<c r="{ref}" s="{styles["date"]}"><v>{(value - _EPOCH.date()).days}</v></c>'
        if isinstance(value, time):
            fraction = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
            return f'<c r="{ref}" s="{styles["time"]}"><v>{fraction!r}</v></c>'
        return (
            f'<c r="{ref}" s="{styles["text"]}" t="inlineStr">'
            f'<is><t xml:space="preserve">{text(str(value))}</t></is></c>'
        )

    def dimension(self) -> str:
        """The ``<dimension>`` element for the written area."""
        return f'<dimension ref="A1:{get_column_letter(self.width)}{max(self.count, 1)}"/>'


def _row_tag(n: int, tall: int) -> str:
    """A row's opening tag, with its height when its text takes more than a line."""
    if tall > 1:
        return f'<row r="{n}" ht="{tall * LINE_POINTS}" customHeight="1">'
    return f'<row r="{n}">'


def probe_styles(sheet_xml: str) -> dict[str, int]:
    """The style id of each kind, read from the probe row openpyxl wrote."""
    found = [int(s) for _, s in _CELL_STYLE.findall(sheet_xml)]
    return dict(zip(STYLE_KINDS, found, strict=True))


def fill(book: bytes, indexes: set[int], render: Callable[[int, str], Rows]) -> bytes:
    """The saved workbook with the sheetData of the given sheets (1-based) written in.

    ``render(index, sheet_xml)`` makes a sheet's rows when its turn comes, and they are
    streamed into the archive and dropped before the next sheet is made.
    """
    source = zipfile.ZipFile(BytesIO(book))
    out = BytesIO()
    # Level 1 deflate: most of the file is repetitive XML, and speed matters more here.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            match = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", item.filename)
            if not match or int(match.group(1)) not in indexes:
                target.writestr(item.filename, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            xml = data.decode("utf-8")
            rows = render(int(match.group(1)), xml)
            xml = _DIMENSION.sub(rows.dimension(), xml, count=1)
            head, tail = _SHEET_DATA.split(xml, maxsplit=1)
            with target.open(item.filename, "w") as sheet:
                sheet.write(head.encode("utf-8") + b"<sheetData>")
                for start in range(0, len(rows.parts), 1000):
                    sheet.write("".join(rows.parts[start : start + 1000]).encode("utf-8"))
                sheet.write(b"</sheetData>" + tail.encode("utf-8"))
    return out.getvalue()
