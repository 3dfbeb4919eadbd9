"""Every endpoint x every role, with the outcome the contract's role table gives.

The table is checked against the app's routes: an endpoint without a row fails the test, and so
does a row for an endpoint that no longer exists. Rows send requests that an allowed caller gets
a 2xx for, so a denial cannot hide behind a validation error. Where docs/CONTRACT.md is silent the
row says which rule was picked.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import jwt
import orjson
from fastapi import FastAPI

from capacity.alerts.models import Alert, AlertRule, Channel, DeliveryStatus
from tests.conftest import ERASMUS, Login
from tests.fhir.support import group, report
from tests.security.support import app_endpoints

IKAZIA = "ikazia-ziekenhuis-rotterdam"  # zuidwest, like ERASMUS
REGION = "zuidwest"  # ERASMUS's region
ROLES = (
    "anonymous",
    "midwife",
    "staff",  # staff of ERASMUS, the facility every row acts on
    "other_staff",  # staff of IKAZIA
    "analyst",  # analyst of zuidwest
    "other_analyst",  # analyst of noord
    "admin",
    "key",  # API key of ERASMUS
    "revoked_key",
    "expired",  # an admin's token, signed with the app's secret, exp in the past
)
ACCOUNTS = {
    "midwife": "midwife",
    "staff": f"staff-{ERASMUS}",
    "other_staff": f"staff-{IKAZIA}",
    "analyst": f"analyst-{REGION}",
    "other_analyst": "analyst-noord",
    "admin": "admin",
}
WS_OPEN = "open"  # the websocket was accepted and sent its snapshot

# Shorthands for a row's outcomes (status code, or websocket close code / WS_OPEN).
NO_CREDENTIALS = {"anonymous": 401, "revoked_key": 401, "expired": 401}
PUBLIC = dict.fromkeys(ROLES, 200)


def signed_in(ok: int, **others: int) -> dict[str, int]:
    """Every account gets ``ok``, API keys 403, callers without valid credentials 401."""
    return {**NO_CREDENTIALS, **dict.fromkeys(ACCOUNTS, ok), "key": 403, **others}


def admin_only(ok: int) -> dict[str, int]:
    return signed_in(403, admin=ok)


def region_readers(ok: int) -> dict[str, int]:
    """Analysts of the region (and admins): statistics, exports, reports."""
    return signed_in(403, analyst=ok, admin=ok)


def facility_writers(ok: int) -> dict[str, int]:
    """Staff of the facility, its API key and admins change its capacity and stops."""
    return signed_in(403, staff=ok, admin=ok, key=ok)


@dataclass
class World:
    """What the rows act on; rows that consume something make a fresh one per call."""

    client: httpx.AsyncClient
    admin: dict[str, str]
    midwife: dict[str, str] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    refusal_id: int = 0
    report_id: int = 0
    app: Any = None

    async def new_key(self) -> int:
        response = await self.client.post(
            f"/api/v1/facilities/{ERASMUS}/keys", json={"label": "target"}, headers=self.admin
        )
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


Request = dict[str, Any]
Make = Callable[[World], Awaitable[Request]]


def fixed(**request: Any) -> Make:
    async def make(_: World) -> Request:
        return request

    return make


def refusal() -> dict[str, Any]:
    return {
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "facility_id": ERASMUS,
        "category": "delivery_room",
        "request_type": "medical",
        "reason": "no_bed",
    }


async def new_facility(world: World) -> Request:
    n = next(world.counter)
    body = {
        "id": f"matrix-{n}",
        "name": f"Matrix {n}",
        "kind": "hospital",
        "region": REGION,
        "city": "Rotterdam",
        "lat": 51.9,
        "lon": 4.5,
        "has_nicu": False,
    }
    return {"json": body}


async def new_user(world: World) -> Request:
    body = {
        "username": f"matrix-{next(world.counter)}",
        "password": "long-enough",
        "role": "midwife",
    }
    return {"json": body}


async def key_path(world: World) -> Request:
    return {"path": f"/api/v1/keys/{await world.new_key()}"}


async def rotate_path(world: World) -> Request:
    return {"path": f"/api/v1/keys/{await world.new_key()}/rotate"}


async def refusal_path(world: World) -> Request:
    return {"path": f"/api/v1/refusals/{world.refusal_id}", "json": {"outcome": "placed"}}


async def new_refusal_path(world: World) -> Request:
    """A fresh record of the midwife's, for a row that consumes it (undo)."""
    recorded = await world.client.post("/api/v1/refusals", json=refusal(), headers=world.midwife)
    assert recorded.status_code == 201, recorded.text
    return {"path": f"/api/v1/refusals/{recorded.json()['id']}"}


def transfer() -> dict[str, Any]:
    return {
        "category": "delivery_room",
        "request_type": "medical",
        "urgency": "sub_acute",
        "lat": 51.92,
        "lon": 4.48,
        "facilities": [ERASMUS, IKAZIA],
    }


async def _new_transfer(world: World) -> dict[str, Any]:
    made = await world.client.post("/api/v1/transfers", json=transfer(), headers=world.midwife)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def transfer_path(world: World) -> Request:
    """A fresh request of the midwife's (rows that cancel or extend it consume it)."""
    return {"path": f"/api/v1/transfers/{(await _new_transfer(world))['id']}"}


async def cancel_path(world: World) -> Request:
    return {"path": f"/api/v1/transfers/{(await _new_transfer(world))['id']}/cancel"}


async def further_path(world: World) -> Request:
    made = await _new_transfer(world)
    n = next(world.counter)
    more = "maasstad-ziekenhuis-rotterdam" if n % 2 else "franciscus-gasthuis-rotterdam"
    return {"path": f"/api/v1/transfers/{made['id']}/offers", "json": {"facilities": [more]}}


async def accept_path(world: World) -> Request:
    """ERASMUS's offer of a fresh request (the one the row's staff may answer)."""
    offer = (await _new_transfer(world))["offers"][0]
    return {"path": f"/api/v1/offers/{offer['id']}/accept"}


async def decline_path(world: World) -> Request:
    offer = (await _new_transfer(world))["offers"][0]
    return {"path": f"/api/v1/offers/{offer['id']}/decline", "json": {"reason": "no_bed"}}


STOP_ALERT = {"rule": "facility_stop", "facility_id": ERASMUS}


async def subscription_path(world: World) -> Request:
    """A fresh subscription of the midwife's, for a row that ends it."""
    made = await world.client.post(
        "/api/v1/alerts/subscriptions", json=STOP_ALERT, headers=world.midwife
    )
    assert made.status_code == 201, made.text
    return {"path": f"/api/v1/alerts/subscriptions/{made.json()['id']}"}


async def _midwife_alert(world: World, status: DeliveryStatus) -> int:
    """An alert in the midwife's inbox (or a dead letter), as the watcher would have fired it."""
    made = await world.client.post(
        "/api/v1/alerts/subscriptions", json=STOP_ALERT, headers=world.midwife
    )
    assert made.status_code == 201, made.text
    sub = made.json()
    now = datetime.now(UTC)
    alert = Alert(
        subscription_id=sub["id"],
        user_id=sub["user_id"],
        event_key=f"matrix-{next(world.counter)}",
        rule=AlertRule.facility_stop,
        channel=Channel.app,
        payload={"facility_id": ERASMUS},
        status=status,
        next_attempt_at=now,
        created_at=now,
    )
    async with world.app.state.db.write_session() as session:
        session.add(alert)
        await session.commit()
        await session.refresh(alert)
    assert alert.id is not None
    return alert.id


async def read_alert_path(world: World) -> Request:
    return {"path": f"/api/v1/alerts/{await _midwife_alert(world, DeliveryStatus.sent)}/read"}


async def retry_alert_path(world: World) -> Request:
    alert_id = await _midwife_alert(world, DeliveryStatus.dead)
    return {"path": f"/api/v1/alerts/dead-letters/{alert_id}/retry"}


async def bed_list(world: World) -> Request:
    """A one-bed list for ERASMUS, whose VK ward an admin mapped first (else it is a 422)."""
    mapped = await world.client.put(
        f"/api/v1/facilities/{ERASMUS}/wards",
        json={"wards": [{"ward": "VK", "category": "delivery_room"}]},
        headers=world.admin,
    )
    assert mapped.status_code == 200, mapped.text
    body = b"ward;room;bed;status\nVK;1;1;free\n"
    return {"content": body, "headers": {"Content-Type": "text/csv"}}


async def report_path(world: World) -> Request:
    return {"path": f"/api/v1/reports/{world.report_id}"}


LAST_MONTH = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
STATS = {"region": REGION}
FIGURES = {"categories": {"delivery_room": {"available": 1, "staffed": 4}}}

# (method, route path) -> (how to build the request, outcome per role)
TABLE: dict[tuple[str, str], tuple[Make, dict[str, int | str]]] = {
    # Public by the contract: token endpoint, health, docs. The token endpoint ignores headers.
    ("POST", "/api/v1/auth/token"): (
        fixed(data={"username": "midwife", "password": "demo"}),
        PUBLIC,
    ),
    ("GET", "/healthz"): (fixed(), PUBLIC),
    ("GET", "/readyz"): (fixed(), PUBLIC),
    ("GET", "/openapi.json"): (fixed(), PUBLIC),
    ("GET", "/docs"): (fixed(), PUBLIC),
    ("GET", "/asyncapi.json"): (fixed(), PUBLIC),
    ("GET", "/docs/assets/{name}"): (fixed(path="/docs/assets/swagger-ui.css"), PUBLIC),
    # Contract silent: metrics are for loopback callers (or the metrics token), whatever else
    # they send; the test client is a loopback caller.
    ("GET", "/metrics"): (fixed(), PUBLIC),
    # Reading: every account; an API key may only change its facility ("nothing else").
    ("GET", "/api/v1/regions"): (fixed(), signed_in(200)),
    ("GET", "/api/v1/facilities"): (fixed(params={"region": REGION}), signed_in(200)),
    ("GET", "/api/v1/facilities/{facility_id}"): (fixed(), signed_in(200)),
    ("GET", "/api/v1/regions/{region}/capacity"): (fixed(), signed_in(200, other_analyst=403)),
    # One facility's entry (issue 14.2): whoever reads its region, and its own API key (another
    # facility's key and group keys: test_keys_act_for_their_own_facilities_only below).
    ("GET", "/api/v1/facilities/{facility_id}/capacity"): (
        fixed(),
        signed_in(200, other_analyst=403, key=200),
    ),
    # Writing capacity and stops.
    ("PUT", "/api/v1/facilities/{facility_id}/capacity"): (
        fixed(json=FIGURES),
        facility_writers(200),
    ),
    ("PUT", "/api/v1/facilities/{facility_id}/stop"): (
        fixed(json={"reason": "staff"}),
        facility_writers(200),
    ),
    ("DELETE", "/api/v1/facilities/{facility_id}/stop"): (fixed(), facility_writers(200)),
    # Bed lists (issue 14.1): pushed like figures; the ward map is kept by the facility's own
    # staff and admins (not its API key: a hospital's system sends beds, not the map).
    ("POST", "/api/v1/facilities/{facility_id}/beds"): (bed_list, facility_writers(200)),
    ("GET", "/api/v1/facilities/{facility_id}/wards"): (
        fixed(),
        signed_in(403, staff=200, admin=200),
    ),
    ("PUT", "/api/v1/facilities/{facility_id}/wards"): (
        fixed(json={"wards": [{"ward": "VK", "category": "delivery_room"}]}),
        signed_in(403, staff=200, admin=200),
    ),
    # Facilities, accounts, keys, audit: admins.
    ("POST", "/api/v1/facilities"): (new_facility, admin_only(201)),
    ("PATCH", "/api/v1/facilities/{facility_id}"): (
        fixed(json={"phone": "010 123 4567"}),
        admin_only(200),
    ),
    ("GET", "/api/v1/users"): (fixed(), admin_only(200)),
    ("POST", "/api/v1/users"): (new_user, admin_only(201)),
    ("PATCH", "/api/v1/users/{username}"): (
        fixed(path="/api/v1/users/analyst", json={"active": True}),
        admin_only(200),
    ),
    ("POST", "/api/v1/users/{username}/password"): (
        fixed(path="/api/v1/users/analyst/password", json={"new_password": "long-enough"}),
        admin_only(204),
    ),
    ("DELETE", "/api/v1/lockouts/addresses/{address}"): (
        fixed(path="/api/v1/lockouts/addresses/192.0.2.7"),
        admin_only(200),
    ),
    ("DELETE", "/api/v1/users/{username}/lockout"): (
        fixed(path="/api/v1/users/midwife/lockout"),
        admin_only(200),
    ),
    ("POST", "/api/v1/facilities/{facility_id}/keys"): (fixed(json={}), admin_only(201)),
    # Tap-to-call numbers (issue 12.1): every account reads them; the facility's own staff and
    # admins keep them (not its API key: a hospital's system pushes figures, not numbers).
    ("GET", "/api/v1/facilities/{facility_id}/contacts"): (fixed(), signed_in(200)),
    ("PUT", "/api/v1/facilities/{facility_id}/contacts"): (
        fixed(json={"contacts": [{"type": "verloskunde", "phone": "010 123 4567"}]}),
        signed_in(403, staff=200, admin=200),
    ),
    ("PUT", "/api/v1/regions/{region}/coordination-phone"): (
        fixed(json={"phone": "010 123 4567"}),
        admin_only(200),
    ),
    ("POST", "/api/v1/contacts/import"): (
        fixed(content=f"facility_id;type;phone\n{ERASMUS};verloskunde;010 123 4567\n".encode()),
        admin_only(200),
    ),
    ("GET", "/api/v1/keys"): (fixed(), admin_only(200)),
    ("POST", "/api/v1/keys"): (fixed(json={"facility_ids": [ERASMUS, IKAZIA]}), admin_only(201)),
    ("DELETE", "/api/v1/keys/{key_id}"): (key_path, admin_only(200)),
    ("POST", "/api/v1/keys/{key_id}/rotate"): (rotate_path, admin_only(201)),
    ("GET", "/api/v1/audit"): (fixed(), admin_only(200)),
    ("GET", "/api/v1/admin/audit/export"): (
        fixed(params={"from": date.today().isoformat()}),
        admin_only(200),
    ),
    # Refusals: recorded by midwives and staff (of any facility: "everything a midwife may");
    # the contract does not list admins, the code lets them ("admin: everything").
    ("POST", "/api/v1/refusals"): (
        fixed(json=refusal()),
        signed_in(201, analyst=403, other_analyst=403),
    ),
    ("POST", "/api/v1/episodes"): (fixed(), signed_in(201, analyst=403, other_analyst=403)),
    ("GET", "/api/v1/refusals/mine"): (fixed(), signed_in(200, analyst=403, other_analyst=403)),
    # Only the midwife who recorded it; other recorders get 403, admins too (the outcome is
    # the recorder's to give, so "admin: everything" stops here), analysts 403 by role.
    ("PATCH", "/api/v1/refusals/{refusal_id}"): (
        refusal_path,
        signed_in(403, midwife=200),
    ),
    # Undo (15 minutes): only the account that recorded it, like the outcome.
    ("DELETE", "/api/v1/refusals/{refusal_id}"): (
        new_refusal_path,
        signed_in(403, midwife=204),
    ),
    ("GET", "/api/v1/refusals/stats"): (fixed(params=STATS), region_readers(200)),
    ("GET", "/api/v1/refusals/export"): (fixed(params=STATS), region_readers(200)),
    ("GET", "/api/v1/capacity-over-time"): (fixed(params=STATS), region_readers(200)),
    ("GET", "/api/v1/reports"): (fixed(params=STATS), region_readers(200)),
    ("POST", "/api/v1/reports"): (
        fixed(params={**STATS, "month": LAST_MONTH}),
        region_readers(201),
    ),
    ("GET", "/api/v1/reports/{report_id}"): (report_path, region_readers(200)),
    # Transfer requests (issue 13): asked by midwives and ward staff (not admins: they do not
    # transfer anyone); read, cancelled and extended by the asker and admins; an offer is seen
    # by its ward's staff and admins, answered only by the ward's staff.
    ("GET", "/api/v1/transfers/proposal"): (
        fixed(params={"category": "delivery_room", "lat": 51.92, "lon": 4.48}),
        signed_in(403, midwife=200, staff=200, other_staff=200),
    ),
    ("POST", "/api/v1/transfers"): (
        fixed(json=transfer()),
        signed_in(403, midwife=201, staff=201, other_staff=201),
    ),
    ("GET", "/api/v1/transfers/stats"): (fixed(params=STATS), region_readers(200)),
    ("GET", "/api/v1/transfers/{request_id}"): (
        transfer_path,
        signed_in(403, midwife=200, admin=200),
    ),
    ("POST", "/api/v1/transfers/{request_id}/cancel"): (
        cancel_path,
        signed_in(403, midwife=200, admin=200),
    ),
    ("POST", "/api/v1/transfers/{request_id}/offers"): (
        further_path,
        signed_in(403, midwife=201, admin=201),
    ),
    ("GET", "/api/v1/facilities/{facility_id}/offers"): (
        fixed(),
        signed_in(403, staff=200, admin=200),
    ),
    ("POST", "/api/v1/offers/{offer_id}/accept"): (accept_path, signed_in(403, staff=200)),
    ("POST", "/api/v1/offers/{offer_id}/decline"): (decline_path, signed_in(403, staff=200)),
    # Alerts (issue 13.7): every account keeps its own subscriptions and inbox (API keys have
    # none); a subscription only for what the account may read (the other region's analyst is
    # refused ERASMUS). Someone else's subscription or alert is a 404 (its id says nothing);
    # admins may end any subscription but read only their own inbox. Dead letters: admins.
    ("GET", "/api/v1/alerts/subscriptions"): (fixed(), signed_in(200)),
    ("POST", "/api/v1/alerts/subscriptions"): (
        fixed(json=STOP_ALERT),
        signed_in(201, other_analyst=403),
    ),
    ("DELETE", "/api/v1/alerts/subscriptions/{subscription_id}"): (
        subscription_path,
        signed_in(404, midwife=204, admin=204),
    ),
    ("GET", "/api/v1/alerts"): (fixed(), signed_in(200)),
    ("POST", "/api/v1/alerts/{alert_id}/read"): (read_alert_path, signed_in(404, midwife=200)),
    ("GET", "/api/v1/alerts/dead-letters"): (fixed(), admin_only(200)),
    ("POST", "/api/v1/alerts/dead-letters/{alert_id}/retry"): (retry_alert_path, admin_only(200)),
    # The region's overdue reporters: its coordinators (analysts of the region) and admins.
    ("GET", "/api/v1/regions/{region}/overdue"): (fixed(), region_readers(200)),
    # Offers live: ward staff and askers; analysts and admins 4403 (nothing of theirs to see).
    ("WS", "/ws/offers"): (
        fixed(),
        {
            **{role: WS_OPEN for role in ACCOUNTS},
            "analyst": 4403,
            "other_analyst": 4403,
            "admin": 4403,
            "anonymous": 4401,
            "key": 4401,
            "revoked_key": 4401,
            "expired": 4401,
        },
    ),
    # Alerts live: every account its own inbox; a key has none (4401, like no token at all).
    ("WS", "/ws/alerts"): (
        fixed(),
        {
            **{role: WS_OPEN for role in ACCOUNTS},
            "anonymous": 4401,
            "key": 4401,
            "revoked_key": 4401,
            "expired": 4401,
        },
    ),
    # The live stream: close codes 4401 (no valid token), 4403 (region not readable). Contract
    # silent on keys: they cannot watch (a key is no token), like they cannot read.
    ("WS", "/ws/regions/{region}"): (
        fixed(),
        {
            **{role: WS_OPEN for role in ACCOUNTS},
            "other_analyst": 4403,
            "anonymous": 4401,
            "key": 4401,
            "revoked_key": 4401,
            "expired": 4401,
        },
    ),
    # FHIR (issue 14.4): the API's readers read (Locations like /api/v1/facilities, reports like
    # the regional picture); the facility's writers push. The CapabilityStatement and our
    # CodeSystem hold no capacity: public, as FHIR clients fetch /metadata before signing in.
    ("GET", "/fhir/metadata"): (fixed(), PUBLIC),
    ("GET", "/fhir/CodeSystem/capacity-category"): (fixed(), PUBLIC),
    ("GET", "/fhir/Location"): (fixed(params={"region": REGION}), signed_in(200)),
    ("GET", "/fhir/Location/{facility_id}"): (fixed(), signed_in(200)),
    ("GET", "/fhir/MeasureReport"): (
        fixed(params={"subject": f"Location/{ERASMUS}"}),
        signed_in(200, other_analyst=403),
    ),
    ("POST", "/fhir/MeasureReport"): (
        fixed(content=orjson.dumps(report(ERASMUS, group("delivery_room", total=4, available=1)))),
        facility_writers(201),
    ),
    # Each account its own password (API keys have none). Last: a changed password may end
    # the account's other sessions, and the rows above use them.
    ("POST", "/api/v1/auth/password"): (
        fixed(json={"current_password": "demo", "new_password": "changed-in-matrix"}),
        signed_in(200),
    ),
}
PATH_VALUES = {"facility_id": ERASMUS, "region": REGION}


async def credentials(client: httpx.AsyncClient, login: Login, app: FastAPI) -> dict[str, Any]:
    """Headers per role (``token`` for the websocket in the same dict)."""
    headers: dict[str, Any] = {"anonymous": {}}
    for role, username in ACCOUNTS.items():
        headers[role] = await login(username)
    admin = headers["admin"]
    made = await client.post(f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=admin)
    revoked = await client.post(f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=admin)
    assert made.status_code == revoked.status_code == 201
    gone = await client.delete(f"/api/v1/keys/{revoked.json()['id']}", headers=admin)
    assert gone.status_code == 200
    headers["key"] = {"X-API-Key": made.json()["key"]}
    headers["revoked_key"] = {"X-API-Key": revoked.json()["key"]}
    past = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())
    claims = {"sub": "1", "name": "admin", "role": "admin", "iat": past - 60, "exp": past}
    expired = jwt.encode(claims, app.state.settings.resolved_secret_key, algorithm="HS256")
    headers["expired"] = {"Authorization": f"Bearer {expired}"}
    return headers


def ws_token(headers: dict[str, str]) -> str:
    if "Authorization" in headers:
        return headers["Authorization"].removeprefix("Bearer ")
    return headers.get("X-API-Key", "")


async def ws_outcome(app: FastAPI, path: str, token: str) -> int | str:
    """Drive the websocket route over ASGI: WS_OPEN after a snapshot, else the close code."""
    query = f"token={token}".encode() if token else b""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
        "root_path": "",
    }
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    task = asyncio.create_task(app(scope, incoming.get, outgoing.put))
    try:
        while True:
            message = await asyncio.wait_for(outgoing.get(), 20)
            if message["type"] == "websocket.close":
                return int(message.get("code", 1000))
            if message["type"] == "websocket.send":
                body = message.get("text") or message.get("bytes") or b"{}"
                kind = orjson.loads(body).get("type")
                return WS_OPEN if kind == "snapshot" else f"first message {kind}"
    finally:
        await incoming.put({"type": "websocket.disconnect", "code": 1000})
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            task.cancel()


async def test_every_endpoint_and_role_gets_the_contracts_answer(client, login, app):  # type: ignore[no-untyped-def]
    endpoints = app_endpoints(app)
    assert endpoints - TABLE.keys() == set(), "endpoints without a row in the matrix"
    assert TABLE.keys() - endpoints == set(), "rows for endpoints the app does not have"

    roles = await credentials(client, login, app)
    world = World(client=client, admin=roles["admin"], midwife=roles["midwife"], app=app)
    recorded = await client.post("/api/v1/refusals", json=refusal(), headers=roles["midwife"])
    assert recorded.status_code == 201, recorded.text
    world.refusal_id = recorded.json()["id"]
    params = {**STATS, "month": LAST_MONTH}
    report = await client.post("/api/v1/reports", params=params, headers=roles["admin"])
    assert report.status_code == 201, report.text
    world.report_id = report.json()["id"]

    wrong: list[str] = []
    for (method, route), (make, expected) in TABLE.items():
        assert set(expected) == set(ROLES), (method, route, set(ROLES) ^ set(expected))
        for role in ROLES:
            request = dict(await make(world))
            path = request.pop("path", None) or route.format(**PATH_VALUES)
            got: int | str
            if method == "WS":
                got = await ws_outcome(app, path, ws_token(roles[role]))
            else:
                headers = {**roles[role], **request.pop("headers", {})}
                response = await client.request(method, path, headers=headers, **request)
                got = response.status_code
            if got != expected[role]:
                wrong.append(f"{method} {path} as {role}: {got}, expected {expected[role]}")
    assert wrong == [], "\n".join(wrong)


SOPHIA = "geboortecentrum-sophia-rotterdam"  # zuidwest too
KEY_ROWS = [
    ("GET", f"/api/v1/facilities/{ERASMUS}/capacity", None),
    ("PUT", f"/api/v1/facilities/{ERASMUS}/capacity", FIGURES),
    ("PUT", f"/api/v1/facilities/{ERASMUS}/stop", {"reason": "staff"}),
    ("DELETE", f"/api/v1/facilities/{ERASMUS}/stop", None),
]


async def test_keys_act_for_their_own_facilities_only(client, login):  # type: ignore[no-untyped-def]
    """Issue 14.2: the rows above, for API keys of other facilities and hospital groups' keys.

    ERASMUS's entry and writes: 200 for a group key bound to it, 403 for another facility's key
    and for a group key without it, 401 for a revoked group key; with an Idempotency-Key too (a
    key reused by another caller is that caller's own).
    """
    admin = await login("admin")

    async def key(body: dict[str, Any], path: str = "/api/v1/keys") -> dict[str, Any]:
        made = await client.post(path, json=body, headers=admin)
        assert made.status_code == 201, made.text
        return {"X-API-Key": made.json()["key"], "id": made.json()["id"]}

    callers = {
        "group_with": await key({"facility_ids": [IKAZIA, ERASMUS]}),
        "group_without": await key({"facility_ids": [IKAZIA, SOPHIA]}),
        "other_facility": await key({}, f"/api/v1/facilities/{IKAZIA}/keys"),
        "revoked_group": await key({"facility_ids": [ERASMUS, IKAZIA]}),
    }
    gone = await client.delete(f"/api/v1/keys/{callers['revoked_group']['id']}", headers=admin)
    assert gone.status_code == 200
    expected = {
        "group_with": 200,
        "group_without": 403,
        "other_facility": 403,
        "revoked_group": 401,
    }
    wrong = []
    for (method, path, body), idempotency in itertools.product(KEY_ROWS, (None, "same-key")):
        for name, caller in callers.items():
            headers = {"X-API-Key": caller["X-API-Key"]}
            if idempotency:
                headers["Idempotency-Key"] = f"{idempotency}-{method}-{path}"
            response = await client.request(method, path, json=body, headers=headers)
            if response.status_code != expected[name]:
                wrong.append(f"{method} {path} as {name}: {response.status_code}")
    assert wrong == [], "\n".join(wrong)
