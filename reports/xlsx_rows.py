"""Fast worksheet rows: the ``<sheetData>`` of a sheet written as text.

openpyxl without lxml spends about 20 µs a cell, so a year of a network (100,000 rows)
would take a minute. openpyxl still builds the workbook (styles, column widths, charts);
this module writes the bulky part, the cells, into the saved file: numbers as numbers,
dates as date serials with the workbook's own date styles, text as inline strings.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time
from io import BytesIO

from openpyxl.utils import get_column_letter

from reports.tables import Table

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
_NUMBERS = frozenset(("int", "num", "pct"))
STYLE_KINDS = ("text", "title", "header", "int", "num", "pct", "datetime", "date", "time", "na")


def text(value: str) -> str:
    """Text made safe for XML."""
    if value.isalnum():  # most cells: nothing to escape
        return value
    return value.translate(_ESCAPES)


class Rows:
    """Accumulates one sheet's rows as XML; ``styles`` maps a kind to its style id."""

    def __init__(self, styles: dict[str, int], na: str) -> None:
        self.styles = styles
        self.parts: list[str] = []
        self.count = 0
        self.width = 1
        self.na = text(na)
        self._letters = [get_column_letter(i + 1) for i in range(60)]
        self._escaped: dict[str, str] = {}

    def line(self, value: str, kind: str = "title") -> None:
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

    def table(self, table: Table) -> None:
        """The table's title, header row and data rows."""
        self.line(table.title)
        self.cells(table.headers, self.columns(["header"] * len(table.headers)))
        columns = self.columns(table.kinds)
        for row in table.rows:
            self.cells(row, columns)
        self.width = max(self.width, len(table.headers))

    def columns(self, kinds: list[str]) -> list[tuple[str, ...]]:
        """Each column's fixed pieces of markup: made once a table, not once a cell.

        (cell opening with the column letter, then what follows the row number for
        text, a number, a date and time, a date, a time, and a not-available mark.)
        """
        styles, found = self.styles, []
        for i, kind in enumerate(kinds):
            text_style = styles["header"] if kind == "header" else styles["text"]
            number_style = styles[kind] if kind in _NUMBERS else styles["num"]
            found.append(
                (
                    f"{_OPEN}{self._letters[i]}",
                    f'" s="{text_style}" t="inlineStr"><is><t xml:space="preserve">',
                    f'" s="{number_style}"><v>',
                    f'" s="{styles["datetime"]}"><v>',
                    f'" s="{styles["date"]}"><v>',
                    f'" s="{styles["time"]}"><v>',
                    f'" s="{styles["na"]}" t="inlineStr"><is><t>{self.na}</t></is></c>',
                )
            )
        return found

    def cells(self, values: list, columns: list[tuple[str, ...]]) -> None:
        """One row of typed cells (the hot loop: dispatch on the value's exact type)."""
        self.count += 1
        n = str(self.count)
        out = ['<row r="', n, '">']
        seen = self._escaped
        for column, value in zip(columns, values, strict=True):
            kind = type(value)
            if kind is str:
                if value:
                    safe = seen.get(value)
                    if safe is None:
                        safe = text(value)
                        if len(seen) < 50_000:  # names, kinds, titles repeat down a sheet
                            seen[value] = safe
                    out += (column[0], n, column[1], safe, "</t></is></c>")
            elif kind is int or kind is float:
                out += (column[0], n, column[2], repr(value), "</v></c>")
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
        out.append("</row>")
        self.parts.append("".join(out))

    def _other(self, ref: str, value: object) -> str:
        """Dates, times and anything else (rare kinds, kept out of the hot loop)."""
        styles = self.styles
        if isinstance(value, bool):
            return f'<c r="{ref}" s="{styles["int"]}"><v>{int(value)}</v></c>'
        if isinstance(value, int | float):
            return f'<c r="{ref}" s="{styles["num"]}"><v>{value!r}</v></c>'
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
