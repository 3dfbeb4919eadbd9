"""A signed-in midwife changes her own password on her phone, in a real browser.

The service revokes every older token of the account at once and closes its open live streams
with 4401, possibly before its answer with the new token reaches the page. The page must keep the
new token, follow the region's stream with it and never show "your session has ended" because the
old stream was closed. Errors stand beside the field they are about, in Dutch and English.
Real Chromium at 390 px (360 px for the English check), a real server, the strict CSP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.frontend import test_browser
from tests.frontend.test_browser import (
    ERASMUS,
    LOW_CONTRAST,
    UNLABELLED,
    Server,
    Watch,
    card,
    shot,
    sign_in,
    strict_context,
    wait_live,
)

pytestmark = test_browser.pytestmark  # chromium missing: skipped, as the other browser tests
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

NEW = "nieuw-wachtwoord-1"


@pytest.fixture
def server(databases, own_valkey, tmp_path: Path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path / "var").start()
    yield srv
    srv.stop()


def fill(page, current: str, new: str, repeat: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#pw-cur", current)
    page.fill("#pw-new", new)
    page.fill("#pw-rep", repeat)
    page.click("#pw-save")


def token_works(server: Server, token: str) -> bool:
    r = httpx.get(server.base + "/api/v1/regions", headers={"Authorization": f"Bearer {token}"})
    return r.status_code == 200


def test_midwife_changes_password_and_the_region_stays_live(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    watch = Watch()
    ctx = strict_context(browser, watch)
    try:
        page = ctx.new_page()
        sockets: list[Any] = []
        page.on("websocket", lambda ws: sockets.append(ws))
        changes: list[str] = []
        page.on(
            "request",
            lambda r: changes.append(r.method) if r.url.endswith("/api/v1/auth/password") else None,
        )
        sign_in(page, server, "midwife")
        wait_live(page)
        old_token = page.evaluate("JSON.parse(localStorage.getItem('cap.session')).token")

        # Reachable beside sign-out, named for a screen reader, with the fields a password
        # manager understands.
        account = page.locator("#account")
        expect(account).to_have_text("Wachtwoord")
        expect(account).to_have_attribute(
            "aria-label", "Wachtwoord wijzigen (ingelogd als midwife)"
        )
        account.click()
        dialog = page.locator("#password")
        expect(dialog).to_be_visible()
        expect(page.get_by_label("Huidig wachtwoord")).to_have_attribute(
            "autocomplete", "current-password"
        )
        expect(page.get_by_label("Nieuw wachtwoord", exact=True)).to_have_attribute(
            "autocomplete", "new-password"
        )
        expect(page.get_by_label("Herhaal nieuw wachtwoord")).to_have_attribute(
            "autocomplete", "new-password"
        )
        assert page.evaluate(UNLABELLED) == []
        assert page.evaluate(LOW_CONTRAST) == []

        # A wrong current password: the service's answer beside that field, in Dutch.
        fill(page, "niet-mijn-wachtwoord", NEW, NEW)
        expect(page.locator("#pw-cur-err")).to_have_text("Dit is niet uw huidige wachtwoord.")
        expect(page.locator("#pw-cur")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#pw-new-err")).to_be_hidden()
        shot(page, "password-wrong-current")

        # The repeat differs: said at once, beside the repeat, nothing sent.
        sent = len(changes)
        fill(page, "demo", NEW, NEW + "x")
        expect(page.locator("#pw-rep-err")).to_have_text(
            "De twee nieuwe wachtwoorden zijn niet gelijk."
        )
        expect(page.locator("#pw-cur-err")).to_be_hidden()
        assert len(changes) == sent

        # Too short: the service's answer beside the new password.
        fill(page, "demo", "kort", "kort")
        expect(page.locator("#pw-new-err")).to_have_text("Een wachtwoord heeft 8 tot 200 tekens.")
        expect(page.locator("#pw-new")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#pw-cur-err")).to_be_hidden()
        assert token_works(server, old_token), "a refused change revoked nothing"

        # The right change. Its answer is held back until the service has closed the old stream
        # (4401), the order a slow phone network gives: the page must not take that close for
        # the end of its session.
        old_stream = sockets[-1]
        opened = len(sockets)

        def hold_answer(route) -> None:  # type: ignore[no-untyped-def]
            answer = route.fetch()
            if not old_stream.is_closed():
                old_stream.wait_for_event("close", timeout=10000)
            route.fulfill(response=answer)

        page.route("**/api/v1/auth/password", hold_answer)
        fill(page, "demo", NEW, NEW)
        done = page.locator("#pw-done")
        expect(done).to_have_text(
            "Uw wachtwoord is gewijzigd. Uw andere apparaten moeten opnieuw inloggen.",
            timeout=15000,
        )
        assert old_stream.is_closed()
        shot(page, "password-changed")
        page.click("#pw-close")
        expect(dialog).to_have_count(0)

        # The new token is where the app keeps its token; the old one is refused.
        new_token = page.evaluate("JSON.parse(localStorage.getItem('cap.session')).token")
        assert new_token != old_token
        assert token_works(server, new_token)
        assert not token_works(server, old_token)

        # The region keeps following the stream, on a new socket, with no signed-out notice.
        wait_live(page)
        assert len(sockets) > opened
        badge = card(page, ERASMUS).locator(".cat[data-cat=delivery_room] .badge")
        server.figures(ERASMUS, delivery_room=(3, 6))
        expect(badge).to_contain_text("3 vrij", timeout=10000)
        server.figures(ERASMUS, delivery_room=(1, 6))
        expect(badge).to_contain_text("1 vrij", timeout=10000)
        expect(page.locator("#signed-out")).to_have_count(0)
        expect(page.locator("#login-form")).to_have_count(0)

        # Signed out, the old password no longer opens the account; the new one does.
        page.click("#logout")
        page.fill("#u", "midwife")
        page.fill("#p", "demo")
        page.click("#login-form button[type=submit]")
        expect(page.locator("#login-error")).to_have_text("Onjuiste gebruikersnaam of wachtwoord.")
        page.fill("#p", NEW)
        page.click("#login-form button[type=submit]")
        expect(badge).to_contain_text("1 vrij")
        wait_live(page)
    finally:
        ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def test_password_screen_in_english_fits_a_small_phone(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    watch = Watch()
    ctx = strict_context(browser, watch, viewport={"width": 360, "height": 740})
    try:
        page = ctx.new_page()
        sign_in(page, server, "midwife")
        wait_live(page)
        page.click("#lang")
        account = page.locator("#account")
        expect(account).to_have_text("Password")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        account.click()
        expect(page.locator("#pw-title")).to_have_text("Change password")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        fill(page, "not-my-password", NEW, NEW)
        expect(page.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#pw-cur-err")).to_have_text("This is not your current password.")
        fill(page, "demo", "short", "short")
        expect(page.locator("#pw-new-err")).to_have_text("A password has 8 to 200 characters.")
        fill(page, "demo", NEW, "other-password")
        expect(page.locator("#pw-rep-err")).to_have_text("The two new passwords are not the same.")
        assert page.evaluate(UNLABELLED) == []
        shot(page, "password-en")
        # A wrong current password counts as a failed login: after five the service says 429,
        # and the field says so and until when (not "wrong password").
        error = page.locator("#pw-cur-err")
        for _ in range(4):
            page.evaluate("document.getElementById('pw-cur-err').textContent = ''")
            fill(page, "not-my-password", NEW, NEW)
            expect(error).to_have_text("This is not your current password.")
        fill(page, "demo", NEW, NEW)
        expect(error).to_contain_text("Too many wrong passwords. Try again from ")
        page.click("#pw-cancel")
        expect(page.locator("#password")).to_have_count(0)
        expect(page.locator("#signed-out")).to_have_count(0)
    finally:
        ctx.close()
    assert not watch.problems, "\n".join(watch.problems)
