"""An analyst on a phone makes and reads the monthly ROAZ report and downloads it as XLSX."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy
from sqlmodel import Session

from tests.frontend.test_browser import (
    CHROMIUM,
    ERASMUS,
    MAASSTAD,
    REGION,
    Server,
    Watch,
    shot,
    sign_in,
    strict_context,
    sync_api,
)
from tests.reporting.data import IKAZIA, make

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="chromium missing: make browser"
)


@pytest.fixture(scope="module")
def server(databases, own_valkey, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path_factory.mktemp("report-var")).start()
    yield srv
    srv.stop()


def _october(server: Server) -> None:
    """Erasmus MC 9 refused + 5 accepted, Maasstad 6, Ikazia 2 (small: hidden, and so Maasstad's
    6 with it, or the total would give the 2 back)."""
    start = datetime(2026, 10, 3, 9, tzinfo=UTC)

    def at(i: int) -> str:
        return (start + timedelta(hours=11 * i)).replace(tzinfo=None).isoformat()

    url = server.env["CAPACITY_DATABASE_URL"].replace("+aiosqlite", "")
    engine = sqlalchemy.create_engine(url)
    with Session(engine) as session:
        session.add_all(
            [make(ERASMUS, at(i), reason="no_bed") for i in range(9)]
            + [make(ERASMUS, at(i), reason=None, decision="accepted") for i in range(9, 14)]
            + [make(MAASSTAD, at(i), reason="no_nurse") for i in range(14, 20)]
            + [make(IKAZIA, at(i), reason="no_bed") for i in range(20, 22)]
        )
        session.commit()
    engine.dispose()


def test_analyst_makes_reads_and_downloads_the_monthly_report_on_a_phone(
    server: Server, browser
) -> None:  # type: ignore[no-untyped-def]
    _october(server)
    watch = Watch()
    ctx = strict_context(browser, watch, viewport={"width": 375, "height": 812})
    try:
        page = sign_in(ctx.new_page(), server, f"analyst-{REGION}", region=None)
        page.fill("#rep-month", "2026-10")
        page.locator("#rep-form button[type=submit]").click()
        report = page.locator("#report")
        sync_api.expect(report).to_contain_text("Zuidwest-Nederland, 2026-10")
        sync_api.expect(report).to_contain_text("Definitief: de maand is voorbij")
        # names, not ids; Dutch labels
        sync_api.expect(report).to_contain_text("Erasmus MC (Sophia)")
        sync_api.expect(report).to_contain_text("Maasstad Ziekenhuis")
        assert ERASMUS not in report.inner_text()
        sync_api.expect(report).to_contain_text("Geen bed")
        sync_api.expect(report).to_contain_text("Geen verpleging")
        sync_api.expect(report).to_contain_text("Weigerpercentage")
        # suppressed cells: Ikazia's 2 and, complementing it, Maasstad's 6; both marked x
        ikazia = report.locator("tr", has_text="Ikazia Ziekenhuis").first
        maasstad = report.locator("tr", has_text="Maasstad Ziekenhuis").first
        sync_api.expect(ikazia.locator("td").first).to_have_text("x")
        sync_api.expect(maasstad.locator("td").first).to_have_text("x")
        erasmus = report.locator("tr", has_text="Erasmus MC (Sophia)").first
        for i, text in enumerate(["9", "5", "64,3%"]):
            sync_api.expect(erasmus.locator("td").nth(i)).to_have_text(text)
        sync_api.expect(report).to_contain_text("x = afgeschermd")
        sync_api.expect(report).to_contain_text("n.v.t.")
        # the chart: a bar for Erasmus MC, none for a hidden count
        chart = report.locator("#report-chart svg")
        sync_api.expect(chart.locator("rect")).to_have_count(1)
        sync_api.expect(chart).to_contain_text("Erasmus MC (Sophia)")
        # nothing wider than the phone
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        sync_api.expect(page.locator("#toast")).to_be_hidden(timeout=8000)
        page.set_viewport_size({"width": 375, "height": 1100})
        report.scroll_into_view_if_needed()
        page.evaluate("document.querySelector('#report').scrollIntoView()")
        shot(page, "report")
        with page.expect_download() as got:
            report.locator("button", has_text="XLSX").click()
        download = got.value
        assert download.suggested_filename == "weigeringen-zuidwest-2026-10.xlsx"
        book = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
        assert book.sheetnames[:2] == ["Samenvatting", "Zorginstelling"]
        names = [row[0] for row in book["Zorginstelling"].iter_rows(min_row=2, values_only=True)]
        assert "Erasmus MC (Sophia)" in names and "Ikazia Ziekenhuis" in names
        assert len(book["Zorginstelling"]._charts) == 1
    finally:
        ctx.close()
    assert not watch.problems, "\n".join(watch.problems)
