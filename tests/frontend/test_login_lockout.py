"""The login form after too many wrong passwords, in a real browser (issue 11, point 5).

It said "wrong password" even for the right one while the account was locked. Now it says the
account is locked from this connection and until when, in local time, in Dutch and English.
Real Chromium at 390 px, a real server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.frontend import test_browser
from tests.frontend.test_browser import PHONE, Server, Watch, shot, strict_context

pytestmark = test_browser.pytestmark
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(scope="module")
def server(databases, own_valkey, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path_factory.mktemp("fe-lock")).start()
    yield srv
    srv.stop()


def submit(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("#u", username)
    page.fill("#p", password)
    page.click("#login-form button[type=submit]")


def local_times(iso: str) -> set[str]:
    """HH:MM of the lock's end in the browser's time zone (the context's Europe/Amsterdam);
    the form's answer came a moment earlier, its end rounded to the second either side."""
    at = datetime.fromisoformat(iso).astimezone(ZoneInfo(PHONE["timezone_id"]))
    return {(at + timedelta(seconds=s)).strftime("%H:%M") for s in (-2, 0, 2)}


def ends_another_day(iso: str) -> bool:
    """A lock ending after local midnight: the form names the day too (``5 dec., 00:01``)."""
    zone = ZoneInfo(PHONE["timezone_id"])
    return datetime.fromisoformat(iso).astimezone(zone).date() != datetime.now(zone).date()


@pytest.mark.parametrize(
    ("lang", "wrong", "locked"),
    [
        ("nl", "Onjuiste gebruikersnaam of wachtwoord.", "geblokkeerd tot {time}"),
        ("en", "Wrong username or password.", "locked from this connection until {time}"),
    ],
)
def test_locked_login_says_so_and_until_when(server: Server, browser, lang, wrong, locked) -> None:  # type: ignore[no-untyped-def]
    user = "midwife" if lang == "nl" else "admin"
    watch = Watch()
    ctx = strict_context(browser, watch)
    try:
        page = ctx.new_page()
        page.add_init_script(f"localStorage.setItem('cap.lang', '{lang}')")
        page.goto(server.base + "/")
        error = page.locator("#login-error")
        for _ in range(5):
            submit(page, user, "wrong")
            expect(error).to_have_text(wrong)
            page.evaluate("document.getElementById('login-error').textContent = ''")
        submit(page, user, "demo")  # the right password, but locked now
        expect(error).not_to_have_text("")
        refused = httpx.post(
            server.base + "/api/v1/auth/token", data={"username": user, "password": "demo"}
        )
        assert refused.status_code == 429
        text = error.inner_text()
        until = refused.json()["locked_until"]
        # "... until 00:04", or "... until 5 Dec, 00:04" when the lock ends after midnight
        found = re.search(
            re.escape(locked.format(time="")) + r"(?:(\d{1,2}) [^,]+, )?(\d\d:\d\d)", text
        )
        assert found, (text, locked)
        assert found[2] in local_times(until), (text, until)
        day = datetime.fromisoformat(until).astimezone(ZoneInfo(PHONE["timezone_id"])).day
        expected_day = str(day) if ends_another_day(until) else None
        assert found[1] == expected_day, (text, until)
        assert wrong not in text
        shot(page, f"login-locked-{lang}")
    finally:
        ctx.close()
    assert not watch.problems, watch.problems
