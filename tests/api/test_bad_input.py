"""Every rejected request answers the right 4xx, names the field, and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from capacity.auth.models import Role, User
from capacity.auth.service import create_token
from tests.api.support import IKAZIA, entry, history_rows, picture, put_figures
from tests.conftest import ERASMUS

CAPACITY = f"/api/v1/facilities/{ERASMUS}/capacity"
STOP = f"/api/v1/facilities/{ERASMUS}/stop"
PAST = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()


def fig(available: Any, staffed: Any = 10) -> dict[str, Any]:
    return {"categories": {"delivery_room": {"available": available, "staffed": staffed}}}


# (name, path, json body, field the message must name)
REJECTED_422 = [
    (
        "unknown_category",
        CAPACITY,
        {"categories": {"operating_room": {"available": 1, "staffed": 2}}},
        "operating_room",
    ),
    ("negative_available", CAPACITY, fig(-1), "available"),
    ("negative_staffed", CAPACITY, fig(0, -2), "staffed"),
    ("available_above_staffed", CAPACITY, fig(7, 6), "available"),
    ("float_figure", CAPACITY, fig(1.5), "available"),
    ("string_figure", CAPACITY, fig("3"), "available"),
    ("boolean_figure", CAPACITY, fig(True), "available"),
    ("figure_above_500", CAPACITY, fig(2, 501), "staffed"),
    ("available_above_500", CAPACITY, fig(501, 501), "available"),
    ("categories_wrong_type", CAPACITY, {"categories": ["delivery_room"]}, "categories"),
    ("figure_wrong_type", CAPACITY, {"categories": {"delivery_room": 3}}, "delivery_room"),
    ("empty_categories", CAPACITY, {"categories": {}}, "categories"),
    ("missing_categories", CAPACITY, {}, "categories"),
    ("unknown_top_level_key", CAPACITY, {**fig(1), "comment": "x"}, "comment"),
    (
        "unknown_figure_key",
        CAPACITY,
        {"categories": {"delivery_room": {"available": 1, "staffed": 2, "note": "x"}}},
        "note",
    ),
    ("body_not_an_object", CAPACITY, [1, 2], "body"),
    ("stop_until_in_the_past", STOP, {"reason": "staff", "until": PAST}, "until"),
    (
        "stop_until_without_offset",
        STOP,
        {"reason": "staff", "until": "2999-01-01T10:00:00"},
        "until",
    ),
    ("stop_unknown_reason", STOP, {"reason": "holiday"}, "reason"),
    ("stop_unknown_key", STOP, {"reason": "staff", "why": "x"}, "why"),
]


@pytest.fixture
async def before(client, login, app):  # type: ignore[no-untyped-def]
    """Erasmus has figures; returns (picture, history rows) to compare against."""
    staff = await login(f"staff-{ERASMUS}")
    response = await put_figures(
        client, ERASMUS, {"delivery_room": {"available": 2, "staffed": 5}}, staff
    )
    assert response.status_code == 200
    return await picture(client, await login("midwife")), await history_rows(app.state.db)


async def assert_unchanged(client, login, app, before) -> None:  # type: ignore[no-untyped-def]
    old_picture, old_rows = before
    now = await picture(client, await login("midwife"))
    assert now["seq"] == old_picture["seq"]
    assert now["facilities"] == old_picture["facilities"]
    assert await history_rows(app.state.db) == old_rows


@pytest.mark.parametrize(
    ("name", "path", "body", "field"), REJECTED_422, ids=[c[0] for c in REJECTED_422]
)
async def test_rejected_request_names_the_field_and_changes_nothing(
    client, login, app, before, name, path, body, field
):  # type: ignore[no-untyped-def]
    response = await client.put(path, json=body, headers=await login(f"staff-{ERASMUS}"))
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    await assert_unchanged(client, login, app, before)


async def test_category_not_offered_is_rejected(client, login, app, before):  # type: ignore[no-untyped-def]
    response = await put_figures(
        client, IKAZIA, {"nicu": {"available": 1, "staffed": 2}}, await login(f"staff-{IKAZIA}")
    )
    assert response.status_code == 422
    assert "categories.nicu" in response.json()["message"]
    await assert_unchanged(client, login, app, before)
    assert entry(await picture(client, await login("midwife")), IKAZIA)["categories"] == {}


async def test_one_bad_category_rejects_the_whole_request(client, login, app, before):  # type: ignore[no-untyped-def]
    response = await put_figures(
        client,
        ERASMUS,
        {"maternity_bed": {"available": 3, "staffed": 9}, "nicu": {"available": 5, "staffed": 4}},
        await login(f"staff-{ERASMUS}"),
    )
    assert response.status_code == 422
    assert "nicu" in response.json()["message"]
    await assert_unchanged(client, login, app, before)


@pytest.mark.parametrize(
    "raw", [b'{"categories": {"delivery_room": {"available": 1,', b"not json", b"\xff\xfe"]
)
async def test_malformed_json_is_rejected(client, login, app, before, raw):  # type: ignore[no-untyped-def]
    headers = {**await login(f"staff-{ERASMUS}"), "Content-Type": "application/json"}
    response = await client.put(CAPACITY, content=raw, headers=headers)
    assert response.status_code == 422
    assert "message" in response.json()
    await assert_unchanged(client, login, app, before)


async def test_body_over_64_kb_is_refused_with_413(client, login, app, before):  # type: ignore[no-untyped-def]
    body = (
        b'{"categories": {"delivery_room": {"available": 1, "staffed": 2}}, "pad": "'
        + b"x" * 70_000
        + b'"}'
    )
    headers = {**await login(f"staff-{ERASMUS}"), "Content-Type": "application/json"}
    response = await client.put(CAPACITY, content=body, headers=headers)
    assert response.status_code == 413
    assert "body" in response.json()["message"]

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(70):
            yield b" " * 1024  # no Content-Length: the limit holds while reading

    response = await client.put(CAPACITY, content=chunks(), headers=headers)
    assert response.status_code == 413
    await assert_unchanged(client, login, app, before)


async def test_unknown_facility_is_404(client, login, app, before):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    response = await put_figures(
        client, "no-such-hospital", {"delivery_room": {"available": 1, "staffed": 2}}, admin
    )
    assert response.status_code == 404
    assert "no-such-hospital" in response.json()["detail"]
    stop = await client.put(
        "/api/v1/facilities/no-such-hospital/stop", json={"reason": "beds"}, headers=admin
    )
    assert stop.status_code == 404
    lift = await client.delete("/api/v1/facilities/no-such-hospital/stop", headers=admin)
    assert lift.status_code == 404
    await assert_unchanged(client, login, app, before)


async def test_unknown_region_is_404(client, login):  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    response = await client.get("/api/v1/regions/atlantis/capacity", headers=midwife)
    assert response.status_code == 404
    assert "atlantis" in response.json()["detail"]
    assert (
        await client.get("/api/v1/facilities?region=atlantis", headers=midwife)
    ).status_code == 404


async def test_unknown_api_path_is_a_json_404_not_the_frontend(client, login):  # type: ignore[no-untyped-def]
    admin = await login("admin")
    for method, path in (("GET", "/api/v1/bedden"), ("PATCH", "/api/v1/refusals/abc")):
        response = await client.request(method, path, headers=admin)
        assert response.status_code == 404
        assert response.json()["detail"] == f"no such endpoint: {path}"


def _staff_token(secret: str, lifetime: timedelta) -> str:
    user = User(
        id=1,
        username=f"staff-{ERASMUS}",
        password_hash="x",
        role=Role.facility_staff,
        facility_id=ERASMUS,
        created_at=datetime.now(UTC),
    )
    return create_token(user=user, secret=secret, lifetime=lifetime)[0]


async def _key(client, login, facility: str = ERASMUS) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.post(
        f"/api/v1/facilities/{facility}/keys", headers=await login("admin")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _bad_credentials(settings: Any) -> dict[str, dict[str, str]]:
    secret = settings.resolved_secret_key
    now = int(datetime.now(UTC).timestamp())
    claims = {
        "sub": "1",
        "name": f"staff-{ERASMUS}",
        "role": "admin",
        "fac": ERASMUS,
        "iat": now,
        "exp": now + 600,
    }
    return {
        "missing": {},
        "expired": {"Authorization": f"Bearer {_staff_token(secret, timedelta(minutes=-5))}"},
        "forged_signature": {
            "Authorization": f"Bearer {jwt.encode(claims, 'x' * 48, algorithm='HS256')}"
        },
        "unsigned": {"Authorization": f"Bearer {jwt.encode(claims, None, algorithm='none')}"},
        "garbage_token": {"Authorization": "Bearer not.a.token"},
        "wrong_scheme": {"Authorization": f"Basic {_staff_token(secret, timedelta(minutes=5))}"},
        "unknown_key": {"X-API-Key": "cap_" + "A" * 43},
        "malformed_key": {"X-API-Key": "hello"},
    }


@pytest.mark.parametrize(
    "kind",
    [
        "missing",
        "expired",
        "forged_signature",
        "unsigned",
        "garbage_token",
        "wrong_scheme",
        "unknown_key",
        "malformed_key",
    ],
)
async def test_bad_credentials_are_401_and_change_nothing(
    client, login, app, before, settings, kind
):  # type: ignore[no-untyped-def]
    headers = _bad_credentials(settings)[kind]
    response = await put_figures(
        client, ERASMUS, {"delivery_room": {"available": 4, "staffed": 5}}, headers
    )
    assert response.status_code == 401, response.text
    assert response.headers.get("www-authenticate") == "Bearer"
    assert (await client.put(STOP, json={"reason": "beds"}, headers=headers)).status_code == 401
    assert (
        await client.get("/api/v1/regions/zuidwest/capacity", headers=headers)
    ).status_code == 401
    await assert_unchanged(client, login, app, before)


async def test_expired_token_says_so(client, settings):  # type: ignore[no-untyped-def]
    headers = _bad_credentials(settings)["expired"]
    response = await client.get("/api/v1/regions", headers=headers)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_revoked_api_key_is_401_and_changes_nothing(client, login, app, before):  # type: ignore[no-untyped-def]
    key = await _key(client, login)
    headers = {"X-API-Key": key["key"]}
    ok = await put_figures(
        client, ERASMUS, {"maternity_bed": {"available": 1, "staffed": 3}}, headers
    )
    assert ok.status_code == 200
    revoked = await client.delete(f"/api/v1/keys/{key['id']}", headers=await login("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after_ok = await picture(client, await login("midwife")), await history_rows(app.state.db)
    response = await put_figures(
        client, ERASMUS, {"maternity_bed": {"available": 0, "staffed": 3}}, headers
    )
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    await assert_unchanged(client, login, app, after_ok)


async def test_no_input_gives_a_server_error(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    odd_bodies: list[Any] = [
        None,
        "",
        0,
        {"categories": None},
        {"categories": {"delivery_room": None}},
        {"categories": {"delivery_room": {"available": 10**30, "staffed": 1}}},
        {"categories": {"nicu": {"available": 1}}},
        {"reason": None, "until": "yesterday"},
    ]
    for body in odd_bodies:
        for path in (CAPACITY, STOP):
            response = await client.put(path, json=body, headers=staff)
            assert 400 <= response.status_code < 500, (path, body, response.text)
    weird_ids = ["%00", "a" * 300, "..%2F..", "ERASMUS-MC-ROTTERDAM"]
    for facility in weird_ids:
        response = await client.put(
            f"/api/v1/facilities/{facility}/capacity", json=fig(1), headers=staff
        )
        assert 400 <= response.status_code < 500, (facility, response.text)
        response = await client.get(f"/api/v1/regions/{facility}/capacity", headers=staff)
        assert 400 <= response.status_code < 500, (facility, response.text)


async def test_nul_bytes_and_odd_ids_never_give_a_server_error(client, login):  # type: ignore[no-untyped-def]
    """PostgreSQL refuses NUL bytes in text; such input is a 4xx, not a 'database down' 503."""
    admin = await login("admin")
    for method, path in (
        ("GET", "/api/v1/regions/%00/capacity"),
        ("GET", "/api/v1/facilities/%00"),
        ("GET", "/api/v1/facilities?region=%00"),
        ("GET", "/api/v1/keys?facility=%00"),
        ("GET", "/api/v1/audit?actor=%00"),
        ("PUT", "/api/v1/facilities/%00/capacity"),
        ("PUT", "/api/v1/facilities/%00/stop"),
        ("DELETE", "/api/v1/facilities/%00/stop"),
        ("PATCH", "/api/v1/facilities/%00"),
        ("POST", "/api/v1/facilities/%00/keys"),
    ):
        response = await client.request(method, path, headers=admin, json={"phone": "0101234567"})
        assert response.status_code < 500, (method, path, response.text)
    login_nul = await client.post(
        "/api/v1/auth/token", data={"username": "mid\x00wife", "password": "demo"}
    )
    assert 400 <= login_nul.status_code < 500
