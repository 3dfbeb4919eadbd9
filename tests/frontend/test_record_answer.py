"""Refused or accepted, undo, and a record made without a connection (issue 12.5), on a 375 px
phone in Chromium against a real server.

She records an acceptance (no reason asked); records a refusal and takes it back from the toast;
then, offline, records a refusal that waits on the phone (also across a reload), and goes out
exactly once when the connection is back, with the time she tapped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy

from tests.conftest import _sync_url
from tests.frontend.test_browser import (
    ERASMUS,
    MAASSTAD,
    PHONE,
    Server,
    Watch,
    card,
    shot,
    sign_in,
    strict_context,
    sync_api,
    wait_live,
)
from tests.frontend.test_browser import server as server  # this module's own service

SMALL = {"viewport": {"width": 375, "height": 760}}


def own(server: Server) -> list[dict]:  # type: ignore[type-arg]
    r = server.call("GET", "/api/v1/refusals/mine?days=7", "midwife")
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def sql_count(server: Server, facility: str) -> int:
    engine = sqlalchemy.create_engine(_sync_url(server.env["CAPACITY_DATABASE_URL"]))
    try:
        with engine.connect() as conn:
            query = sqlalchemy.text("SELECT COUNT(*) FROM refusal WHERE facility_id = :f")
            return int(conn.execute(query, {"f": facility}).scalar_one())
    finally:
        engine.dispose()


def open_sheet(page, facility: str):  # type: ignore[no-untyped-def]
    card(page, facility).get_by_role("button", name="Antwoord melden").click()
    return page.locator("#refusal")


@pytest.fixture
def phone(browser) -> Iterator:  # type: ignore[no-untyped-def]
    watch = Watch()
    ctx = strict_context(browser, watch, **SMALL)
    yield ctx
    ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def test_acceptance_then_refusal_undone_from_the_toast(server: Server, phone) -> None:  # type: ignore[no-untyped-def]
    server.figures(ERASMUS, delivery_room=(1, 6))
    page = sign_in(phone.new_page(), server, "midwife")
    sync_api.expect(card(page, ERASMUS).locator(".cat[data-cat=delivery_room]")).to_be_visible()

    # Accepted: open, "Geaccepteerd", save; no reason asked.
    sheet = open_sheet(page, ERASMUS)
    sheet.locator("label.opt", has_text="Geaccepteerd").click()
    sync_api.expect(sheet.locator(".reasons")).to_be_hidden()
    sync_api.expect(sheet.locator("#refusal-save")).to_have_text("Acceptatie opslaan")
    shot(page, "record-accept")
    sheet.locator("#refusal-save").click()
    sync_api.expect(page.locator("#toast")).to_contain_text("Vastgelegd: geaccepteerd door Erasmus")
    [accepted] = own(server)
    assert (accepted["decision"], accepted["reason"]) == ("accepted", None)
    assert accepted["client_key"]  # made on the phone

    # Refused: open, reason, save; then "Ongedaan maken" in the toast takes it back.
    sheet = open_sheet(page, ERASMUS)
    sheet.locator("label.opt", has_text="Geen bed").click()
    sync_api.expect(sheet.locator("input[name=decision][value=refused]")).to_be_checked()
    sheet.locator("#refusal-save").click()
    toast = page.locator("#toast")
    sync_api.expect(toast).to_contain_text("Vastgelegd: geweigerd door Erasmus")
    assert len(own(server)) == 2
    shot(page, "record-undo-toast")
    toast.get_by_role("button", name="Ongedaan maken").click()
    sync_api.expect(toast).to_contain_text("Ongedaan gemaakt")
    assert [r["id"] for r in own(server)] == [accepted["id"]]
    assert sql_count(server, ERASMUS) == 1

    # "Mijn meldingen" offers the undo for 15 minutes after recording.
    page.click("a[href='#/mine']")
    item = page.locator(f".mine .card[data-id='{accepted['id']}']")
    sync_api.expect(item).to_contain_text("Geaccepteerd")
    undo = item.get_by_role("button", name="Ongedaan maken")
    sync_api.expect(undo).to_contain_text("tot")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "mine-undo")
    undo.click()
    sync_api.expect(page.locator("#toast")).to_contain_text("Ongedaan gemaakt")
    sync_api.expect(item).to_have_count(0)
    assert own(server) == []


def test_the_record_is_about_the_category_she_is_looking_for(server: Server, phone) -> None:  # type: ignore[no-untyped-def]
    # Looking for a NICU cot, a refusal is a NICU refusal unless she says otherwise: with the
    # delivery room preselected, NICU refusals were counted as delivery-room ones.
    server.figures(ERASMUS, nicu=(0, 4))
    page = sign_in(phone.new_page(), server, "midwife")
    page.get_by_label("Zoekt").select_option("nicu")
    sheet = open_sheet(page, ERASMUS)
    sync_api.expect(sheet.locator("input[name=category][value=nicu]")).to_be_checked()
    sheet.locator("label.opt", has_text="Geen bed").click()
    sheet.locator("#refusal-save").click()
    sync_api.expect(page.locator("#toast")).to_contain_text("Vastgelegd: geweigerd door Erasmus")
    newest = own(server)[0]
    assert (newest["facility_id"], newest["category"]) == (ERASMUS, "nicu")
    undone = server.call("DELETE", f"/api/v1/refusals/{newest['id']}", "midwife")
    assert undone.status_code == 204, undone.text  # the next test starts from no records


# Chromium logs failed requests and websockets while the phone is offline; those are the point.
OFFLINE_NOISE = ("ERR_INTERNET_DISCONNECTED", "WebSocket connection", "Failed to load resource")


def test_offline_refusal_waits_survives_a_reload_and_is_sent_once(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    ctx = browser.new_context(**{**PHONE, **SMALL})  # with its service worker: reload offline
    ctx.set_default_timeout(8000)

    def watch(page) -> None:  # type: ignore[no-untyped-def]
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not any(n in m.text for n in OFFLINE_NOISE)
                and errors.append(m.text)
            ),
        )

    ctx.on("page", watch)
    try:
        page = sign_in(ctx.new_page(), server, "midwife")
        wait_live(page)
        page.wait_for_function(
            "navigator.serviceWorker.controller !== null || !!location.reload()", timeout=8000
        )
        wait_live(page)
        other = ctx.new_page()  # a second tab of the same phone
        other.goto(server.base + "/")
        sync_api.expect(card(other, MAASSTAD)).to_be_visible()
        before = sql_count(server, MAASSTAD)

        ctx.set_offline(True)
        tapped = datetime.now(UTC)
        sheet = open_sheet(page, MAASSTAD)
        sheet.locator("label.opt", has_text="Geen verpleging").click()
        sheet.locator("#refusal-save").click()
        sync_api.expect(page.locator("#toast")).to_contain_text("wacht op verbinding")
        sync_api.expect(page.locator("#outbox")).to_contain_text("1 melding wacht op verbinding")
        assert sql_count(server, MAASSTAD) == before

        # The other tab sees it waiting, also after a reload without a connection.
        sync_api.expect(other.locator("#outbox")).to_contain_text("1 melding wacht op verbinding")
        other.reload()
        sync_api.expect(other.locator("#outbox")).to_contain_text("1 melding wacht op verbinding")
        other.goto(server.base + "/#/mine")
        sync_api.expect(other.locator(".mine .card.queued")).to_contain_text("Wacht op verbinding")
        page.locator("#outbox a").click()  # to "Mijn meldingen"
        queued = page.locator(".mine .card.queued")
        sync_api.expect(queued).to_contain_text("Wacht op verbinding")
        sync_api.expect(queued).to_contain_text("Maasstad")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        shot(page, "mine-queued")
        assert sql_count(server, MAASSTAD) == before

        online = datetime.now(UTC)
        ctx.set_offline(False)  # the phone's "online" event: the queue goes by itself
        sync_api.expect(page.locator("#outbox")).to_contain_text("Verstuurd")
        sync_api.expect(queued).to_have_count(0)
        sync_api.expect(page.locator(".mine .card[data-id]")).to_contain_text("Maasstad")
        # More chances to send it again: another online event and a reload of both tabs.
        for p in (page, other):
            p.evaluate("window.dispatchEvent(new Event('online'))")
            p.reload()
        sync_api.expect(other.locator("#outbox")).to_be_hidden()
        sync_api.expect(other.locator(".mine .card[data-id]")).to_contain_text("Maasstad")
        page.wait_for_timeout(1000)
        assert sql_count(server, MAASSTAD) == before + 1
        [rec] = [r for r in own(server) if r["facility_id"] == MAASSTAD]
        assert rec["reason"] == "no_nurse"
        occurred = datetime.fromisoformat(rec["occurred_at"])
        recorded = datetime.fromisoformat(rec["recorded_at"])
        assert tapped.timestamp() - 2 <= occurred.timestamp() < online.timestamp()
        assert recorded >= online  # sent later, stored with the time she tapped
        assert page.evaluate("localStorage.getItem('cap.outbox')") == "[]"
    finally:
        ctx.close()
    assert not errors, "\n".join(errors)
