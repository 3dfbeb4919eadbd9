"""The monthly report as delivered to a board: XLSX, CSV and HTML a person can read as is."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from capacity.reporting import reports
from tests.conftest import ERASMUS
from tests.reporting.data import IKAZIA, make, store

MONTH = {"region": "zuidwest", "month": "2026-10"}


def busy_october() -> list:  # type: ignore[type-arg]
    """Erasmus MC 10 refused (no bed) + 5 accepted, Ikazia 6 refused (no nurse) + 5 accepted."""
    start = datetime(2026, 10, 5, 8, tzinfo=UTC)

    def at(i: int) -> str:
        return (start + timedelta(hours=7 * i)).replace(tzinfo=None).isoformat()

    return (
        [make(ERASMUS, at(i), reason="no_bed") for i in range(10)]
        + [make(IKAZIA, at(i), reason="no_nurse") for i in range(10, 16)]
        + [make(ERASMUS, at(i), reason=None, decision="accepted") for i in range(16, 21)]
        + [make(IKAZIA, at(i), reason=None, decision="accepted") for i in range(21, 26)]
    )


async def _report(client, login, app) -> tuple[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    await store(app, busy_october())
    admin = await login("admin")
    created = await client.post("/api/v1/reports", params=MONTH, headers=admin)
    assert created.status_code == 201, created.text
    return f"/api/v1/reports/{created.json()['id']}", admin


async def test_xlsx_has_a_sheet_per_table_with_dates_formats_frozen_headers_and_charts(
    client, login, app
):
    url, admin = await _report(client, login, app)
    response = await client.get(url, params={"format": "xlsx"}, headers=admin)
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:4] == [
        "Samenvatting",
        "Zorginstelling",
        "Reden",
        "Zorginstelling x reden",
    ]
    assert "Capaciteit" in book.sheetnames and "Weigeringen per uur" in book.sheetnames
    summary = book["Samenvatting"]
    rows = {r[0].value: r[1] for r in summary.iter_rows(min_row=2) if r[0].value}
    first = rows["Van"]
    assert (
        first.is_date
        and first.value == datetime(2026, 10, 1)
        and first.number_format == "DD-MM-YYYY"
    )
    made = rows["Gemaakt op (Nederlandse tijd)"]
    assert made.is_date and "HH:MM" in made.number_format
    # Amsterdam time, not UTC: the report was made just now
    local_now = datetime.now(UTC).astimezone(reports.LOCAL).replace(tzinfo=None)
    assert abs(made.value - local_now) < timedelta(minutes=5)
    assert rows["Weigeringen"].value == 16 and rows["Weigeringen"].number_format == "0"
    rate = rows["Weigerpercentage"]
    assert rate.value == pytest.approx(16 / 26, abs=1e-4) and rate.number_format == "0.0%"
    facilities = book["Zorginstelling"]
    assert facilities.freeze_panes == "B2" and summary.freeze_panes == "B2"
    header = [c.value for c in facilities[1]]
    assert header[:2] == ["Zorginstelling", "Weigeringen"] and header[-1] == "Zorginstelling (id)"
    by_name = {r[0].value: r for r in facilities.iter_rows(min_row=2) if r[0].value}
    erasmus = by_name["Erasmus MC (Sophia)"]
    assert erasmus[1].value == 10 and erasmus[-1].value == ERASMUS
    assert (
        erasmus[4].value == pytest.approx(10 / 15, abs=1e-4) and erasmus[4].number_format == "0.0%"
    )
    assert facilities.column_dimensions["A"].width >= len("Erasmus MC (Sophia)")
    assert len(facilities._charts) == 1 and len(book["Reden"]._charts) == 1
    reasons = {r[0].value: r[1].value for r in book["Reden"].iter_rows(min_row=2)}
    assert reasons["Geen bed"] == 10 and reasons["Geen verpleging"] == 6
    english = await client.get(url, params={"format": "xlsx", "lang": "en"}, headers=admin)
    assert openpyxl.load_workbook(io.BytesIO(english.content)).sheetnames[:2] == [
        "Summary",
        "Facility",
    ]


async def test_csv_is_for_dutch_excel_unless_asked_otherwise(client, login, app):
    url, admin = await _report(client, login, app)
    dutch = (await client.get(url, params={"format": "csv"}, headers=admin)).content
    assert dutch.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(dutch.decode("utf-8-sig")), delimiter=";"))
    assert ["Weigerpercentage", "61,5%"] in rows
    assert ["Van", "2026-10-01"] in rows
    assert any(r[:2] == ["Erasmus MC (Sophia)", "10"] and r[4] == "66,7%" for r in rows)
    assert any(r[:3] == ["Zorginstelling", "Geen bed", "Geen verpleging"] for r in rows)
    comma = await client.get(url, params={"format": "csv", "sep": ",", "lang": "en"}, headers=admin)
    rows = list(csv.reader(io.StringIO(comma.content.decode("utf-8-sig"))))
    assert ["Refusal rate", "61.5%"] in rows
    assert any(r[:2] == ["Facility", "No bed"] for r in rows)
    # English also by Accept-Language; the query wins over it
    asked = await client.get(
        url, params={"format": "csv"}, headers={**admin, "Accept-Language": "en-GB,en;q=0.8"}
    )
    assert asked.content.decode("utf-8-sig").startswith("Refusals, Zuidwest-Nederland, October")
    both = await client.get(
        url, params={"format": "csv", "lang": "nl"}, headers={**admin, "Accept-Language": "en"}
    )
    assert both.content.decode("utf-8-sig").startswith("Weigeringen, Zuidwest-Nederland, oktober")
    bad = await client.get(url, params={"format": "csv", "sep": "|"}, headers=admin)
    assert bad.status_code == 422 and "sep" in bad.text


async def test_a_month_not_begun_is_refused_and_one_in_progress_is_marked(client, login, app):
    admin = await login("admin")
    today = datetime.now(reports.LOCAL).date()
    following = (today.replace(day=28) + timedelta(days=5)).strftime("%Y-%m")
    refused = await client.post(
        "/api/v1/reports", params={"region": "zuidwest", "month": following}, headers=admin
    )
    assert refused.status_code == 422 and "month" in refused.text
    current = today.strftime("%Y-%m")
    created = await client.post(
        "/api/v1/reports", params={"region": "zuidwest", "month": current}, headers=admin
    )
    assert created.status_code == 201, created.text
    url = f"/api/v1/reports/{created.json()['id']}"
    content = (await client.get(url, headers=admin)).json()
    assert (
        content["in_progress"] is True
        and content["to"] == reports.month_range(current)[1].isoformat()
    )
    page = (await client.get(url, params={"format": "html", "lang": "nl"}, headers=admin)).text
    assert "Voorlopig: de maand loopt nog" in page
    past = await client.post(
        "/api/v1/reports", params={"region": "zuidwest", "month": "2026-10"}, headers=admin
    )
    content = (await client.get(f"/api/v1/reports/{past.json()['id']}", headers=admin)).json()
    assert content["in_progress"] is False and date.fromisoformat(content["to"]) < today


async def test_html_report_names_facilities_and_marks_hidden_and_not_applicable(client, login, app):
    await store(app, [*busy_october(), make(ERASMUS, "2026-10-20T10:00:00", reason="stop")])
    admin = await login("admin")
    created = await client.post("/api/v1/reports", params=MONTH, headers=admin)
    url = f"/api/v1/reports/{created.json()['id']}"
    page = (await client.get(url, params={"format": "html"}, headers=admin)).text
    assert "<html lang=nl>" in page and "Erasmus MC (Sophia)" in page
    assert "Stop actief" in page and "stop</td>" not in page
    assert "x = afgeschermd" in page and "n.v.t. = niet van toepassing" in page
    assert "<td class='n x'>x</td>" in page and "<td class='n na'>n.v.t.</td>" in page
    assert "<svg" in page and "<script" not in page
