"""Streamed CSV and XLSX: rows flow from a server-side cursor to the client in chunks.

CSV is written chunk by chunk; XLSX (a zip) is written row by row with openpyxl's write-only
workbook into a temporary file, which is then streamed and deleted. Neither holds the rows.

Both are made for a person in Excel unless asked otherwise (``Style``): labels in Dutch or
English instead of codes, facility names beside their ids, times in Europe/Amsterdam; CSV with
a UTF-8 BOM and ``;`` (decimal commas) or ``,``; XLSX with date cells, number formats, a frozen
header row and set column widths. ``codes`` keeps the codes and column names of the JSON API.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from capacity.facilities.models import Facility
from capacity.refusals.models import EXPORT_COLUMNS
from capacity.refusals.service import LOCAL
from capacity.reporting import labels
from capacity.reporting.service import T, in_range
from capacity.storage.db import Database

CHUNK = 1000
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Style:
    """How an export reads: language, CSV separator, codes or labels, facility names."""

    lang: labels.Lang = "nl"
    sep: str = ";"
    codes: bool = False
    names: dict[str, str] = field(default_factory=dict)

    def header(self, column: str) -> str:
        return column if self.codes else labels.header(column, self.lang)

    def value(self, column: str, v: Any) -> Any:
        """A value as the export shows it: local times, labels, names."""
        if isinstance(v, datetime):
            return v.astimezone(LOCAL)
        if v is None or self.codes:
            return v
        if column.endswith("_name"):
            return self.names.get(v, v)
        kind = labels.EXPORT_VALUE_KINDS.get(column)
        return labels.value(kind, v, self.lang) if kind else v


NAMED = {"facility_id": "facility_name", "placed_facility_id": "placed_facility_name"}


def refusal_columns(style: Style) -> list[str]:
    """The refusal export's columns: with codes as in the API, else a name beside each id."""
    if style.codes:
        return list(EXPORT_COLUMNS)
    out = []
    for c in EXPORT_COLUMNS:
        out += [NAMED[c], c] if c in NAMED else [c]
    return out


async def facility_names(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = (await session.exec(select(Facility.id, Facility.name))).all()  # type: ignore[call-overload]
    return {f: n for f, n in rows}


def cell(value: Any, style: Style) -> Any:
    """A value as CSV text: Amsterdam time without offset (Excel reads it), decimal commas."""
    if isinstance(value, datetime):
        return value.isoformat() if style.codes else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and style.sep == ";":
        return repr(value).replace(".", ",")
    return value


async def refusal_rows(
    *, db: Database, region: str, start: date, end: date, style: Style | None = None
) -> AsyncIterator[list[Any]]:
    """Every refusal of the region and period, oldest first, without the recording account."""
    style = style or Style(codes=True)
    columns = refusal_columns(style)
    source = {c: EXPORT_COLUMNS.index(c.replace("_name", "_id")) for c in columns}
    query = (
        select(*[T[name] for name in EXPORT_COLUMNS])
        .where(*in_range(region, start, end))
        .order_by(T.occurred_at, T.id)
        .execution_options(yield_per=CHUNK)
    )
    async with db.session() as session:
        result = await session.stream(query)
        async for row in result:
            yield [style.value(c, row[source[c]]) for c in columns]


async def aiter_rows(
    rows: Iterable[dict[str, Any]], columns: list[str], style: Style | None = None
) -> AsyncIterator[list[Any]]:
    style = style or Style(codes=True)
    for row in rows:
        yield [style.value(c, row[c]) for c in columns]


async def csv_stream(
    columns: list[str], rows: AsyncIterator[list[Any]], style: Style | None = None
) -> AsyncIterator[bytes]:
    """CSV chunks; without a style plain (``,``, no BOM), as the audit trail is exported."""
    buffer = io.StringIO()
    if style is None:
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
    else:
        buffer.write("\ufeff")  # UTF-8 BOM: Excel then reads the accents right
        writer = csv.writer(buffer, delimiter=style.sep, lineterminator="\r\n")
        writer.writerow([style.header(c) for c in columns])
    n = 0
    async for row in rows:
        writer.writerow(row if style is None else [cell(v, style) for v in row])
        n += 1
        if n % CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


XLSX_FORMATS = {datetime: "DD-MM-YYYY HH:MM", date: "DD-MM-YYYY", float: "0.00", int: "0"}


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    fmt = XLSX_FORMATS.get(type(value))
    if fmt is None:
        return "ja" if value is True else "nee" if value is False else value
    if isinstance(value, datetime):  # Excel has no time zones: Amsterdam wall-clock time
        value = value.replace(tzinfo=None)
    c = WriteOnlyCell(sheet, value)
    c.number_format = fmt
    return c


async def xlsx_stream(
    columns: list[str], rows: AsyncIterator[list[Any]], style: Style, title: str = "data"
) -> AsyncIterator[bytes]:
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title[:31])
        sheet.freeze_panes = "A2"
        headers = [style.header(c) for c in columns]
        for i, h in enumerate(headers):
            wide = 18 if columns[i].endswith("_at") else 30 if columns[i].endswith("_name") else 12
            sheet.column_dimensions[get_column_letter(i + 1)].width = max(len(h) + 2, wide)
        bold = Font(bold=True)
        head = []
        for h in headers:
            c = WriteOnlyCell(sheet, h)
            c.font = bold
            head.append(c)
        sheet.append(head)
        async for row in rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
        await asyncio.to_thread(workbook.save, path)
        handle = await asyncio.to_thread(open, path, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, 256 * 1024):
                yield chunk
        finally:
            handle.close()
    finally:
        os.unlink(path)


def stream(
    fmt: str, columns: list[str], rows: AsyncIterator[list[Any]], title: str, style: Style
) -> AsyncIterator[bytes]:
    if fmt == "csv":
        return csv_stream(columns, rows, style)
    return xlsx_stream(columns, rows, style, title)
