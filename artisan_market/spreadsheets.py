"""CSV files for coordinators that open in Excel as they are meant to.

UTF-8 with a byte-order mark (Excel's cue to read the Arabic right), CRLF line ends, and no
cell that Excel would take for a formula (CSV injection): an artisan's name such as
"=HYPERLINK(…)" stays text. The audit log's export and the impact exports both use it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

BOM = "\ufeff"
# A cell starting with one of these is a formula to Excel (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: str) -> str:
    """Text as a cell: a leading apostrophe keeps a would-be formula as text."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_bytes(rows: Iterable[Iterable[str]]) -> bytes:
    """The rows (cells already made safe with `cell` where a person wrote them) as a file."""
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")
