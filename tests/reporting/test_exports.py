"""Exports round-trip: CSV and XLSX read back equal the stored refusals, without the recorder."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from sqlmodel import select

from capacity.audit.models import AuditEvent
from capacity.refusals.models import EXPORT_COLUMNS, Refusal
from capacity.refusals.service import LOCAL
from tests.conftest import ERASMUS
from tests.reporting.data import october, store

OCT = {"region": "zuidwest", "from": "2026-10-01", "to": "2026-10-31"}


def expected(refusals: list[Refusal]) -> list[list[str]]:
    rows = []
    for r in sorted(refusals, key=lambda r: (r.occurred_at, r.id)):
        values = []
        for name in EXPORT_COLUMNS:
            v = getattr(r, name)
            if isinstance(v, datetime):  # Amsterdam time, with its offset
                v = v.astimezone(LOCAL)
            values.append("" if v is None else v.isoformat() if hasattr(v, "isoformat") else str(v))
        rows.append(values)
    return rows


async def stored_october(app):  # type: ignore[no-untyped-def]
    async with app.state.db.session() as session:
        rows = (await session.exec(select(Refusal).where(Refusal.region == "zuidwest"))).all()
    return [r for r in rows if r.occurred_on.month == 10]


def xlsx_rows(content: bytes) -> list[list[str]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    rows = [
        ["" if v is None else xlsx_text(v) for v in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    return [r + [""] * (len(EXPORT_COLUMNS) - len(r)) for r in rows]  # trailing empty cells


def xlsx_text(v: object) -> str:
    """A date cell as the CSV writes it: Excel has no time zones, the cell holds Dutch time."""
    if isinstance(v, datetime):
        return v.replace(tzinfo=LOCAL).isoformat()
    return str(v)


def normal(rows: list[list[str]]) -> list[list[str]]:
    """Booleans read back as True/False from XLSX and CSV alike; numbers as digits."""
    return [
        [
            {"1": "True", "0": "False", "ja": "True", "nee": "False"}.get(v, v) if i in BOOLS else v
            for i, v in enumerate(r)
        ]
        for r in rows
    ]


BOOLS = {EXPORT_COLUMNS.index("shown_stale"), EXPORT_COLUMNS.index("placed_outside_region")}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_refusal_export_round_trips(client, login, app, fmt):
    await store(app, october())
    analyst = await login("analyst-zuidwest")
    response = await client.get(
        "/api/v1/refusals/export",
        params={**OCT, "format": fmt, "codes": "true", "sep": ","},
        headers=analyst,
    )
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        rows = xlsx_rows(response.content)
    assert rows[0] == EXPORT_COLUMNS
    assert "recorded_by" not in rows[0]
    assert normal(rows[1:]) == normal(expected(await stored_october(app)))
    assert len(rows) == 1 + 7
    async with app.state.db.session() as session:
        audits = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "refusals.export"))
        ).all()
    assert [a.detail["format"] for a in audits] == [fmt]


async def test_export_needs_an_analyst_of_the_region(client, login):
    for user, status in (("midwife", 403), ("analyst-noord", 403)):
        response = await client.get(
            "/api/v1/refusals/export", params=OCT, headers=await login(user)
        )
        assert response.status_code == status
    response = await client.get(
        "/api/v1/refusals/export", params={**OCT, "format": "pdf"}, headers=await login("analyst")
    )
    assert response.status_code == 422


async def test_refusal_export_is_for_dutch_excel_by_default(client, login, app):
    await store(app, october())
    analyst = await login("analyst-zuidwest")
    response = await client.get("/api/v1/refusals/export", params=OCT, headers=analyst)
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    head = rows[0]
    assert head[:5] == ["Nummer", "Tijdstip", "Regio", "Zorginstelling", "Zorginstelling (id)"]
    first = dict(zip(head, rows[1], strict=True))
    # 2026-09-30 22:30 UTC is 00:30 on 1 October in Amsterdam
    assert first["Tijdstip"] == "2026-10-01 00:30:00"
    assert first["Zorginstelling"] == "Erasmus MC (Sophia)"
    assert first["Zorginstelling (id)"] == ERASMUS
    assert (first["Reden"], first["Categorie"], first["Besluit"]) == (
        "Geen bed",
        "Verloskamer",
        "Geweigerd",
    )
    assert first["Soort verzoek"] == "Medisch" and first["Getoonde status"] == "Onbekend"
    english = await client.get(
        "/api/v1/refusals/export", params={**OCT, "lang": "en", "sep": ","}, headers=analyst
    )
    head = next(csv.reader(io.StringIO(english.content.decode("utf-8-sig"))))
    assert head[:2] == ["Number", "Time"]
    book = await client.get(
        "/api/v1/refusals/export", params={**OCT, "format": "xlsx"}, headers=analyst
    )
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).worksheets[0]
    assert sheet.freeze_panes == "A2"
    when = sheet["B2"]
    assert when.is_date and when.value == datetime(2026, 10, 1, 0, 30)
    assert when.number_format == "DD-MM-YYYY HH:MM"
    assert sheet.column_dimensions["B"].width >= 18
