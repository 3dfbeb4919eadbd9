"""The service's own error messages reach the screen in the screen's language (issue 12).

The web app sends ``Accept-Language`` with the language it shows; a 422 the service raises (4
free beds of 3 staffed) appears beside the field in Dutch by default, and in English after the
language switch. Real Chromium at 375 px, a real server, no console errors or CSP violations.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.frontend import test_browser
from tests.frontend.test_browser import ERASMUS, Server, Watch, shot, sign_in, strict_context

pytestmark = test_browser.pytestmark  # chromium missing: skipped, as the other browser tests
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
CAPACITY = f"/facilities/{ERASMUS}/capacity"
server = test_browser.server  # the module's own service with the real frontend


@pytest.fixture
def phone(browser) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    watch = Watch()
    ctx = strict_context(browser, watch, viewport={"width": 375, "height": 812})
    yield ctx
    ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def _save(page) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Press save; the refused answer's request headers (what the page asked for)."""
    with page.expect_response(
        lambda r: r.url.endswith(CAPACITY) and r.request.method == "PUT"
    ) as answer:
        page.click("#save")
    assert answer.value.status == 422
    assert answer.value.headers["content-language"] in ("nl", "en")
    return dict(answer.value.request.headers)


def test_a_refused_save_is_explained_in_dutch_then_in_english_after_the_switch(
    server: Server, phone
) -> None:  # type: ignore[no-untyped-def]
    server.figures(ERASMUS, delivery_room=(2, 3))
    page = sign_in(phone.new_page(), server, f"staff-{ERASMUS}")
    page.wait_for_selector(".stepcat[data-cat=delivery_room]")
    plus = page.get_by_role("button", name="Vrij: Eén meer").first
    plus.click()
    plus.click()  # 4 free of 3 staffed: the service refuses it
    expect(page.locator("#delivery_room-available")).to_have_value("4")
    asked = _save(page)
    assert asked["accept-language"] == "nl"
    err = page.locator("#err-delivery_room-available")
    expect(err).to_have_text("vrij (4) mag niet hoger zijn dan bemand (3)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    err.scroll_into_view_if_needed()
    shot(page, "server-error-nl-375")

    page.click("#lang")  # to English; the edit stays on the screen
    expect(page.locator("#lang")).to_have_text("NL")
    expect(page.locator("#delivery_room-available")).to_have_value("4")
    asked = _save(page)
    assert asked["accept-language"] == "en"
    expect(err).to_have_text("available (4) may not exceed staffed (3)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "server-error-en-375")

    page.click("#lang")  # and back: Dutch again, from the service as well
    asked = _save(page)
    assert asked["accept-language"] == "nl"
    expect(err).to_have_text("vrij (4) mag niet hoger zijn dan bemand (3)")
