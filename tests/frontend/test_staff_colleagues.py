"""Two colleagues on the same ward, each on her own phone (issue 12.6), in real Chromium at 375 px.

A change made on one phone, or pushed by the hospital's system, appears on the other within a
second, naming who made it; the other's own unsaved edit is never clobbered; her save sends only
what she changed and cannot overwrite a colleague's newer figure. Old figures warn in words,
judged by the region's freshness limit (here one hour), and "Klopt nog" confirms in one tap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import update
from sqlmodel import col

from capacity.availability.models import CapacityFigure
from tests.frontend import test_browser
from tests.frontend.test_browser import ERASMUS, REGION, Server, Watch, shot, wait_live
from tests.frontend.test_staff_live import STAFF, Ward, fieldset

pytestmark = test_browser.pytestmark
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
COLLEAGUE, PASSWORD, DEMO = "nurse-b-erasmus", "night-shift-42", "demo"
PHONE_375 = {"viewport": {"width": 375, "height": 812}}
SECOND = 1000  # ms: "appears within a second"


@pytest.fixture
def ward(databases, own_valkey, tmp_path: Path) -> Iterator[Ward]:  # type: ignore[no-untyped-def]
    server = Server(databases.fresh(), own_valkey.url, tmp_path / "var")
    server.env["CAPACITY_FRESHNESS_LIMIT_MINUTES"] = "60"  # the region's limit: one hour
    w = Ward(server.start())
    made = server.call(
        "POST",
        "/api/v1/users",
        "admin",
        json={
            "username": COLLEAGUE,
            "password": PASSWORD,
            "role": "facility_staff",
            "facility_id": ERASMUS,
        },
    )
    assert made.status_code == 201, made.text
    labelled = server.call(
        "POST", f"/api/v1/facilities/{ERASMUS}/keys", "admin", json={"label": "HiX"}
    )
    assert labelled.status_code == 201, labelled.text
    w.key = labelled.json()["key"]  # the hospital's system pushes with a key named by the admin
    try:
        yield w
    finally:
        w.engine.dispose()
        server.stop()


@pytest.fixture
def phones(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """``phones(n)``: n separate browser contexts (devices), each watched for errors and CSP."""
    watch = Watch()
    made: list[Any] = []

    def open_phones(n: int) -> list[Any]:
        for _ in range(n):
            made.append(test_browser.strict_context(browser, watch, **PHONE_375))
        return made[-n:]

    yield open_phones
    for ctx in made:
        ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def sign_in(ctx, server: Server, user: str, password: str, page=None):  # type: ignore[no-untyped-def]
    page = page or ctx.new_page()
    page.add_init_script(f"localStorage.setItem('cap.region', {json.dumps(REGION)})")
    page.goto(server.base + "/#/staff")
    page.fill("#u", user)
    page.fill("#p", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-form", state="detached", timeout=15000)
    page.wait_for_selector(".stepcat[data-cat=delivery_room]")
    wait_live(page)
    return page


def body(request) -> Any:  # type: ignore[no-untyped-def]
    return json.loads(request.post_data or "{}")


def test_colleagues_see_each_others_changes_live_and_never_overwrite_them(ward, phones) -> None:  # type: ignore[no-untyped-def]
    ward.push(delivery_room=(2, 6), maternity_bed=(5, 20))
    phone_a, phone_b = phones(2)
    a = sign_in(phone_a, ward.server, STAFF, DEMO)
    b = sign_in(phone_b, ward.server, COLLEAGUE, PASSWORD)
    b.evaluate("window.__same_page = 1")
    room_b, beds_b = fieldset(b, "delivery_room"), fieldset(b, "maternity_bed")
    expect(room_b.locator(".fresh")).to_contain_text("door ziekenhuissysteem (HiX)")

    # B starts on the maternity beds and has not saved yet.
    beds_b.get_by_role("button", name="Vrij: Eén meer").click()
    expect(b.locator("#maternity_bed-available")).to_have_value("6")

    # A takes a delivery room off and saves: B sees it within a second, with A's name.
    fieldset(a, "delivery_room").get_by_role("button", name="Vrij: Eén minder").click()
    with a.expect_response(lambda r: r.request.method == "PUT") as saved_a:
        a.click("#save")
    assert saved_a.value.status == 200
    assert body(saved_a.value.request) == {
        "categories": {"delivery_room": {"available": 1, "staffed": 6}}
    }
    expect(b.locator("#delivery_room-available")).to_have_value("1", timeout=SECOND)
    expect(room_b.locator(".fresh")).to_contain_text(f"door {STAFF}", timeout=SECOND)
    expect(room_b.locator(".fresh")).to_contain_text("Bijgewerkt zojuist om")
    expect(b.locator("#maternity_bed-available")).to_have_value("6")  # her edit is kept
    expect(beds_b.locator(".changed")).to_contain_text("Gewijzigd, nog niet opgeslagen")
    assert b.evaluate("window.__same_page") == 1  # no reload
    version_after_a = saved_a.value.json()["version"]

    # B saves: only the maternity beds are sent, on the version that includes A's change.
    with b.expect_response(lambda r: r.request.method == "PUT") as saved_b:
        b.click("#save")
    assert saved_b.value.status == 200
    assert body(saved_b.value.request) == {
        "categories": {"maternity_bed": {"available": 6, "staffed": 20}}
    }
    assert saved_b.value.request.headers["if-match"] == f'"{version_after_a}"'
    stored = ward.stored()
    assert stored["delivery_room"][:2] == (1, 6) and stored["delivery_room"][3] == f"user:{STAFF}"
    assert stored["maternity_bed"][:2] == (6, 20)
    assert stored["maternity_bed"][3] == f"user:{COLLEAGUE}"
    expect(a.locator("#maternity_bed-available")).to_have_value("6", timeout=SECOND)
    expect(fieldset(a, "maternity_bed").locator(".fresh")).to_contain_text(f"door {COLLEAGUE}")
    expect(fieldset(a, "delivery_room").locator(".fresh")).to_contain_text(f"door {STAFF}")

    # The hospital's system pushes; B is editing the delivery room meanwhile: the field she
    # edits keeps her figure and says who changed it; the others follow at once.
    room_b.get_by_role("button", name="Vrij: Eén meer").click()
    expect(b.locator("#delivery_room-available")).to_have_value("2")
    ward.push(delivery_room=(0, 6), nicu=(3, 9))
    expect(b.locator("#nicu-available")).to_have_value("3", timeout=SECOND)
    expect(fieldset(b, "nicu").locator(".fresh")).to_contain_text("door ziekenhuissysteem")
    expect(room_b.locator(".conflict")).to_contain_text(
        "Intussen gewijzigd door ziekenhuissysteem", timeout=SECOND
    )
    expect(room_b.locator(".conflict")).to_contain_text("nu 0 vrij van 6")
    expect(b.locator("#delivery_room-available")).to_have_value("2")
    expect(a.locator("#delivery_room-available")).to_have_value("0", timeout=SECOND)
    b.evaluate("document.getElementById('toast').hidden = true")  # B's earlier "saved"
    b.locator("#delivery_room-available").scroll_into_view_if_needed()
    shot(b, "staff-live")

    # Her save does not overwrite the system's newer figure: 412, both figures shown.
    with b.expect_response(lambda r: r.request.method == "PUT") as refused:
        b.click("#save")
    assert refused.value.status == 412
    assert body(refused.value.request) == {
        "categories": {"delivery_room": {"available": 2, "staffed": 6}}
    }
    expect(b.locator("#conflict-msg")).to_contain_text("Intussen gewijzigd door ziekenhuissysteem")
    assert ward.stored()["delivery_room"][:2] == (0, 6)
    # She re-applies her figure knowingly: it goes through on the version she has now seen.
    with b.expect_response(lambda r: r.request.method == "PUT") as again:
        b.click("#save")
    assert again.value.status == 200
    assert ward.stored()["delivery_room"][:2] == (2, 6)
    assert ward.stored()["nicu"][:2] == (3, 9)
    expect(a.locator("#delivery_room-available")).to_have_value("2", timeout=SECOND)
    expect(fieldset(a, "delivery_room").locator(".fresh")).to_contain_text(f"door {COLLEAGUE}")


def _age(ward: Ward, own_valkey, **minutes: int) -> None:  # type: ignore[no-untyped-def]
    """Set categories' measured time back in SQL and the live picture, as if nobody had reported
    since (the next write builds the picture from SQL: the other figures stay old there too)."""
    r = redis.Redis.from_url(own_valkey.url)
    key = f"cap:{{{REGION}}}:state"
    raw = json.loads(r.hget(key, ERASMUS))
    with ward.engine.begin() as conn:
        for category, back in minutes.items():
            old = datetime.now(UTC) - timedelta(minutes=back)
            raw["categories"][category].update(ts=old.timestamp(), updated_at=old.isoformat())
            conn.execute(
                update(CapacityFigure)
                .where(
                    col(CapacityFigure.facility_id) == ERASMUS,
                    col(CapacityFigure.category) == category,
                )
                .values(updated_at=old)
            )
    r.hset(key, ERASMUS, json.dumps(raw))


def test_old_figures_warn_by_the_regions_limit_and_overdue_ward_is_told(
    ward, phones, own_valkey
) -> None:  # type: ignore[no-untyped-def]
    ward.push(delivery_room=(2, 6), maternity_bed=(5, 20))
    _age(ward, own_valkey, delivery_room=90, maternity_bed=50)
    (phone,) = phones(1)
    page = sign_in(phone, ward.server, STAFF, DEMO)
    room, beds = fieldset(page, "delivery_room"), fieldset(page, "maternity_bed")
    # Older than the region's hour: stale, in words, with what a midwife sees.
    expect(room.locator(".stalewarn")).to_contain_text(
        "Verouderd: ouder dan 1 uur. Verloskundigen zien"
    )
    expect(room.locator(".stalewarn")).to_contain_text("onbekend")
    expect(room.locator(".fresh")).to_contain_text("Bijgewerkt 1 uur geleden om")
    # Ten minutes left: a warning before it happens.
    expect(beds.locator(".soonwarn")).to_contain_text("Wordt over 10 min verouderd")
    expect(beds.locator(".stalewarn")).to_have_count(0)
    expect(fieldset(page, "nicu").locator(".never")).to_contain_text("Nog nooit gemeld")
    expect(page.locator("#overdue")).to_be_hidden()
    colour = room.locator(".stalewarn").evaluate("e => getComputedStyle(e).borderTopColor")
    assert colour == "rgb(240, 136, 62)"  # orange border beside the words

    # Nothing fresh at all: the whole ward is overdue.
    _age(ward, own_valkey, delivery_room=90, maternity_bed=70)
    page.reload()
    wait_live(page)
    expect(page.locator("#overdue")).to_contain_text("Achterstallig: geen enkel cijfer is actueel")
    page.click("#lang")
    expect(page.locator("#overdue")).to_contain_text("Overdue: not one figure is up to date")
    expect(room.locator(".stalewarn")).to_contain_text("Out of date: older than 1 h")
    page.click("#lang")

    # One tap on "Klopt nog" confirms the figure as it stands: only that category is sent.
    with page.expect_response(lambda r: r.request.method == "PUT") as sent:
        room.get_by_role("button", name="Verloskamer: Klopt nog").click()
    assert sent.value.status == 200
    assert body(sent.value.request) == {
        "categories": {"delivery_room": {"available": 2, "staffed": 6}}
    }
    expect(room.locator(".stalewarn")).to_have_count(0)
    expect(room.locator(".fresh")).to_contain_text("Bijgewerkt zojuist om")
    expect(room.locator(".fresh")).to_contain_text(f"door {STAFF}")
    expect(page.locator("#overdue")).to_be_hidden()
    expect(beds.locator(".stalewarn")).to_contain_text("Verouderd")
    assert ward.stored()["maternity_bed"][:2] == (5, 20)
    shot(page, "staff-stale")


def test_ages_and_warnings_move_on_while_the_page_stays_open(ward, phones, own_valkey) -> None:  # type: ignore[no-untyped-def]
    ward.push(delivery_room=(2, 6))
    _age(ward, own_valkey, delivery_room=58)
    (phone,) = phones(1)
    page = phone.new_page()
    page.clock.install()  # the page's own clock, moved on below without any message arriving
    sign_in(phone, ward.server, STAFF, DEMO, page=page)
    room = fieldset(page, "delivery_room")
    expect(room.locator(".soonwarn")).to_contain_text("Wordt over 2 min verouderd")
    expect(room.locator(".fresh")).to_contain_text("Bijgewerkt 58 min geleden om")
    page.clock.fast_forward("02:31")  # the 30-second repaint runs: now past the region's hour
    expect(room.locator(".stalewarn")).to_contain_text("Verouderd: ouder dan 1 uur")
    expect(room.locator(".fresh")).to_contain_text("Bijgewerkt 1 uur geleden om")
    expect(room.locator(".soonwarn")).to_have_count(0)
