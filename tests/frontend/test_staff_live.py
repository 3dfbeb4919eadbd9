"""The ward's screen in a real browser while the hospital system pushes figures (issue 10.5).

The screen follows the live stream for what the nurse has not touched, sends only what she
changed, and when someone changed her category between her load and her save it shows their
figures beside hers (412) instead of overwriting them. Real Chromium at 390 px, a real server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.faults.support import rows, sql
from tests.frontend import test_browser
from tests.frontend.test_browser import (
    ERASMUS,
    REGION,
    Server,
    Watch,
    shot,
    sign_in,
    strict_context,
    wait_live,
)

pytestmark = test_browser.pytestmark  # chromium missing: skipped, as the other browser tests
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
STAFF = f"staff-{ERASMUS}"
CAPACITY = f"/api/v1/facilities/{ERASMUS}/capacity"


class Ward:
    """A fresh service, the hospital system's API key, and plain SQL to check what was stored."""

    def __init__(self, server: Server):
        self.server = server
        r = server.call("POST", f"/api/v1/facilities/{ERASMUS}/keys", "admin", json={})
        assert r.status_code == 201, r.text
        self.key = r.json()["key"]
        self.engine = sql(server.env["CAPACITY_DATABASE_URL"])

    def push(self, **cats: tuple[int, int]) -> dict[str, Any]:
        """The hospital system (its API key) pushes figures."""
        body = {"categories": {c: {"available": a, "staffed": s} for c, (a, s) in cats.items()}}
        r = httpx.put(
            self.server.base + CAPACITY, headers={"X-API-Key": self.key}, json=body, timeout=10
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def stored(self) -> dict[str, tuple[int, int, str, str]]:
        """category -> (available, staffed, updated_at, updated_by) as SQL holds them."""
        found = rows(
            self.engine,
            "SELECT category, available, staffed, updated_at, updated_by FROM capacity_figure "
            "WHERE facility_id = :f",
            f=ERASMUS,
        )
        return {str(c): (a, s, str(u), str(by)) for c, a, s, u, by in found}


@pytest.fixture
def ward(databases, own_valkey, tmp_path: Path) -> Iterator[Ward]:  # type: ignore[no-untyped-def]
    server = Server(databases.fresh(), own_valkey.url, tmp_path / "var").start()
    w = Ward(server)
    try:
        yield w
    finally:
        w.engine.dispose()
        server.stop()


@pytest.fixture
def page(browser, ward: Ward) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    watch = Watch()
    ctx = strict_context(browser, watch)  # 390 x 844, strict CSP watched, no service worker
    try:
        yield sign_in(ctx.new_page(), ward.server, STAFF)
    finally:
        ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def fieldset(page, category: str):  # type: ignore[no-untyped-def]
    return page.locator(f".stepcat[data-cat={category}]")


def test_live_push_shown_nurse_sends_only_her_change_then_conflict_412(ward, page) -> None:  # type: ignore[no-untyped-def]
    ward.push(delivery_room=(2, 6), nicu=(1, 10))
    page.reload()
    nicu = fieldset(page, "nicu")
    expect(page.locator("#nicu-available")).to_have_value("1")
    wait_live(page)
    page.evaluate("window.__same_page = 1")

    # The hospital system pushes NICU figures: they appear without a reload, with their author.
    ward.push(nicu=(4, 12))
    expect(page.locator("#nicu-available")).to_have_value("4")
    expect(page.locator("#nicu-staffed")).to_have_value("12")
    expect(nicu.locator(".fresh")).to_contain_text("door ziekenhuissysteem")
    assert page.evaluate("window.__same_page") == 1
    pushed = ward.stored()["nicu"]

    # The nurse changes the delivery room only; it is marked as hers until saved.
    room = fieldset(page, "delivery_room")
    room.get_by_role("button", name="Vrij: Eén meer").click()
    expect(room.locator(".changed")).to_contain_text("Gewijzigd, nog niet opgeslagen")
    expect(nicu.locator(".changed")).to_have_count(0)
    with page.expect_request(lambda r: r.method == "PUT") as sent:
        page.click("#save")
    assert json.loads(sent.value.post_data or "{}") == {
        "categories": {"delivery_room": {"available": 3, "staffed": 6}}
    }
    expect(page.locator("#toast")).to_contain_text("Cijfers opgeslagen")
    stored = ward.stored()
    assert stored["nicu"] == pushed  # the system's figures, time and author untouched
    assert stored["delivery_room"][:2] == (3, 6)
    assert stored["delivery_room"][3] == f"user:{STAFF}"
    picture = ward.server.call("GET", f"/api/v1/regions/{REGION}/capacity", "midwife").json()
    entry = next(f for f in picture["facilities"] if f["facility_id"] == ERASMUS)
    assert (entry["categories"]["nicu"]["available"], entry["categories"]["nicu"]["staffed"]) == (
        4,
        12,
    )

    # She starts another change; the system changes the same category before she saves.
    room.get_by_role("button", name="Vrij: Eén meer").click()
    expect(page.locator("#delivery_room-available")).to_have_value("4")
    ward.push(delivery_room=(0, 6))
    with page.expect_response(lambda r: r.request.method == "PUT") as first:
        page.click("#save")
    assert first.value.status == 412
    message = page.locator("#conflict-msg")
    expect(message).to_contain_text("Intussen gewijzigd door ziekenhuissysteem om")
    expect(message).to_contain_text("controleer en sla opnieuw op")
    expect(room.locator(".conflict")).to_contain_text("nu 0 vrij van 6")
    expect(page.locator("#delivery_room-available")).to_have_value("4")  # her edit is kept
    assert ward.stored()["delivery_room"][:2] == (0, 6)  # the system's change stands
    shot(page, "staff-conflict-message")
    room.scroll_into_view_if_needed()
    shot(page, "staff-conflict")
    page.click("#lang")
    expect(message).to_contain_text("Changed meanwhile by hospital system at")
    expect(message).to_contain_text("check and save again")
    page.click("#lang")

    # Saved again, on the version she has now seen: it goes through.
    with page.expect_response(lambda r: r.request.method == "PUT") as second:
        page.click("#save")
    assert second.value.status == 200
    expect(page.locator("#toast")).to_contain_text("Cijfers opgeslagen")
    expect(message).to_be_empty()
    stored = ward.stored()
    assert stored["delivery_room"][:2] == (4, 6)
    assert stored["nicu"] == pushed


def test_old_figure_warns_and_can_be_confirmed(ward, page, own_valkey) -> None:  # type: ignore[no-untyped-def]
    ward.push(delivery_room=(2, 6), maternity_bed=(5, 20))
    # Age the delivery room figure in the live picture, as if nobody had reported for 5 hours.
    r = redis.Redis.from_url(own_valkey.url)
    key = f"cap:{{{REGION}}}:state"
    raw = json.loads(r.hget(key, ERASMUS))
    old = datetime.now(UTC) - timedelta(hours=5)
    raw["categories"]["delivery_room"].update(ts=old.timestamp(), updated_at=old.isoformat())
    r.hset(key, ERASMUS, json.dumps(raw))
    page.reload()
    room = fieldset(page, "delivery_room")
    expect(room.locator(".stalewarn")).to_contain_text("Verouderd: ouder dan 4 uur")
    expect(room.locator(".fresh")).to_contain_text("5 uur geleden")
    expect(fieldset(page, "maternity_bed").locator(".stalewarn")).to_have_count(0)
    page.click("#lang")
    expect(room.locator(".stalewarn")).to_contain_text("Out of date: older than 4 h")
    page.click("#lang")
    # Nothing touched: saving says so and sends nothing.
    page.click("#save")
    expect(page.locator("#fig-error")).to_contain_text("Niets gewijzigd")
    # "Still correct" confirms the figure unchanged in one tap: only that category is sent, on
    # the version shown, and it is fresh.
    with page.expect_request(lambda r: r.method == "PUT") as sent:
        room.get_by_role("button", name="Verloskamer: Klopt nog").click()
    assert sent.value.headers["if-match"] == f'"{raw["version"]}"'

    assert json.loads(sent.value.post_data or "{}") == {
        "categories": {"delivery_room": {"available": 2, "staffed": 6}}
    }
    expect(page.locator("#toast")).to_contain_text("Verloskamer: bevestigd")
    expect(room.locator(".stalewarn")).to_have_count(0)
    expect(room.locator(".fresh")).to_contain_text("zojuist")
