"""Tap-to-call on a 375 px phone (issue 12.1): every card has a number to tap, or whom to call.

Real Chromium against a real server on the demo seed: each facility has made-up numbers marked
"demo", each region a coordination number. A facility without any number points the midwife to
the region's coordination; the ward's staff replace a number and the midwife's card shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.frontend import test_browser
from tests.frontend.test_browser import (
    ERASMUS,
    REGION,
    Server,
    Watch,
    shot,
    sign_in,
    strict_context,
)

pytestmark = test_browser.pytestmark  # chromium missing: skipped, as the other browser tests
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
IKAZIA = "ikazia-ziekenhuis-rotterdam"
NARROW = {"viewport": {"width": 375, "height": 812}}


@pytest.fixture
def server(databases, own_valkey, tmp_path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path / "var").start()
    yield srv
    srv.stop()


@pytest.fixture
def phones(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """New 375 px pages; every one watched for CSP violations and console errors."""
    watch = Watch()
    made: list[Any] = []

    def page() -> Any:
        ctx = strict_context(browser, watch, **NARROW)
        made.append(ctx)
        return ctx.new_page()

    yield page
    for ctx in made:
        ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def contacts(server: Server, facility: str) -> list[dict[str, Any]]:
    r = server.call("GET", f"/api/v1/facilities/{facility}/contacts", "midwife")
    assert r.status_code == 200, r.text
    return list(r.json()["contacts"])


def tel(phone: str) -> str:
    return "tel:" + re.sub(r"[^+0-9]", "", phone)


def fits(page: Any) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways: {width} px"


def test_midwife_taps_a_demo_number_and_the_region_number_where_a_ward_has_none(
    server: Server, phones: Any
) -> None:
    r = server.call("PUT", f"/api/v1/facilities/{IKAZIA}/contacts", "admin", json={"contacts": []})
    assert r.status_code == 200, r.text
    ward = contacts(server, ERASMUS)[0]
    assert ward["type"] == "verloskunde" and ward["demo"]
    regions = server.call("GET", "/api/v1/regions", "midwife").json()
    coordination = next(x for x in regions if x["id"] == REGION)["coordination_phone"]

    page = sign_in(phones(), server, "midwife")
    erasmus = page.locator(f"#f-{ERASMUS}")
    # The compact card keeps one call button: the delivery ward's number.
    first = erasmus.locator("a[href^='tel:']:visible")
    expect(first).to_have_count(1)
    expect(first).to_have_attribute("href", tel(ward["phone"]))
    # Opened (tap the name), the card lists every number as a big target.
    erasmus.locator("button.open").click()
    expect(erasmus).to_have_class(re.compile(r"\bopened\b"))
    link = erasmus.get_by_role("link", name=re.compile("^Bel Verloskunde van Erasmus MC"))
    expect(link).to_have_attribute("href", tel(ward["phone"]))
    expect(link).to_contain_text(ward["phone"])
    expect(link.locator(".demo")).to_have_text("demo")
    expect(link).to_have_accessible_name(re.compile(r"\(demonummer, niet echt\)$"))
    box = link.bounding_box()
    assert box is not None and box["height"] >= 48 and box["width"] >= 300  # a big target
    assert erasmus.locator("a[href^='tel:']").count() == len(contacts(server, ERASMUS))

    ikazia = page.locator(f"#f-{IKAZIA}")
    ikazia.locator("button.open").click()
    expect(ikazia).to_contain_text("Geen nummer bekend")
    instead = ikazia.get_by_role("link", name=re.compile("^Bel de regionale coördinatie"))
    expect(instead).to_have_attribute("href", tel(coordination))
    expect(instead).to_contain_text("Bel de regionale coördinatie")
    expect(instead.locator(".demo")).to_be_visible()
    expect(page.locator("#rules")).to_contain_text("U mag altijd bellen")
    fits(page)
    erasmus.locator(".calls").scroll_into_view_if_needed()
    shot(page, "midwife-contacts-375")
    ikazia.locator(".calls").scroll_into_view_if_needed()
    shot(page, "midwife-contacts-region-375")

    page.click("#lang")
    expect(erasmus.get_by_role("link", name=re.compile("^Call Delivery ward at"))).to_be_visible()
    expect(
        ikazia.get_by_role("link", name=re.compile("^Call the regional coordination"))
    ).to_be_visible()
    expect(ikazia).to_contain_text("No number known")
    expect(page.locator("#rules")).to_contain_text("You may always phone")
    fits(page)


def test_staff_replace_a_number_and_the_midwife_sees_it_after_a_reload(
    server: Server, phones: Any
) -> None:
    midwife = sign_in(phones(), server, "midwife")
    card = midwife.locator(f"#f-{ERASMUS}")
    before = contacts(server, ERASMUS)[0]["phone"]
    expect(card.locator("a.ct-verloskunde")).to_have_attribute("href", tel(before))

    staff = sign_in(phones(), server, f"staff-{ERASMUS}")
    field = staff.locator("#ct-verloskunde")
    expect(field).to_have_value(before)
    expect(staff.locator("label[for=ct-verloskunde] .demo")).to_be_visible()
    # Words are no number: the field says so, and nothing is stored.
    field.fill("bel Ans op de afdeling")
    staff.click("#ct-save")
    expect(staff.locator("#ct-err-verloskunde")).not_to_be_empty()
    expect(field).to_have_attribute("aria-invalid", "true")
    assert contacts(server, ERASMUS)[0]["phone"] == before
    field.fill("010 703 1234")
    staff.click("#ct-save")
    expect(staff.locator("#toast")).to_contain_text("Nummers opgeslagen")
    expect(staff.locator("label[for=ct-verloskunde] .demo")).to_have_count(0)
    expect(staff.locator("label[for=ct-neonatologie] .demo")).to_be_visible()  # untouched: demo
    fits(staff)
    staff.locator("#contactsbox").scroll_into_view_if_needed()
    shot(staff, "staff-contacts-375")
    staff.click("#lang")
    expect(staff.locator("label[for=ct-verloskunde]")).to_contain_text("Delivery ward")
    expect(staff.locator("#ct-save")).to_have_text("Save numbers")
    expect(field).to_have_value("010 703 1234")
    staff.click("#lang")
    stored = contacts(server, ERASMUS)
    assert stored[0] == {"type": "verloskunde", "phone": "010 703 1234", "demo": False}
    assert stored[1]["demo"]

    midwife.reload()
    link = midwife.locator(f"#f-{ERASMUS} a.ct-verloskunde")
    expect(link).to_have_attribute("href", "tel:0107031234")
    expect(link).to_contain_text("010 703 1234")
    expect(link.locator(".demo")).to_have_count(0)
