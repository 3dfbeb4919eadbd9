"""The midwife's page in a real browser (issue 12.2-12.4): the map, the category she needs, the
neighbouring regions within 45 minutes, compact cards, and a "Live" that tells the truth.

Real Chromium at 375 px against a real server (uvicorn subprocess), figures written through the
public API as a hospital would; the connection is cut by stopping the server process itself.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.frontend import test_browser
from tests.frontend.test_browser import (
    ERASMUS,
    MAASSTAD,
    REGION,
    Server,
    Watch,
    card,
    shot,
    sign_in,
    strict_context,
    wait_live,
)

pytestmark = test_browser.pytestmark
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

LUMC = "leids-universitair-medisch-centrum-leiden"  # region west, NICU, ~35 min from Rotterdam
DELFT = "reinier-de-graaf-gasthuis-delft"  # region west, ~17 min from Rotterdam
GRONINGEN = "universitair-medisch-centrum-groningen"  # region noord, far away
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # the phone's time zone (test_browser.PHONE)
PHONE_375 = {"viewport": {"width": 375, "height": 740}}


@pytest.fixture(scope="module")
def server(databases, own_valkey, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path_factory.mktemp("mw-var")).start()
    test_browser._seed_region(srv)
    yield srv
    srv.stop()


@pytest.fixture
def watched(browser) -> Iterator:  # type: ignore[type-arg]
    """A 375x740 phone at Rotterdam; no console error or CSP violation allowed."""
    watch = Watch()
    ctx = strict_context(browser, watch, **PHONE_375)
    yield ctx
    ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def order(page) -> list[str]:  # type: ignore[no-untyped-def]
    return list(page.eval_on_selector_all("#cards > li", "els => els.map(e => e.dataset.facility)"))


def test_tap_a_marker_opens_its_card(server: Server, watched) -> None:  # type: ignore[no-untyped-def]
    server.figures(ERASMUS, delivery_room=(3, 6))
    server.figures(MAASSTAD, delivery_room=(0, 6))
    page = sign_in(watched.new_page(), server, "midwife")
    wait_live(page)
    page.get_by_role("button", name="Kaart").click()
    expect(page.locator("#cards")).to_be_hidden()
    marker = page.get_by_role("button", name=re.compile(r"^Erasmus MC.*Verloskamer 3 vrij"))
    expect(marker).to_have_class(re.compile(r"\bs-green\b"))
    expect(page.locator(f"#map [data-f={MAASSTAD}]")).to_have_class(re.compile(r"\bs-red\b"))
    # every facility of the region is a labelled marker, drawn on the outline of the country
    assert page.locator("#map .mk[aria-label]").count() >= 12
    assert page.locator("#map path.nl").count() == 1
    shot(page, "midwife-map")
    marker.click()
    c = card(page, ERASMUS)
    expect(c).to_be_visible()
    expect(c).to_have_class(re.compile(r"\bopened\b"))
    expect(c.locator(".open")).to_have_attribute("aria-expanded", "true")
    expect(c.locator(".open")).to_be_focused()
    expect(c).to_be_in_viewport()
    # open: every category the hospital offers
    expect(c.locator(".cat")).to_have_count(5)
    # and by keyboard: Enter on a marker
    page.get_by_role("button", name="Kaart").click()
    page.locator(f"#map [data-f={MAASSTAD}]").focus()
    page.keyboard.press("Enter")
    expect(card(page, MAASSTAD).locator(".open")).to_be_focused()


def test_choosing_nicu_reorders_recolours_and_is_remembered(server: Server, watched) -> None:  # type: ignore[no-untyped-def]
    server.figures(ERASMUS, delivery_room=(3, 6), nicu=(0, 4))
    server.figures(LUMC, delivery_room=(0, 6), nicu=(2, 4))
    page = sign_in(watched.new_page(), server, "midwife")
    wait_live(page)
    first = page.locator("#cards > li").first
    expect(first).not_to_have_attribute("data-facility", LUMC)
    erasmus = card(page, ERASMUS)
    expect(erasmus).to_have_attribute("data-status", "ok")
    page.get_by_label("Zoekt").select_option("nicu")
    # room in the NICU first (a neighbouring region's centre), Erasmus's card now red for NICU
    expect(first).to_have_attribute("data-facility", LUMC)
    expect(first.locator(".cat.main")).to_have_attribute("data-cat", "nicu")
    expect(first.locator(".cat.main .badge")).to_contain_text("2 vrij")
    expect(erasmus).to_have_attribute("data-status", "no")
    expect(erasmus.locator(".cat.main")).to_have_attribute("data-status", "red")
    # a hospital without a NICU says so, after those that have one
    expect(card(page, MAASSTAD).locator(".cat.main .badge")).to_contain_text("niet aanwezig")
    ids = order(page)
    assert ids.index(ERASMUS) < ids.index(MAASSTAD)
    page.get_by_role("button", name="Kaart").click()
    expect(page.locator(f"#map [data-f={ERASMUS}]")).to_have_class(re.compile(r"\bs-red\b"))
    expect(page.locator(f"#map [data-f={LUMC}]")).to_have_class(re.compile(r"\bs-green\b"))
    # the 45-minute warning follows the category: the last NICU cot within reach goes
    expect(page.locator("#warn")).to_be_hidden()
    server.figures(LUMC, nicu=(0, 4))
    expect(page.locator("#warn")).to_contain_text("geen plek met ruimte in NICU binnen 45 minuten")
    server.figures(LUMC, nicu=(2, 4))
    expect(page.locator("#warn")).to_be_hidden()
    # remembered: after a reload the same category, the same order
    page.reload()
    expect(page.get_by_label("Zoekt")).to_have_value("nicu")
    expect(page.locator("#cards > li").first).to_have_attribute("data-facility", LUMC)
    assert page.evaluate("localStorage.getItem('cap.region')") == REGION


def test_neighbouring_region_within_45_minutes_is_shown_live(server: Server, watched) -> None:  # type: ignore[no-untyped-def]
    server.figures(DELFT, delivery_room=(1, 5))
    server.figures(GRONINGEN, delivery_room=(4, 6))
    page = sign_in(watched.new_page(), server, "midwife")
    wait_live(page)
    delft = card(page, DELFT)
    expect(delft.locator(".where")).to_contain_text("regio West")
    expect(delft.locator(".where")).to_contain_text("min rijden")
    expect(delft.locator(".cat.main .badge")).to_contain_text("1 vrij")
    expect(card(page, GRONINGEN)).to_have_count(0)  # far away: not in this list
    # the neighbouring region's figures arrive live, as her own region's do
    page.evaluate("window.__same_page = 1")
    server.figures(DELFT, delivery_room=(0, 5))
    expect(delft.locator(".cat.main .badge")).to_contain_text("vol")
    expect(delft).to_have_attribute("data-status", "no")
    assert page.evaluate("window.__same_page") == 1


def test_largest_region_fits_in_two_screens(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    region = "noord-holland-flevoland"
    facilities = server.call("GET", f"/api/v1/facilities?region={region}", "admin").json()
    for i, f in enumerate(facilities):
        server.figures(f["id"], **{c: (i % 3, 6) for c in f["categories"]})
    watch = Watch()
    # no position: her region only, as the list of the largest region looks
    ctx = strict_context(browser, watch, **PHONE_375, permissions=[])
    try:
        page = sign_in(ctx.new_page(), server, "midwife", region=region)
        expect(page.locator("#cards > li")).to_have_count(len(facilities))
        wait_live(page)
        shot(page, "midwife-compact")
        height = page.evaluate("document.getElementById('cards').getBoundingClientRect().height")
        print(f"{len(facilities)} cards take {height:.0f}px at 375x740")
        assert height <= 2 * 740, f"{len(facilities)} cards take {height}px"
    finally:
        ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def test_not_live_within_35_s_of_a_silent_connection(  # type: ignore[no-untyped-def]
    databases, own_valkey, tmp_path: Path, browser
) -> None:
    """The server stops (SIGSTOP): no close event, no message, a half-open connection."""
    srv = Server(databases.fresh(), own_valkey.url, tmp_path / "var").start()
    watch = Watch()
    ctx = strict_context(browser, watch, **PHONE_375)
    try:
        srv.figures(ERASMUS, delivery_room=(2, 6))
        page = sign_in(ctx.new_page(), srv, "midwife")
        wait_live(page)
        conn = page.locator("#conn")
        expect(conn).to_contain_text("Live")
        assert srv.process is not None
        os.kill(srv.process.pid, signal.SIGSTOP)
        cut = datetime.now(AMSTERDAM)
        try:
            expect(conn).to_contain_text("Niet live sinds", timeout=35_000)
            noticed = datetime.now(AMSTERDAM)
            assert noticed - cut <= timedelta(seconds=35)
            # since when: the last message heard, at most one ping interval before the cut
            said = re.search(r"Niet live sinds (\d{2}:\d{2})", conn.inner_text())
            assert said, conn.inner_text()
            window = {(cut - timedelta(seconds=s)).strftime("%H:%M") for s in range(0, 36)}
            assert said.group(1) in window, (said.group(1), window)
            expect(conn).to_have_attribute("data-state", re.compile("lost|offline"))
            shot(page, "midwife-not-live")
        finally:
            os.kill(srv.process.pid, signal.SIGCONT)
        # the server back: live again, by itself
        expect(conn).to_have_attribute("data-state", "live", timeout=40_000)
        expect(conn).not_to_contain_text("Niet live")
    finally:
        ctx.close()
        srv.stop()
    assert not [p for p in watch.problems if "ERR_" not in p], "\n".join(watch.problems)
