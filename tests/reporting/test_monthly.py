"""The monthly ROAZ report: the right month, small cells suppressed, stored and downloadable."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
from typer.testing import CliRunner

from capacity.cli import app as cli
from capacity.reporting import jobs
from capacity.storage import keys
from tests.conftest import ERASMUS
from tests.reporting.data import IKAZIA, october, store

HIDDEN = {"suppressed": True}
FIRST_OF_NOVEMBER = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)  # 02:00 local


async def test_monthly_job_reports_the_previous_month_with_small_cells_suppressed(
    client, login, app
):
    await store(app, october())
    state = app.state
    made = await jobs.monthly_reports(db=state.db, settings=state.settings, now=FIRST_OF_NOVEMBER)
    assert "zuidwest" in made and len(made) == 10
    again = await jobs.monthly_reports(db=state.db, settings=state.settings, now=FIRST_OF_NOVEMBER)
    assert again == []
    analyst = await login("analyst-zuidwest")
    listed = (await client.get("/api/v1/reports", headers=analyst)).json()
    assert [(r["region"], r["month"]) for r in listed] == [("zuidwest", "2026-10")]
    report = (await client.get(f"/api/v1/reports/{listed[0]['id']}", headers=analyst)).json()
    assert (report["month"], report["from"], report["to"]) == (
        "2026-10",
        "2026-10-01",
        "2026-10-31",
    )
    assert report["summary"]["total"] == 5  # 5 is shown
    assert report["summary"]["accepted"] == HIDDEN  # 2 is not
    assert report["summary"]["refusal_rate"] == HIDDEN
    facility = {g["key"]: g["count"] for g in report["groups"]["facility"] if g["count"]}
    assert facility == {ERASMUS: HIDDEN, IKAZIA: HIDDEN}
    assert report["outcomes"]["median_calls_until_placement"] == HIDDEN
    hours = {g["key"]: g["count"] for g in report["groups"]["hour"]}
    assert hours["00"] == HIDDEN and hours["03"] == 0


async def test_report_downloads_as_csv_xlsx_and_html(client, login, app):
    await store(app, october())
    admin = await login("admin")
    created = await client.post(
        "/api/v1/reports", params={"region": "zuidwest", "month": "2026-10"}, headers=admin
    )
    assert created.status_code == 201, created.text
    url = f"/api/v1/reports/{created.json()['id']}"
    text = (await client.get(url, params={"format": "csv"}, headers=admin)).text
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0] == ["Weigeringen, Zuidwest-Nederland, oktober 2026"]
    assert ["Weigeringen", "5"] in rows
    assert ["Erasmus MC (Sophia)", "x", "x", "x", "x", "0,0", "0,0", ERASMUS] in rows  # suppressed
    content = (await client.get(url, params={"format": "xlsx"}, headers=admin)).content
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    assert ("Weigeringen", 5) in list(sheet.iter_rows(values_only=True))
    page = await client.get(url, params={"format": "html"}, headers=admin)
    assert page.headers["content-type"].startswith("text/html") and "<td class='n x'>x" in page.text
    other = await client.get(url, headers=await login("analyst-noord"))
    assert other.status_code == 403


async def test_only_one_process_runs_the_monthly_job(app):
    state = app.state
    await state.store.redis.set(keys.scheduler_lock("monthly-report"), "other", ex=60)
    assert await jobs.run_locked(db=state.db, store=state.store, settings=state.settings) is None


def test_report_command_generates_one_month(settings, monkeypatch):
    monkeypatch.setenv("CAPACITY_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CAPACITY_DATA_DIR", str(settings.data_dir))
    result = CliRunner().invoke(cli, ["report", "--region", "zuidwest", "--month", "2026-10"])
    assert result.exit_code == 0, result.output
    assert "zuidwest 2026-10" in result.output
    bad = CliRunner().invoke(cli, ["report", "--region", "zuidwest", "--month", "october"])
    assert bad.exit_code == 2
