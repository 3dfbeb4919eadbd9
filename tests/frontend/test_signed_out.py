"""A live screen whose session the service ends goes to the login screen, saying why (issue 11.1).

The service closes a live stream with 4401 when its token expires or is revoked (the account
deactivated); the page must then ask to sign in again, in Dutch or English, instead of
reconnecting with a token that will never work again. Real Chromium at 390 px, a real server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.frontend import test_browser
from tests.frontend.test_browser import (
    ERASMUS,
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


@pytest.fixture
def server(databases, own_valkey, tmp_path: Path) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path / "var").start()
    yield srv
    srv.stop()


@pytest.fixture
def page(browser, server: Server) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    watch = Watch()
    ctx = strict_context(browser, watch)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def test_deactivated_midwife_is_asked_to_sign_in_again_not_reconnected(server, page) -> None:  # type: ignore[no-untyped-def]
    sockets: list[Any] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    sign_in(page, server, "midwife")
    wait_live(page)

    r = server.call("PATCH", "/api/v1/users/midwife", "admin", json={"active": False})
    assert r.status_code == 200, r.text

    notice = page.locator("#signed-out")
    expect(notice).to_contain_text("Log opnieuw in", timeout=10000)
    expect(page.locator("#login-form")).to_be_visible()
    opened = len(sockets)
    page.wait_for_timeout(3000)  # the old page reconnected within a second, again and again
    assert len(sockets) == opened, "the page kept reconnecting with a refused token"
    shot(page, "signed-out")
    page.click("#lang")
    expect(notice).to_contain_text("Please sign in again")
    page.click("#lang")

    r = server.call("PATCH", "/api/v1/users/midwife", "admin", json={"active": True})
    assert r.status_code == 200, r.text
    page.fill("#u", "midwife")
    page.fill("#p", "demo")
    page.click("#login-form button[type=submit]")
    # Signed in afresh, the screen follows the live stream again.
    badge = card(page, ERASMUS).locator(".cat[data-cat=delivery_room] .badge")
    expect(badge).to_be_visible()
    server.figures(ERASMUS, delivery_room=(3, 6))
    expect(badge).to_contain_text("3 vrij", timeout=10000)
    wait_live(page)
    expect(page.locator("#signed-out")).to_have_count(0)
