"""Security headers, the frontend's Content-Security-Policy, CORS and the body size limit."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest

from capacity.api.security import STRICT_CSP, docs_policy
from capacity.main import create_app
from capacity.settings import Mode, Settings

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _check_common(response: httpx.Response) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, name
    assert "geolocation=(self)" in response.headers["permissions-policy"]


async def test_every_api_answer_carries_the_security_headers(client, login) -> None:  # type: ignore[no-untyped-def]
    for response in (
        await client.get("/healthz"),
        await client.get("/api/v1/regions"),  # 401
        await client.get("/api/v1/regions", headers=await login("midwife")),
        await client.get("/api/v1/no-such-thing"),
    ):
        _check_common(response)
        assert response.headers["content-security-policy"] == STRICT_CSP
    # development mode: no HSTS (it would pin plain-http localhost in browsers)
    assert "strict-transport-security" not in response.headers


async def test_frontend_gets_the_strict_policy_and_docs_their_own(
    settings: Settings, tmp_path: Path
) -> None:
    def sha256_of(script: str) -> str:
        return (
            "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        )

    frontend = tmp_path / "frontend"
    frontend.mkdir()
    (frontend / "index.html").write_text("<!doctype html><title>capacity</title>")
    app = create_app(settings.model_copy(update={"frontend_dir": frontend}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        page = await client.get("/")
        docs = await client.get("/docs")
        asset = await client.get("/docs/assets/swagger-ui-bundle.js")
        # only the files the page loads, not the package's petstore page or OAuth2 redirect
        others = [
            (await client.get(f"/docs/assets/{name}")).status_code
            for name in ("index.html", "swagger-initializer.js", "oauth2-redirect.html", "..%2Fx")
        ]
        redoc = await client.get("/redoc")
        # The frontend takes every path, but not the API's: those answer as the API does.
        unknown = await client.get("/api/v1/no-such-thing")
        wrong_method = await client.patch("/api/v1/refusals/stats")
    assert unknown.status_code == 404 and "no such endpoint" in unknown.json()["detail"]
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == STRICT_CSP
    assert "script-src 'self';" in page.headers["content-security-policy"]
    _check_common(page)
    # The docs come from the package, under the strict policy plus their one inline script's
    # hash: nothing from a CDN, nothing inline but that script (tests/frontend/test_report_csp.py
    # runs them in Chromium without internet).
    assert others == [404] * 4
    assert docs.status_code == 200
    policy = docs.headers["content-security-policy"]
    [script] = re.findall(r"<script>(.*?)</script>", docs.text, re.DOTALL)
    assert policy == docs_policy([sha256_of(script)]), policy
    assert "https:" not in docs.text and "https:" not in policy
    assert (asset.status_code, redoc.status_code) == (200, 404)
    _check_common(docs)


async def test_production_mode_adds_hsts(settings: Settings) -> None:
    production = settings.model_copy(update={"mode": Mode.production, "secret_key": "x" * 40})
    production = Settings.model_validate(production.model_dump())
    app = create_app(production)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_cors_is_closed_by_default(client) -> None:  # type: ignore[no-untyped-def]
    preflight = await client.options(
        "/api/v1/regions",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    simple = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.parametrize(
    "origin,allowed", [("https://roaz.example", True), ("https://evil.example", False)]
)
async def test_cors_admits_only_listed_origins(
    settings: Settings, origin: str, allowed: bool
) -> None:
    app = create_app(settings.model_copy(update={"cors_origins": "https://roaz.example"}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        response = await client.get("/healthz", headers={"Origin": origin})
    assert (response.headers.get("access-control-allow-origin") == origin) is allowed


async def test_oversized_body_is_413_with_headers(client, login) -> None:  # type: ignore[no-untyped-def]
    headers = await login("admin")
    body = b'{"categories": {}, "pad": "' + b"x" * (70 * 1024) + b'"}'
    response = await client.put(
        "/api/v1/facilities/erasmus-mc-rotterdam/capacity",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "body" in response.json()["message"]
    _check_common(response)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(70):
            yield b"x" * 1024

    streamed = await client.put(
        "/api/v1/facilities/erasmus-mc-rotterdam/capacity",
        content=chunks(),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
