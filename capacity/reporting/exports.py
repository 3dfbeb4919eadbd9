"""Streamed CSV and XLSX: rows flow from a server-side cursor to the client in chunks.

CSV is written chunk by chunk; XLSX (a zip) is written row by row with openpyxl's write-only
workbook into a temporary file, which is then streamed and deleted. Neither holds the rows.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Iterable
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from capacity.refusals.models import EXPORT_COLUMNS
from capacity.reporting.service import T, in_range
from capacity.storage.db import Database

CHUNK = 1000
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def cell(value: Any) -> Any:
    """A value both formats take: times as ISO 8601 with offset (Excel has no time zones)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


async def refusal_rows(
    *, db: Database, region: str, start: date, end: date
) -> AsyncIterator[list[Any]]:
    """Every refusal of the region and period, oldest first, without the recording account."""
    query = (
        select(*[T[name] for name in EXPORT_COLUMNS])
        .where(*in_range(region, start, end))
        .order_by(T.occurred_at, T.id)
        .execution_options(yield_per=CHUNK)
    )
    async with db.session() as session:
        result = await session.stream(query)
        async for row in result:
            yield [cell(v) for v in row]


async def aiter_rows(
    rows: Iterable[dict[str, Any]], columns: list[str]
) -> AsyncIterator[list[Any]]:
    for row in rows:
        yield [cell(row[c]) for c in columns]


async def csv_stream(columns: list[str], rows: AsyncIterator[list[Any]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    n = 0
    async for row in rows:
        writer.writerow(row)
        n += 1
        if n % CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def xlsx_stream(
    columns: list[str], rows: AsyncIterator[list[Any]], title: str = "data"
) -> AsyncIterator[bytes]:
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title[:31])
        sheet.append(columns)
        async for row in rows:
            sheet.append(row)
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
    fmt: str, columns: list[str], rows: AsyncIterator[list[Any]], title: str
) -> AsyncIterator[bytes]:
    return csv_stream(columns, rows) if fmt == "csv" else xlsx_stream(columns, rows, title)
