"""The monthly HTML report and the API docs in Chromium, under the policies the service sends.

Both pages were broken by the service's own Content-Security-Policy: the report's bars were drawn
with inline style attributes (blocked: bars 0 px wide), and ``/docs`` loaded Swagger UI from a
CDN, which a hospital network without internet cannot reach. Here the browser may reach nothing
but the test server, and every CSP violation or console error fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy
from sqlmodel import Session

from tests.frontend.test_browser import CHROMIUM, ERASMUS, REGION, Server, sync_api
from tests.reporting.data import IKAZIA, make

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="chromium missing: make browser"
)
MAASSTAD = "maasstad-ziekenhuis-rotterdam"
OPERATIONS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
VIOLATIONS = """
document.addEventListener('securitypolicyviolation', e =>
  console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}`));
"""


@pytest.fixture(scope="module")
def server(databases, own_valkey, tmp_path_factory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    srv = Server(databases.fresh(), own_valkey.url, tmp_path_factory.mktemp("csp-var")).start()
    yield srv
    srv.stop()


class Offline:
    """A browser context that reaches only the test server, and what went wrong in it."""

    def __init__(self, browser, server: Server, **kw) -> None:  # type: ignore[no-untyped-def]
        self.problems: list[str] = []
        self.host = urlsplit(server.base).netloc
        self.ctx = browser.new_context(service_workers="block", **kw)
        self.ctx.set_default_timeout(15000)
        self.ctx.add_init_script(VIOLATIONS)
        self.ctx.route("**/*", self._route)
        self.ctx.on("page", self._attach)

    def _route(self, route) -> None:  # type: ignore[no-untyped-def]
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https") and url.netloc != self.host:
            self.problems.append(f"went outside: {route.request.url}")
            route.abort()
        else:
            route.continue_()

    def _attach(self, page) -> None:  # type: ignore[no-untyped-def]
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("response", self._response)

    def _response(self, res) -> None:  # type: ignore[no-untyped-def]
        if res.status >= 400:
            self.problems.append(f"{res.status} {res.request.method} {res.url}")

    def new_page(self):  # type: ignore[no-untyped-def]
        return self.ctx.new_page()

    def close(self) -> None:
        self.ctx.close()


def _report(server: Server) -> int:
    """A report of October 2026 with one facility over the small-cell limit (8 refusals)."""
    url = server.env["CAPACITY_DATABASE_URL"].replace("+aiosqlite", "")
    engine = sqlalchemy.create_engine(url)
    with Session(engine) as session:
        session.add_all([make(ERASMUS, f"2026-10-{day:02d}T10:00:00") for day in range(5, 13)])
        session.add(make(IKAZIA, "2026-10-12T10:00:00"))
        # two small cells: neither is the total minus the shown ones, so Erasmus MC stays shown
        session.add_all([make(MAASSTAD, f"2026-10-{day}T10:00:00") for day in (13, 14, 15)])
        session.commit()
    engine.dispose()
    r = server.call("POST", f"/api/v1/reports?region={REGION}&month=2026-10", "admin")
    assert r.status_code == 201, r.text
    report_id: int = r.json()["id"]
    return report_id


def _bar_widths(page) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Each facility's bar as the reader sees it (0 when the page's styles were refused)."""
    rows = page.locator("h2:has-text('Weigeringen per zorginstelling') + table tr")
    widths = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        box = row.locator(".bar").bounding_box()
        seen = box["width"] if box and box["height"] > 0 else 0.0
        widths[row.locator("td").first.inner_text()] = seen
    return widths


def test_monthly_report_draws_its_bars_under_the_services_policy(
    server: Server, browser, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    report_id = _report(server)
    url = f"{server.base}/api/v1/reports/{report_id}?format=html&lang=nl"
    offline = Offline(browser, server, extra_http_headers=server.headers("admin"))
    try:
        page = offline.new_page()
        response = page.goto(url)
        assert response is not None and response.status == 200
        assert "content-security-policy" in response.headers  # the service's, as sent
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        sync_api.expect(page.locator("h1")).to_contain_text("Zuidwest-Nederland")
        served = _bar_widths(page)
        # The downloaded copy (the analyst's screen saves it as a file) looks the same offline.
        saved = tmp_path / "report.html"
        saved.write_bytes(httpx.get(url, headers=server.headers("admin")).content)
        page.goto(saved.as_uri())
        downloaded = _bar_widths(page)
    finally:
        offline.close()
    assert not offline.problems, "\n".join(offline.problems)
    # 8 refusals at Erasmus MC: the full bar; 1 at Ikazia is suppressed (<5): no bar.
    assert served["Erasmus MC (Sophia)"] > 100 and served["Ikazia Ziekenhuis"] == 0, served
    assert downloaded == served


def test_docs_work_without_internet_under_a_strict_policy(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    spec = httpx.get(server.base + "/openapi.json").json()
    operations = sum(len(OPERATIONS & set(item)) for item in spec["paths"].values())
    assert operations > 20
    offline = Offline(browser, server)
    try:
        page = offline.new_page()
        response = page.goto(server.base + "/docs")
        assert response is not None and response.status == 200
        sync_api.expect(page.locator(".opblock")).to_have_count(operations, timeout=20000)
        policy = response.headers["content-security-policy"]
        assert "unsafe-inline" not in policy and "https:" not in policy, policy
        # The UI works, not just its list: sign in with "Authorize" (the password flow, and an
        # API key beside it), then try an operation and get the service's answer.
        page.locator(".auth-wrapper .authorize").click()
        schemes = page.locator(".modal-ux .auth-container")
        sync_api.expect(schemes).to_have_count(3)  # Password, BearerToken, ApiKey
        password = schemes.filter(has_text="Password (OAuth2, password)")
        page.fill("#oauth_username", "analyst-zuidwest")
        page.fill("#oauth_password", "demo")
        password.locator(".auth-btn-wrapper .authorize").click()
        sync_api.expect(password).to_contain_text("Logout")
        key = schemes.filter(has_text="ApiKey (apiKey)")
        key.locator("input").fill("not-a-key-but-sent")
        key.locator(".auth-btn-wrapper .authorize").click()
        sync_api.expect(key).to_contain_text("Logout")
        page.locator(".modal-ux .close-modal").click()
        regions = page.locator(".opblock", has=page.locator("[data-path='/api/v1/regions']"))
        regions.locator(".opblock-summary").click()
        regions.locator(".try-out__btn").click()
        regions.locator(".execute").click()
        answer = regions.locator(".live-responses-table .response")
        sync_api.expect(answer.locator(".response-col_status")).to_contain_text("200")
        sync_api.expect(answer).to_contain_text("zuidwest")
        curl = regions.locator(".curl-command")
        sync_api.expect(curl).to_contain_text("Authorization: Bearer")
        sync_api.expect(curl).to_contain_text("X-API-Key: not-a-key-but-sent")
    finally:
        offline.close()
    assert not offline.problems, "\n".join(offline.problems)
