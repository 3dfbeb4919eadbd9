"""Alerts in the app (issue 13.7, 13.8), in real Chromium at 390 px against a real server: the
bell counts live, the inbox reads in Dutch, subscriptions are made with a form, a webhook's
secret is shown once, analysts see who has no current figures, admins retry a dead letter."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests import servers
from tests.faults.support import sql
from tests.frontend import test_browser
from tests.frontend.test_browser import (
    ERASMUS,
    LOW_CONTRAST,
    MAASSTAD,
    REGION,
    UNLABELLED,
    Watch,
    shot,
    sign_in,
    strict_context,
)

pytestmark = test_browser.pytestmark  # chromium missing: skipped, as the other browser tests
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
STAFF = f"staff-{ERASMUS}"
IKAZIA = "ikazia-ziekenhuis-rotterdam"


class AlertServer(test_browser.Server):
    """The service with the frontend; the outbox drained every 0.2 s, one attempt per alert, and
    webhooks to 127.0.0.1 allowed (a closed port there is the webhook that never answers)."""

    defaults = {
        **servers.Server.defaults,
        "alert_drain_seconds": "0.2",
        "alert_attempts": "1",
        "alert_webhook_loopback_http": "true",
    }


@pytest.fixture(scope="module")
def server(databases, own_valkey, tmp_path_factory) -> Iterator[AlertServer]:  # type: ignore[no-untyped-def]
    srv = AlertServer(databases.fresh(), own_valkey.url, tmp_path_factory.mktemp("fe-alerts"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def ctx(browser, watch: Watch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    context = strict_context(browser, watch, viewport={"width": 375, "height": 812})
    yield context
    context.close()


def _looks_right(page, where: str) -> None:  # type: ignore[no-untyped-def]
    """Fits 375 px, AA contrast, every control named."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{where}: page is {width}px wide"
    assert page.evaluate(LOW_CONTRAST) == [], f"{where}: contrast below AA"
    assert page.evaluate(UNLABELLED) == [], f"{where}: controls without a label"


def _stop(server: AlertServer, facility: str) -> None:
    r = server.call("PUT", f"/api/v1/facilities/{facility}/stop", "admin", json={"reason": "beds"})
    assert r.status_code == 200, r.text


def _open_subscriptions(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#bell")
    page.click("#al-tab-subs")
    page.wait_for_selector("#al-form")


def test_staff_subscribes_to_her_stop_and_the_bell_counts_it_live(
    server: AlertServer, ctx, watch: Watch
) -> None:
    page = ctx.new_page()
    page.add_init_script("navigator.vibrate = p => { window.buzzed = p; return true; }")
    sign_in(page, server, STAFF)
    expect(page.locator("#bell")).to_be_visible()
    expect(page.locator("#bell-count")).to_be_hidden()
    _open_subscriptions(page)
    # Her own ward is chosen already; "in de app" is the default channel.
    expect(page.locator("#al-rule option")).to_have_count(5)  # the transfer rule is hers too
    expect(page.locator("#al-fac")).to_have_value(ERASMUS)
    _looks_right(page, "subscription form")
    page.select_option("#al-rule", "facility_stop")
    page.click("#al-form button[type=submit]")
    expect(page.locator("#al-subs [data-sub]")).to_contain_text("Afdeling gaat op stop")
    page.click("#al-close")
    time.sleep(1.5)  # every watcher reloads its subscriptions (announced through Redis)

    _stop(server, ERASMUS)  # someone else, elsewhere
    expect(page.locator("#bell-count")).to_have_text("1", timeout=15000)
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Meldingen, 1 ongelezen")
    expect(page.locator("#toast")).to_contain_text("heeft een stop")
    assert page.evaluate("window.buzzed") == [120, 80, 120]  # the phone buzzes too

    page.click("#bell")
    first = page.locator("#al-list [data-alert]").first
    expect(first).to_contain_text("Erasmus MC")
    expect(first).to_contain_text("heeft een stop")
    expect(first.locator(".tag")).to_have_text("nieuw")
    shot(page, "alerts-inbox")
    _looks_right(page, "inbox")
    first.locator("[data-read]").click()
    expect(first.locator(".tag")).to_have_count(0)
    expect(page.locator("#bell-count")).to_be_hidden()
    page.click("#al-close")
    # A reload starts from the service's count: read stays read.
    page.reload()
    expect(page.locator("#bell[data-live=true]")).to_be_visible()
    expect(page.locator("#bell-count")).to_be_hidden()
    # In English the same alert reads in English, read.
    page.click("#lang")
    expect(page.locator("#bell")).to_have_attribute("aria-label", "Alerts")
    page.click("#bell")
    again = page.locator("#al-list [data-alert]").first
    expect(again).to_contain_text("is on stop")
    expect(again.locator(".tag")).to_have_count(0)
    expect(page.locator("#al-tab-subs")).to_have_text("My subscriptions")
    assert watch.problems == []


def test_a_webhook_secret_is_shown_once_and_a_bad_address_is_named(
    server: AlertServer, ctx, watch: Watch
) -> None:
    page = sign_in(ctx.new_page(), server, "midwife")
    _open_subscriptions(page)
    # A midwife has no ward: the transfer rule is not offered to her.
    expect(page.locator("#al-rule option[value=transfer_request]")).to_have_count(0)
    page.select_option("#al-rule", "region_free_below")
    page.select_option("#al-reg", REGION)
    page.select_option("#al-cat", "nicu")
    page.fill("#al-k", "1")
    page.select_option("#al-ch", "webhook")
    expect(page.locator("label[for=al-target]")).to_contain_text("Webhook-adres")
    page.fill("#al-target", "ftp://example.org/hook")
    page.click("#al-form button[type=submit]")
    expect(page.locator("#al-target-err")).not_to_be_empty()
    expect(page.locator("#al-target")).to_have_attribute("aria-invalid", "true")

    page.fill("#al-target", "https://example.org/hook")
    page.click("#al-form button[type=submit]")
    secret = page.locator("#al-secret")
    expect(secret).to_have_value(re.compile(r"^[0-9a-f]{64}$"))
    _looks_right(page, "webhook secret")
    page.click("#al-copy")
    expect(page.locator("#al-status")).to_have_text("Sleutel gekopieerd.")
    expect(page.locator("#al-subs [data-sub]")).to_contain_text("minder dan 1 vrij")
    # Once: away and back, the list is there but the secret is not.
    page.click("#al-tab-inbox")
    page.click("#al-tab-subs")
    expect(page.locator("#al-subs [data-sub]")).to_have_count(1)
    expect(page.locator("#al-secret")).to_have_count(0)
    page.click("#al-subs [data-del]")
    expect(page.locator("#al-subs [data-sub]")).to_have_count(0)
    assert watch.problems == []


def test_analyst_sees_the_regions_facilities_without_current_figures(
    server: AlertServer, ctx, watch: Watch
) -> None:
    since = datetime.now(UTC) - timedelta(hours=3)
    engine = sql(server.env["CAPACITY_DATABASE_URL"])
    with engine.begin() as conn:  # as the overdue job writes it (tests/alerts/test_overdue.py)
        conn.execute(
            text("INSERT INTO overdue_episode (facility_id, region, since) VALUES (:f, :r, :s)"),
            {"f": MAASSTAD, "r": REGION, "s": since},
        )
    engine.dispose()
    page = sign_in(ctx.new_page(), server, "analyst-zuidwest")
    overdue = page.locator("#overdue")
    expect(overdue.locator("h2")).to_have_text("Geen actuele cijfers")
    expect(overdue).to_contain_text("Maasstad")
    expect(overdue).to_contain_text("3 uur geleden")
    _looks_right(page, "overdue list")
    assert watch.problems == []


def test_admin_sees_a_dead_letter_and_retries_it(server: AlertServer, ctx, watch: Watch) -> None:
    dead_port = servers.free_port()  # nothing listens there: every attempt fails
    body = {
        "rule": "facility_stop",
        "facility_id": IKAZIA,
        "channel": "webhook",
        "target": f"http://127.0.0.1:{dead_port}/hook",
    }
    r = server.call("POST", "/api/v1/alerts/subscriptions", "admin", json=body)
    assert r.status_code == 201, r.text
    time.sleep(1.5)  # every watcher reloads its subscriptions
    _stop(server, IKAZIA)
    deadline = time.monotonic() + 15
    while not server.call("GET", "/api/v1/alerts/dead-letters", "admin").json():
        assert time.monotonic() < deadline, "no dead letter"
        time.sleep(0.2)

    page = sign_in(ctx.new_page(), server, "admin")
    page.goto(server.base + "/#/admin")
    page.click("#tab-dead")
    item = page.locator("#dead [data-dead]").first
    expect(item).to_contain_text("Ikazia")
    expect(item).to_contain_text("Webhook")
    _looks_right(page, "dead letters")
    with page.expect_response(lambda res: res.url.endswith("/retry")) as answer:
        item.locator("[data-retry]").click()
    assert answer.value.status == 200
    expect(page.locator("#toast")).to_contain_text("opnieuw verstuurd")
    assert watch.problems == []
