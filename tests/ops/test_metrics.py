"""``/metrics``: who may read it and what it shows."""

from __future__ import annotations

from datetime import timedelta

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from capacity.main import create_app
from capacity.settings import Settings
from capacity.storage import keys

PUT = "/api/v1/facilities/erasmus-mc-rotterdam/capacity"


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_show_requests_by_route_template_and_status(client, login) -> None:  # type: ignore[no-untyped-def]
    headers = await login("staff-erasmus-mc-rotterdam")
    body = {"categories": {"delivery_room": {"available": 1, "staffed": 3}}}
    assert (await client.put(PUT, json=body, headers=headers)).status_code == 200
    assert (
        await client.put(PUT, json={"categories": {"x": {}}}, headers=headers)
    ).status_code == 422
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    template = "/api/v1/facilities/{facility_id}/capacity"
    ok = (
        "capacity_http_requests_total",
        frozenset({("method", "PUT"), ("route", template), ("status", "200")}),
    )
    bad = (
        "capacity_http_requests_total",
        frozenset({("method", "PUT"), ("route", template), ("status", "422")}),
    )
    assert samples[ok] >= 1 and samples[bad] >= 1
    assert (
        "capacity_http_request_duration_seconds_count",
        frozenset({("route", template)}),
    ) in samples
    # no raw ids as route labels
    assert not [
        k for k in samples if ("route", "/api/v1/facilities/erasmus-mc-rotterdam/capacity") in k[1]
    ]
    for name in ("capacity_ws_clients", "capacity_fanout_lag_seconds_count"):
        assert any(k[0] == name for k in samples), name


async def test_stale_figures_per_region_counted_at_scrape(settings: Settings, login) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            token = (
                await client.post(
                    "/api/v1/auth/token", data={"username": "admin", "password": "demo"}
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            body = {
                "categories": {
                    "delivery_room": {"available": 1, "staffed": 3},
                    "maternity_bed": {"available": 2, "staffed": 3},
                }
            }
            assert (await client.put(PUT, json=body, headers=headers)).status_code == 200
            fresh = _samples((await client.get("/metrics")).text)
            key = ("capacity_stale_figures", frozenset({("region", "zuidwest")}))
            assert fresh[key] == 0
            # the region's freshness limit passes: the scrape sees the figures as a client would
            store = app.state.store
            state = await store.read("zuidwest")
            raw = state.facilities["erasmus-mc-rotterdam"]
            for fig in raw["categories"].values():
                fig["ts"] -= timedelta(hours=5).total_seconds()
            await app.state.redis.hset(
                keys.region_state("zuidwest"), "erasmus-mc-rotterdam", orjson.dumps(raw)
            )
            stale = _samples((await client.get("/metrics")).text)
    assert stale[key] == 2


async def test_metrics_closed_to_other_addresses_without_the_token(settings: Settings) -> None:
    token = "metrics-token-0123456789abcdef"
    app = create_app(settings.model_copy(update={"metrics_token": token}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            anonymous = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
            right = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert anonymous.status_code == 403 and wrong.status_code == 403
    assert right.status_code == 200 and "capacity_http_requests_total" in right.text


async def test_expired_token_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    from capacity.auth.models import Role, User
    from capacity.auth.service import create_token

    settings: Settings = client._transport.app.state.settings
    user = User(id=1, username="midwife", password_hash="x", role=Role.midwife)
    token, _ = create_token(
        user=user, secret=settings.resolved_secret_key, lifetime=timedelta(seconds=-5)
    )
    response = await client.get("/api/v1/regions", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    login = await client.post(
        "/api/v1/auth/token", data={"username": "midwife", "password": "demo"}
    )
    assert login.json()["expires_in"] == settings.token_lifetime_minutes * 60
