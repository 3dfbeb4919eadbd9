"""The frontend in a real browser: Debian's chromium driven by Playwright against a real server.

Each module run starts its own service (uvicorn subprocess) on a free loopback port, with a fresh
seeded database and its own Valkey; figures are written through the public API, as a hospital would.
Screenshots at 390x844 land in tests/artifacts/ for reviewers.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis
import sqlalchemy

from capacity.refusals.models import Refusal
from tests import servers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="chromium missing: make browser"
)
sync_api = pytest.importorskip("playwright.sync_api")

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
REGION = "zuidwest"
ERASMUS = "erasmus-mc-rotterdam"
MAASSTAD = "maasstad-ziekenhuis-rotterdam"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 1,
    "geolocation": {"latitude": 51.92, "longitude": 4.48},
    "permissions": ["geolocation"],
    "locale": "nl-NL",
    "timezone_id": "Europe/Amsterdam",
}


class Server(servers.Server):
    """The service with the real frontend, and helpers to act through its API as a user."""

    def __init__(self, db_url: str, redis_url: str, data_dir: Path):
        super().__init__(database_url=db_url, redis_url=redis_url, data_dir=data_dir)
        self.base = self.url
        self.tokens: dict[str, str] = {}

    def headers(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            r = httpx.post(
                self.base + "/api/v1/auth/token", data={"username": user, "password": "demo"}
            )
            r.raise_for_status()
            self.tokens[user] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def call(self, method: str, path: str, user: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
        return httpx.request(method, self.base + path, headers=self.headers(user), timeout=10, **kw)

    def figures(self, facility: str, **cats: tuple[int, int]) -> None:
        body = {"categories": {c: {"available": a, "staffed": s} for c, (a, s) in cats.items()}}
        r = self.call(
            "PUT", f"/api/v1/facilities/{facility}/capacity", f"staff-{facility}", json=body
        )
        assert r.status_code == 200, r.text

    def has_path(self, path: str) -> bool:
        return path in httpx.get(self.base + "/openapi.json").json()["paths"]


def _seed_region(server: Server) -> None:
    """Every facility of the region reports, so the picture looks like a real night."""
    facilities = httpx.get(
        server.base + f"/api/v1/facilities?region={REGION}", headers=server.headers("admin")
    ).json()
    for i, f in enumerate(facilities):
        cats = {c: ((i + j) % 4, 6) for j, c in enumerate(f["categories"])}
        server.figures(f["id"], **cats)


@pytest.fixture(scope="module")
def server(databases, own_valkey, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path_factory.mktemp("fe-var")).start()
    _seed_region(srv)
    yield srv
    srv.stop()


# The policy the service sends with the frontend (capacity/api/security.py). Each page must run
# under it (checked on every document) and cause no violation, script error or console error.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', e =>
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}`));
"""
# A 4xx the test provokes on purpose (422 for a bad figure) is logged by Chromium as a failed
# resource; those are expected. A 404/405 (the page calls what does not exist) or 5xx is not.
EXPECTED = "Failed to load resource: the server responded with a status of 4"


class Watch:
    """Collects what a user would not see but a reviewer must: CSP violations and errors."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def attach(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}\n{exc.stack}"))
        page.on("response", self._response)

    def _console(self, msg) -> None:  # type: ignore[no-untyped-def]
        if msg.type == "error" and not msg.text.startswith(EXPECTED):
            self.problems.append(f"console: {msg.text}")

    def _response(self, res) -> None:  # type: ignore[no-untyped-def]
        if res.status in (404, 405) or res.status >= 500:
            self.problems.append(f"{res.status} {res.request.method} {res.url}")
        if (
            res.request.resource_type == "document"
            and res.headers.get("content-security-policy") != CSP
        ):
            self.problems.append(f"{res.url} was not served with the strict CSP")


def strict_context(browser, watch: Watch, **kw):  # type: ignore[no-untyped-def]
    """A phone context whose pages are watched (no service worker: every document comes from
    the service, with its headers)."""
    ctx = browser.new_context(**{**PHONE, **kw}, service_workers="block")
    ctx.set_default_timeout(8000)
    ctx.add_init_script(REPORT_VIOLATIONS)
    ctx.on("page", watch.attach)
    return ctx


@pytest.fixture
def context(browser):  # type: ignore[no-untyped-def]
    watch = Watch()
    ctx = strict_context(browser, watch)
    yield ctx
    ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def sign_in(page, server: Server, user: str, region: str | None = REGION):  # type: ignore[no-untyped-def]
    if region:
        page.add_init_script(f"localStorage.setItem('cap.region', {json.dumps(region)})")
    page.goto(server.base + "/")
    page.fill("#u", user)
    page.fill("#p", "demo")
    page.click("#login-form button[type=submit]")
    # Signed in (the token stored) before the test goes on: a reload or a push right after the
    # click raced the login answer and found the login screen again.
    page.wait_for_selector("#login-form", state="detached", timeout=15000)
    return page


def card(page, facility: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#f-{facility}")


def wait_live(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#conn[data-state=live]", timeout=8000)


# ---- midwife -------------------------------------------------------------------------------


def test_midwife_sees_staff_change_without_reload(server: Server, context) -> None:  # type: ignore[no-untyped-def]
    server.figures(ERASMUS, delivery_room=(0, 6))
    page = sign_in(context.new_page(), server, "midwife")
    badge = card(page, ERASMUS).locator(".cat[data-cat=delivery_room] .badge")
    sync_api.expect(badge).to_contain_text("vol")
    wait_live(page)
    page.evaluate("window.__same_page = 1")
    server.figures(ERASMUS, delivery_room=(3, 6))
    sync_api.expect(badge).to_contain_text("3 vrij", timeout=2000)
    assert page.evaluate("window.__same_page") == 1  # no reload happened
    assert card(page, ERASMUS).get_attribute("data-status") == "ok"
    sync_api.expect(page.locator("#announce")).to_contain_text("Verloskamer nu 3 vrij")
    # the standing agreements and the distance note are on screen
    sync_api.expect(page.locator("#rules")).to_contain_text(
        "Acuut: altijd naar het dichtstbijzijnde ziekenhuis"
    )
    sync_api.expect(page.locator("#rules")).to_contain_text("U mag altijd bellen")
    sync_api.expect(page.locator("#dnote")).to_contain_text("hemelsbreed")
    sync_api.expect(card(page, ERASMUS).locator(".where")).to_contain_text("min rijden")
    page.wait_for_timeout(2100)  # let the highlight fade for the picture
    shot(page, "midwife")
    page.click("#lang")
    sync_api.expect(badge).to_contain_text("3 free")
    sync_api.expect(page.locator("#rules")).to_contain_text("Acute: always to the nearest hospital")
    shot(page, "midwife-en")
    page.click("#lang")


def test_stale_figure_shows_unknown_never_green(server: Server, own_valkey, context) -> None:  # type: ignore[no-untyped-def]
    server.figures(MAASSTAD, delivery_room=(4, 6))
    # Age the figure in the live picture, as if the ward had not reported for six hours.
    r = redis.Redis.from_url(own_valkey.url)
    key = f"cap:{{{REGION}}}:state"
    raw = json.loads(r.hget(key, MAASSTAD))
    old = datetime.now(UTC) - timedelta(hours=6)
    for fig in raw["categories"].values():
        fig["ts"] = old.timestamp()
        fig["updated_at"] = old.isoformat()
    r.hset(key, MAASSTAD, json.dumps(raw))
    page = sign_in(context.new_page(), server, "midwife")
    cat = card(page, MAASSTAD).locator(".cat[data-cat=delivery_room]")
    sync_api.expect(cat).to_have_attribute("data-status", "unknown")
    sync_api.expect(cat.locator(".badge")).to_contain_text("onbekend")
    sync_api.expect(cat).to_contain_text("6 uur geleden")
    assert card(page, MAASSTAD).get_attribute("data-status") != "ok"


def test_stop_shows_banner(server: Server, context) -> None:  # type: ignore[no-untyped-def]
    until = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    r = server.call(
        "PUT",
        f"/api/v1/facilities/{ERASMUS}/stop",
        f"staff-{ERASMUS}",
        json={"reason": "staff", "until": until},
    )
    assert r.status_code == 200, r.text
    try:
        page = sign_in(context.new_page(), server, "midwife")
        banner = card(page, ERASMUS).locator(".stopban")
        sync_api.expect(banner).to_contain_text("STOP")
        sync_api.expect(banner).to_contain_text("geen personeel")
        sync_api.expect(banner).to_contain_text("tot")
        sync_api.expect(
            card(page, ERASMUS).locator(".cat[data-cat=delivery_room]")
        ).to_have_attribute("data-status", "stop")
        card(page, ERASMUS).scroll_into_view_if_needed()
        shot(page, "midwife-stop")
    finally:
        server.call("DELETE", f"/api/v1/facilities/{ERASMUS}/stop", f"staff-{ERASMUS}")


# Texts below WCAG AA contrast on their own background (a function for page.evaluate).
LOW_CONTRAST = (Path(__file__).parent / "contrast.js").read_text()
# Form controls a screen reader could not name.
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
    && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
  .map(el => el.outerHTML.slice(0, 80))"""


def test_every_screen_fits_360_without_errors_under_csp(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    watch = Watch()
    ctx = strict_context(browser, watch, viewport={"width": 360, "height": 740})
    try:
        for user, tab in (
            ("midwife", None),
            ("midwife", "#/mine"),
            (f"staff-{ERASMUS}", "#/staff"),
            ("analyst", "#/analyst"),
        ):
            page = sign_in(ctx.new_page(), server, user)
            page.wait_for_selector(".card, .stepcat, .filters")
            if tab:
                page.goto(server.base + "/" + tab)
                page.wait_for_selector(".mine, .stepcat, .chart", state="attached")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"{user} {tab}: page is {width}px wide"
            # The header's name is shown whole, not cut to "Cap..." by the chips beside it.
            brand = page.locator("#brand")
            sync_api.expect(brand).to_have_text("Capaciteit")
            assert brand.evaluate("b => b.scrollWidth <= b.clientWidth"), f"{user}: brand cut"
            assert page.evaluate(LOW_CONTRAST) == [], f"{user} {tab}: contrast below AA"
            assert page.evaluate(UNLABELLED) == [], f"{user} {tab}: controls without a label"
            # After a screen change the keyboard continues in the new screen, not on a removed
            # button: focus is on the main region and the next Tab goes on from there, not back
            # to the header.
            # (expect polls from outside the page: a polled wait_for_function is an eval the
            # strict CSP refuses)
            sync_api.expect(page.locator("#view")).to_be_focused()
            page.keyboard.press("Tab")
            assert not page.evaluate(
                "document.querySelector('.top').contains(document.activeElement)"
            )
            if page.locator("#view button, #view select, #view input, #view a").count():
                assert page.evaluate(
                    "document.getElementById('view').contains(document.activeElement)"
                )
            page.evaluate("localStorage.clear()")
            page.close()
    finally:
        ctx.close()
    assert not watch.problems, "\n".join(watch.problems)


PICTURE_KEYS = """async () => {
  const c = await caches.open('capacity-data-v1');
  return (await c.keys()).map(r => new URL(r.url).pathname + new URL(r.url).search);
}"""


def test_offline_keeps_last_picture_with_its_time(databases, own_valkey, tmp_path, browser) -> None:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path / "var").start()
    ctx = browser.new_context(**PHONE)
    ctx.set_default_timeout(8000)
    try:
        srv.figures(ERASMUS, delivery_room=(2, 6))
        page = sign_in(ctx.new_page(), srv, "midwife")
        badge = card(page, ERASMUS).locator(".cat[data-cat=delivery_room] .badge")
        sync_api.expect(badge).to_contain_text("2 vrij")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_function(
            "navigator.serviceWorker.controller !== null || !!location.reload()", timeout=8000
        )
        sync_api.expect(badge).to_contain_text("2 vrij")
        wait_live(page)
        # The service worker keeps the picture and the lists it draws on, nothing else.
        capacity = f"/api/v1/regions/{REGION}/capacity"
        page.wait_for_function(f"({PICTURE_KEYS})().then(k => k.includes('{capacity}'))")
        kept = page.evaluate(PICTURE_KEYS)
        # (neighbouring regions' pictures too: the page shows their facilities within 45 min)
        pictures = {k for k in kept if re.fullmatch(r"/api/v1/regions/[a-z0-9-]+/capacity", k)}
        assert capacity in pictures, kept
        assert set(kept) - pictures <= {"/api/v1/regions", "/api/v1/facilities"}, kept
        srv.stop()

        # 1. Reload without the service: the page's own copy (localStorage).
        page.reload()
        sync_api.expect(badge).to_contain_text("2 vrij")
        conn = page.locator("#conn")
        sync_api.expect(conn).to_have_attribute("data-state", "offline", timeout=10000)
        sync_api.expect(conn).to_contain_text("laatst bekende beeld van")
        sync_api.expect(page.locator("#rules")).to_contain_text("U mag altijd bellen")
        shot(page, "midwife-offline")

        # 2. The installed app opened cold: nothing in localStorage but the session, so the
        # service worker's last answer alone draws the picture, marked with the time it was kept.
        page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('cap.c.'))"
            ".forEach(k => localStorage.removeItem(k))"
        )
        page.reload()
        sync_api.expect(badge).to_contain_text("2 vrij")
        sync_api.expect(card(page, ERASMUS)).to_contain_text("Erasmus MC")
        sync_api.expect(conn).to_have_attribute("data-state", "offline", timeout=10000)
        sync_api.expect(conn).to_contain_text("laatst bekende beeld van")
        sync_api.expect(conn).to_contain_text(re.compile(r"\d{2}:\d{2}"))

        # Hours later, still offline: nobody marks the old figures stale, so the page does.
        page.clock.install()
        page.reload()
        sync_api.expect(badge).to_contain_text("2 vrij")
        page.clock.fast_forward("05:00:00")
        cat = card(page, ERASMUS).locator(".cat[data-cat=delivery_room]")
        sync_api.expect(cat).to_have_attribute("data-status", "unknown")
        sync_api.expect(cat).to_contain_text("5 uur geleden")
    finally:
        ctx.close()
        srv.stop()


# ---- hospital staff ------------------------------------------------------------------------


def test_staff_screen_rejects_available_above_staffed_beside_the_field(
    server: Server, context
) -> None:  # type: ignore[no-untyped-def]
    server.figures(ERASMUS, delivery_room=(2, 3))
    page = sign_in(context.new_page(), server, f"staff-{ERASMUS}")
    page.wait_for_selector(".stepcat[data-cat=delivery_room]")
    shot(page, "staff")
    plus = page.get_by_role("button", name="Vrij: Eén meer").first
    plus.click()
    plus.click()  # 4 free of 3 staffed
    sync_api.expect(page.locator("#delivery_room-available")).to_have_value("4")
    page.click("#save")
    err = page.locator("#err-delivery_room-available")
    sync_api.expect(err).to_contain_text("mag niet hoger zijn dan bemand")  # the service, in Dutch
    sync_api.expect(page.locator("#delivery_room-available")).to_have_attribute(
        "aria-invalid", "true"
    )
    err.scroll_into_view_if_needed()
    shot(page, "staff-error")
    figures = server.call("GET", f"/api/v1/regions/{REGION}/capacity", "midwife").json()
    entry = next(f for f in figures["facilities"] if f["facility_id"] == ERASMUS)
    assert entry["categories"]["delivery_room"]["available"] == 2  # nothing changed
    # a valid change saves, and names its author
    page.get_by_role("button", name="Vrij: Eén minder").first.click()
    page.get_by_role("button", name="Bemand: Eén meer").first.click()
    # Wait for the save's own answer: the author line may already name this account (the
    # seeded figures), so it cannot tell that the save is done before SQL is read below.
    with page.expect_response(
        lambda r: r.url.endswith(f"/facilities/{ERASMUS}/capacity") and r.request.method == "PUT"
    ) as saved:
        page.click("#save")
    assert saved.value.status == 200
    sync_api.expect(page.locator("#last-change")).to_contain_text(f"staff-{ERASMUS}")
    entry = server.call("GET", f"/api/v1/regions/{REGION}/capacity", "midwife").json()
    entry = next(f for f in entry["facilities"] if f["facility_id"] == ERASMUS)
    assert (
        entry["categories"]["delivery_room"]["available"],
        entry["categories"]["delivery_room"]["staffed"],
    ) == (3, 4)
    # declare a stop and lift it again
    page.select_option("#stop-reason", "beds")
    page.get_by_role("button", name="Stop melden").click()
    sync_api.expect(page.locator(".stopbox .stopban")).to_contain_text("geen bedden")
    page.get_by_role("button", name="Stop opheffen").click()
    sync_api.expect(page.locator(".stopbox")).to_contain_text("Geen stop actief")
    # A change made elsewhere names its author as the service records it (updated_by).
    body = {"categories": {"delivery_room": {"available": 1, "staffed": 4}}}
    r = server.call("PUT", f"/api/v1/facilities/{ERASMUS}/capacity", "admin", json=body)
    assert r.status_code == 200, r.text
    page.reload()
    sync_api.expect(page.locator("#last-change")).to_contain_text("door admin")
    # The hospital's own system (its API key) is named as such, not by its key.
    r = server.call("POST", f"/api/v1/facilities/{ERASMUS}/keys", "admin", json={})
    assert r.status_code == 201, r.text
    body = {"categories": {"delivery_room": {"available": 2, "staffed": 4}}}
    r = httpx.put(
        server.base + f"/api/v1/facilities/{ERASMUS}/capacity",
        headers={"X-API-Key": r.json()["key"]},
        json=body,
    )
    assert r.status_code == 200, r.text
    page.reload()
    sync_api.expect(page.locator("#last-change")).to_contain_text("door ziekenhuissysteem")


# ---- refusal, then the analyst's charts ----------------------------------------------------


def own_refusals(server: Server) -> list[dict]:  # type: ignore[type-arg]
    r = server.call("GET", "/api/v1/refusals/mine?days=7", "midwife")
    assert r.status_code == 200, r.text
    items: list[dict] = r.json()["items"]  # type: ignore[type-arg]
    return items


def test_refusal_in_three_taps_then_outcome_then_analyst_chart(
    server: Server, browser, context
) -> None:  # type: ignore[no-untyped-def]
    server.figures(ERASMUS, delivery_room=(2, 6))
    page = sign_in(context.new_page(), server, "midwife")
    c = card(page, ERASMUS)
    sync_api.expect(c.locator(".cat[data-cat=delivery_room] .badge")).to_contain_text("2 vrij")
    c.get_by_role("button", name="Antwoord melden").click()  # tap 1
    page.locator("#refusal label.opt", has_text="Geen verpleging").click()  # tap 2
    # Nothing chosen for the request type, and the sheet says so where she can see it.
    sync_api.expect(page.locator("#refusal summary")).to_contain_text(
        "Soort verzoek: Niet opgegeven"
    )
    shot(page, "midwife-refusal")
    page.locator("#refusal-save").click()  # tap 3
    sync_api.expect(page.locator("#toast")).to_contain_text("Vastgelegd: geweigerd")
    [rec] = own_refusals(server)
    assert (rec["facility_id"], rec["reason"], rec["request_type"]) == (ERASMUS, "no_nurse", None)

    # A second refusal with a chosen type: the next sheet preselects it, visibly.
    c.get_by_role("button", name="Antwoord melden").click()
    page.locator("#refusal label.opt", has_text="Geen bed").click()
    page.locator("#refusal summary").click()
    page.locator("#refusal label.opt", has_text="Acuut").click()
    page.locator("#refusal-save").click()
    sync_api.expect(page.locator("#toast")).to_contain_text("Vastgelegd: geweigerd")
    c.get_by_role("button", name="Antwoord melden").click()
    sync_api.expect(page.locator("#refusal summary")).to_contain_text(
        "Soort verzoek: Acuut (vorige keuze)"
    )
    page.locator("#refusal-cancel").click()
    both = own_refusals(server)
    assert sorted(str(r["request_type"]) for r in both) == ["None", "acute"]
    # one search, one token, and the server issued it (issue 11.6)
    assert len({r["episode"] for r in both}) == 1 and re.fullmatch(
        "[0-9a-f]{32}", both[0]["episode"]
    )

    # "Mijn meldingen": the first refusal gets its outcome; it is stored by the service.
    page.click("a[href='#/mine']")
    item = page.locator(f".mine .card[data-id='{rec['id']}']")
    sync_api.expect(item).to_contain_text("Erasmus MC")
    sync_api.expect(item).to_contain_text("Geen verpleging")
    sync_api.expect(item).to_have_attribute("data-editable", "true")
    item.locator("label.opt", has_text="Geplaatst").first.click()
    item.get_by_label("Geplaatst in").select_option(MAASSTAD)
    item.get_by_label("Aantal telefoontjes").fill("3")
    item.get_by_label("Minuten tot plaatsing").fill("40")
    shot(page, "mine")
    item.locator("button[type=submit]").click()
    sync_api.expect(page.locator("#toast")).to_contain_text("Uitkomst opgeslagen")
    stored = next(r for r in own_refusals(server) if r["id"] == rec["id"])
    assert (
        stored["outcome"],
        stored["placed_facility_id"],
        stored["calls_until_placement"],
        stored["minutes_until_placement"],
    ) == ("placed", MAASSTAD, 3, 40)

    # A refusal recorded two days ago: its outcome window has closed, so it is shown read-only.
    engine = sqlalchemy.create_engine(server.env["CAPACITY_DATABASE_URL"].replace("+aiosqlite", ""))
    with engine.begin() as conn:
        conn.execute(
            sqlalchemy.update(Refusal)
            .where(Refusal.id == rec["id"])  # type: ignore[arg-type]
            .values(recorded_at=datetime.now(UTC) - timedelta(days=2))
        )
    engine.dispose()
    page.reload()
    sync_api.expect(item).to_have_attribute("data-editable", "false")
    sync_api.expect(item).to_contain_text("Niet meer te wijzigen")
    sync_api.expect(item).to_contain_text("Geplaatst · Maasstad Ziekenhuis")
    assert item.locator("form").count() == 0

    watch = Watch()
    actx = strict_context(browser, watch)
    try:
        apage = sign_in(actx.new_page(), server, f"analyst-{REGION}", region=None)
        sync_api.expect(apage.locator("#kpi-total")).to_have_text("2")
        sync_api.expect(apage.locator("#kpi-shown")).to_have_text("2")  # refused while shown green
        sync_api.expect(apage.locator("#chart-facility")).to_contain_text("Erasmus MC")
        shot(apage, "analyst")
        apage.locator("#chart-facility").scroll_into_view_if_needed()
        shot(apage, "analyst-charts")
        # The split of each bar is readable without hovering: the numbers as a table.
        apage.locator("#chart-facility summary").click()
        row = apage.locator("#chart-facility tbody tr", has_text="Erasmus MC")
        sync_api.expect(row.locator("td")).to_have_text(["2", "0", "2"])
    finally:
        actx.close()
    assert not watch.problems, "\n".join(watch.problems)
