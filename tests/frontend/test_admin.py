"""The admin screen in real Chromium at 375 px against a real server: accounts, facilities, API
keys and the audit trail, each change seen where a user would notice it (a signed-out page, a
midwife's regional picture, a key that stops working)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.frontend import test_browser
from tests.frontend.test_browser import (
    LOW_CONTRAST,
    UNLABELLED,
    Server,
    Watch,
    _seed_region,
    card,
    shot,
    sign_in,
    strict_context,
    wait_live,
)

pytestmark = test_browser.pytestmark
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

IKAZIA = "ikazia-ziekenhuis-rotterdam"  # zuidwest; moved to west below
ERASMUS = "erasmus-mc-rotterdam"
WIDTH = 375


@pytest.fixture(scope="module")
def server(databases, own_valkey, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path_factory.mktemp("admin-var")).start()
    _seed_region(srv)
    yield srv
    srv.stop()


@pytest.fixture
def watch() -> Iterator[Watch]:
    made = Watch()
    yield made
    assert not made.problems, "\n".join(made.problems)


@pytest.fixture
def ctx(browser, watch: Watch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    made = strict_context(
        browser, watch, viewport={"width": WIDTH, "height": 812},
        permissions=["geolocation", "clipboard-read", "clipboard-write"],
    )  # fmt: skip
    yield made
    made.close()


def admin_page(ctx: Any, server: Server, section: str) -> Any:
    page = sign_in(ctx.new_page(), server, "admin")
    nav = page.locator("#nav")
    expect(nav.get_by_role("link", name="Beheer")).to_be_visible()
    nav.get_by_role("link", name="Beheer").click()
    page.get_by_role("tab", name=section).click()
    expect(page.get_by_role("tab", name=section)).to_have_attribute("aria-selected", "true")
    return page


def fits(page: Any, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{what}: page is {width}px wide"
    assert page.evaluate(LOW_CONTRAST) == [], f"{what}: contrast below AA"
    assert page.evaluate(UNLABELLED) == [], f"{what}: controls without a label"


def login_status(server: Server, user: str, password: str = "demo") -> int:  # noqa: S107
    data = {"username": user, "password": password}
    return httpx.post(server.base + "/api/v1/auth/token", data=data).status_code


def test_admin_creates_deactivates_resets_and_unlocks_accounts(
    server: Server, ctx, browser, watch
) -> None:  # type: ignore[no-untyped-def]
    own = strict_context(browser, watch, viewport={"width": WIDTH, "height": 812})
    midwife = sign_in(own.new_page(), server, "midwife")  # only admins see the screen
    midwife.wait_for_selector(".card")
    expect(midwife.locator("#nav")).not_to_contain_text("Beheer")
    midwife.goto(server.base + "/#/admin")
    midwife.wait_for_selector(".card")
    expect(midwife.locator(".admin")).to_have_count(0)
    own.close()

    page = admin_page(ctx, server, "Gebruikers")
    page.get_by_text("Nieuw account").click()
    page.fill("#nu-name", "v.devries")
    page.fill("#nu-pw", "kort")
    page.click("#user-form button[type=submit]")
    expect(page.locator("#nu-pw-err")).not_to_be_empty()  # too short: said beside the field
    page.fill("#nu-pw", "een-lang-wachtwoord")
    page.click("#user-form button[type=submit]")
    expect(page.locator("#toast")).to_contain_text("Account v.devries aangemaakt")
    item = page.locator('[data-user="v.devries"]')
    expect(item).to_contain_text("Verloskundige")
    fits(page, "users")

    # her open page is signed out at once when the account is deactivated
    other = strict_context(browser, watch, viewport={"width": WIDTH, "height": 812})
    try:
        hers = other.new_page()
        hers.goto(server.base + "/")
        hers.fill("#u", "v.devries")
        hers.fill("#p", "een-lang-wachtwoord")
        hers.click("#login-form button[type=submit]")
        wait_live(hers)
        item.get_by_role("button", name="Deactiveren").click()
        expect(page.locator("#toast")).to_contain_text("gedeactiveerd")
        expect(item.locator(".tag")).to_have_text("gedeactiveerd")
        expect(hers.locator("#signed-out")).to_be_visible(timeout=10000)
        assert login_status(server, "v.devries", "een-lang-wachtwoord") == 401
        item.get_by_role("button", name="Heractiveren").click()
        expect(item.locator(".tag")).to_have_text("actief")

        # a reset password signs the account out too; the new one works
        hers.fill("#u", "v.devries")
        hers.fill("#p", "een-lang-wachtwoord")
        hers.click("#login-form button[type=submit]")
        hers.wait_for_selector(".card")
        # back from a cached picture, the stream says nothing until something changes
        server.figures(ERASMUS, delivery_room=(2, 6))
        wait_live(hers)
        item.get_by_role("button", name="Wachtwoord resetten").click()
        item.locator("input[type=password]").fill("nieuw-en-geheim")
        item.get_by_role("button", name="Wachtwoord instellen").click()
        expect(page.locator("#toast")).to_contain_text("Nieuw wachtwoord voor v.devries")
        expect(hers.locator("#signed-out")).to_be_visible(timeout=10000)
        assert login_status(server, "v.devries", "nieuw-en-geheim") == 200
    finally:
        other.close()

    # five wrong passwords lock an account; the admin lifts it
    for _ in range(5):
        login_status(server, "analyst-noord", "fout")
    assert login_status(server, "analyst-noord") == 429
    page.fill("#user-filter", "analyst-noord")
    locked = page.locator('[data-user="analyst-noord"]')
    locked.get_by_role("button", name="Blokkade opheffen").click()
    expect(page.locator("#toast")).to_contain_text("Blokkade van analyst-noord opgeheven")
    assert login_status(server, "analyst-noord") == 200
    page.click("#lang")
    expect(page.get_by_role("tab", name="Users")).to_be_visible()
    expect(locked.get_by_role("button", name="Lift lockout")).to_be_visible()
    page.click("#lang")


def test_admin_creates_rotates_and_revokes_keys(server: Server, ctx) -> None:  # type: ignore[no-untyped-def]
    group = server.call(
        "POST", "/api/v1/keys", "admin",
        json={"facility_ids": [ERASMUS, IKAZIA], "label": "Groep Rotterdam"},
    )  # fmt: skip
    assert group.status_code == 201, group.text
    page = admin_page(ctx, server, "API-sleutels")
    # a hospital group's key names every facility it may push for
    grouped = page.locator("[data-key]").filter(has_text="Groep Rotterdam")
    expect(grouped).to_contain_text("Erasmus MC")
    expect(grouped).to_contain_text("Ikazia")
    page.select_option("#nk-fac", ERASMUS)
    page.fill("#nk-label", "HiX koppeling")
    page.click("#key-form button[type=submit]")
    expect(page.locator("#key-once")).to_contain_text("maar één keer")
    first = page.input_value("#new-key-value")
    assert first.startswith("cap_")
    page.click("#copy-key")
    expect(page.locator("#toast")).to_contain_text("Sleutel gekopieerd")
    assert page.evaluate("navigator.clipboard.readText()") == first
    fits(page, "keys")

    def push(key: str) -> int:
        body = {"categories": {"delivery_room": {"available": 2, "staffed": 5}}}
        url = f"{server.base}/api/v1/facilities/{ERASMUS}/capacity"
        return httpx.put(url, json=body, headers={"X-API-Key": key}).status_code

    assert push(first) == 200
    row = page.locator("[data-key]").filter(has_text="HiX koppeling")
    expect(row).to_contain_text("nog nooit gebruikt")
    page.get_by_role("tab", name="Audit").click()
    page.get_by_role("tab", name="API-sleutels").click()
    expect(row.locator(".used")).to_contain_text("laatst gebruikt")
    assert page.locator("#new-key-value").count() == 0  # shown once: gone after leaving

    row.get_by_role("button", name="Vervangen").click()
    expect(page.locator("#key-once")).to_be_visible()
    second = page.input_value("#new-key-value")
    assert second.startswith("cap_") and second != first
    assert push(first) == 401
    assert push(second) == 200
    active = page.locator("[data-key]").filter(has_text="HiX koppeling").filter(has_text="actief")
    active.get_by_role("button", name="Intrekken").click()
    expect(page.locator("#toast")).to_contain_text("Sleutel ingetrokken")
    assert push(second) == 401


def test_admin_moves_and_deactivates_a_facility_midwives_see_it(
    server: Server, ctx, browser, watch
) -> None:  # type: ignore[no-untyped-def]
    midwives = []
    for _region in ("zuidwest", "west"):
        # Both midwives in Rotterdam: each also sees the other region as a neighbour within
        # 45 minutes, so a facility moved between them stays on both pages (as "regio ...").
        view = strict_context(browser, watch, viewport={"width": WIDTH, "height": 812})
        midwives.append(view)
    try:
        south = sign_in(midwives[0].new_page(), server, "midwife", region="zuidwest")
        west = sign_in(midwives[1].new_page(), server, "midwife", region="west")
        for mw in (south, west):
            mw.wait_for_selector(".card")
            wait_live(mw)
        expect(card(south, IKAZIA)).to_be_visible()
        expect(card(south, IKAZIA)).not_to_have_class(re.compile(r"\baway\b"))
        expect(card(west, IKAZIA)).to_have_attribute("data-region", "zuidwest")
        expect(card(west, IKAZIA)).to_have_class(re.compile(r"\baway\b"))
        before = card(south, IKAZIA).locator(".cat[data-cat=delivery_room] .cnt").inner_text()

        page = admin_page(ctx, server, "Zorginstellingen")
        page.select_option("#fac-region", "zuidwest")
        item = page.locator(f'[data-facility="{IKAZIA}"]')
        item.get_by_role("button", name="Bewerken").click()
        expect(item.locator(f'[data-contacts-mount="{IKAZIA}"]')).to_have_count(1)
        fits(page, "facility detail")
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "admin")
        # the facility's numbers, in the same editor its own staff use
        slot = item.locator(f'[data-contacts-mount="{IKAZIA}"]')
        slot.get_by_label("Verloskunde").fill("010 555 0101")
        slot.get_by_role("button", name="Nummers opslaan").click()
        expect(page.locator("#toast")).to_contain_text("Nummers opgeslagen")
        numbers = server.call("GET", f"/api/v1/facilities/{IKAZIA}/contacts", "midwife").json()
        assert {"type": "verloskunde", "phone": "010 555 0101", "demo": False} in numbers[
            "contacts"
        ]
        item.get_by_label("Regio (verplaatsen)").select_option("west")
        item.get_by_role("button", name="Opslaan", exact=True).click()
        expect(page.locator("#toast")).to_contain_text("verplaatst naar")

        # the open pages follow without a reload: in west with its figures; the zuidwest
        # midwife (in Rotterdam) still sees it, now as a facility of the neighbouring region
        expect(card(south, IKAZIA)).to_have_attribute("data-region", "west", timeout=5000)
        expect(card(south, IKAZIA)).to_have_class(re.compile(r"\baway\b"))
        moved = card(west, IKAZIA)
        expect(moved).to_have_attribute("data-region", "west", timeout=5000)
        expect(moved).not_to_have_class(re.compile(r"\baway\b"))
        expect(moved.locator(".cat[data-cat=delivery_room] .cnt")).to_have_text(before)

        page.select_option("#fac-region", "west")
        item.get_by_role("button", name="Deactiveren").click()
        item.get_by_role("button", name="Ja, deactiveren").click()
        expect(page.locator("#toast")).to_contain_text("gedeactiveerd")
        expect(item.locator(".tag")).to_have_text("gedeactiveerd")
        expect(card(west, IKAZIA)).to_have_count(0, timeout=5000)
        expect(card(south, IKAZIA)).to_have_count(0, timeout=5000)
        pushed = server.call(
            "PUT", f"/api/v1/facilities/{IKAZIA}/capacity", f"staff-{IKAZIA}",
            json={"categories": {"delivery_room": {"available": 1, "staffed": 4}}},
        )  # fmt: skip
        assert pushed.status_code == 409 and "deactivated" in pushed.text

        item.get_by_role("button", name="Heractiveren").click()
        expect(item.locator(".tag")).to_have_text("actief")
        expect(card(west, IKAZIA)).to_be_visible(timeout=5000)
    finally:
        for view in midwives:
            view.close()


def test_a_screen_chosen_while_another_loads_is_the_one_shown(server: Server, ctx) -> None:  # type: ignore[no-untyped-def]
    """On a slow network she taps "Beheer" while the midwife screen is still arriving: the admin
    screen stays, and the late midwife screen neither replaces it nor throws into it."""
    page = ctx.new_page()
    held: list[Any] = []
    # the midwife screen's code is still on its way when she taps another screen
    page.route("**/js/midwife.js*", lambda route: held.append(route))
    sign_in(page, server, "admin")
    page.locator("#nav").get_by_role("link", name="Beheer").click()
    expect(page.get_by_role("tab", name="Gebruikers")).to_be_visible()
    assert held, "the midwife module was never asked for: the race was not staged"
    for route in held:
        route.continue_()
    page.unroute("**/js/midwife.js*")
    page.wait_for_timeout(2500)  # the late module and its first answers have come in by now
    expect(page.get_by_role("tab", name="Gebruikers")).to_be_visible()
    assert page.locator("#cards").count() == 0
    assert page.evaluate("location.hash") == "#/admin"


def test_admin_filters_the_audit_trail(server: Server, ctx) -> None:  # type: ignore[no-untyped-def]
    page = admin_page(ctx, server, "Audit")
    page.wait_for_selector("#audit [data-event]")
    page.select_option("#au-action", "facility.")
    page.select_option("#au-fac", IKAZIA)
    page.click("#audit-form button[type=submit]")
    events = page.locator("#audit [data-event] .adm-head b")
    expect(events).to_have_text(["facility.activate", "facility.deactivate", "facility.move"])
    fits(page, "audit")
    page.select_option("#au-fac", "")
    page.select_option("#au-action", "user.")
    page.fill("#au-actor", "user:admin")
    page.click("#audit-form button[type=submit]")
    expect(page.locator("#audit")).to_contain_text("user.create")
    expect(page.locator("#audit")).not_to_contain_text("facility.")
    page.fill("#au-from", "2026-12-05")
    page.fill("#au-to", "2026-12-01")
    page.click("#audit-form button[type=submit]")
    expect(page.locator("#au-to-err")).not_to_be_empty()  # 'to' before 'from': said beside it


def test_admin_maps_wards_and_the_hospitals_bed_list_then_counts(server: Server, ctx) -> None:  # type: ignore[no-untyped-def]
    page = admin_page(ctx, server, "Zorginstellingen")
    page.select_option("#fac-region", "zuidwest")
    item = page.locator(f'[data-facility="{ERASMUS}"]')
    item.get_by_role("button", name="Bewerken").click()
    slot = item.locator(f'[data-wardmap-mount="{ERASMUS}"]')
    expect(slot.get_by_text("Nog geen afdelingen gekoppeld.")).to_be_visible()
    slot.get_by_role("button", name="Afdeling toevoegen").click()
    slot.locator("#wm-ward-0").fill("vk")
    slot.get_by_role("button", name="Afdeling toevoegen").click()
    slot.locator("#wm-ward-1").fill("=cmd")
    slot.locator("#wm-cat-1").select_option("maternity_bed")
    fits(page, "ward map")
    slot.get_by_role("button", name="Koppeling opslaan").click()
    # The formula is refused beside its own row; nothing is saved.
    expect(slot.locator('[data-wm-err="1"]')).to_contain_text("geen afdelingscode")
    expect(slot.locator("#wm-ward-1")).to_have_attribute("aria-invalid", "true")
    assert server.call("GET", f"/api/v1/facilities/{ERASMUS}/wards", "admin").json()["wards"] == []
    slot.locator("#wm-ward-1").fill("KRAAM")
    slot.get_by_role("button", name="Koppeling opslaan").click()
    expect(page.locator("#toast")).to_contain_text("Koppeling opgeslagen")
    expect(slot.locator("#wm-ward-1")).to_have_value("VK")  # sorted, in upper case
    stored = server.call("GET", f"/api/v1/facilities/{ERASMUS}/wards", "admin").json()["wards"]
    assert stored == [
        {"ward": "KRAAM", "category": "maternity_bed"},
        {"ward": "VK", "category": "delivery_room"},
    ]
    beds = "ward;room;bed;status\nVK;1;1;free\nVK;1;2;occupied\nKRAAM;2;1;closed\nOK;3;1;free\n"
    pushed = httpx.post(
        server.base + f"/api/v1/facilities/{ERASMUS}/beds",
        content=beds.encode(),
        headers={**server.headers(f"staff-{ERASMUS}"), "Content-Type": "text/csv"},
        timeout=10,
    )
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["unmapped_wards"] == ["OK"]
    figures = pushed.json()["facility"]["categories"]
    assert figures["delivery_room"]["available"] == 1 and figures["delivery_room"]["staffed"] == 2
    # The remove button drops a row; saving an empty map is allowed.
    slot.get_by_role("button", name="Verwijder afdeling KRAAM").click()
    expect(slot.locator(".wm-row")).to_have_count(1)
