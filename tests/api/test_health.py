"""Health and docs are open; everything under /api/v1 needs credentials (see tests/auth)."""

from __future__ import annotations


async def test_health_and_docs_need_no_credentials(client):  # type: ignore[no-untyped-def]
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "redis": "ok"}
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    schema = (await client.get("/openapi.json")).json()
    for path in ("/api/v1/regions/{region}/capacity", "/api/v1/facilities/{facility_id}/capacity",
                 "/api/v1/facilities/{facility_id}/stop", "/api/v1/auth/token", "/api/v1/regions",
                 "/api/v1/facilities"):  # fmt: skip
        assert path in schema["paths"], path


async def test_token_endpoint_needs_no_credentials(client):  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": "demo"}
    )
    assert response.status_code == 200
