"""Hostile values that once broke the service, sent all at once to a real server process.

Each used to end in a 500 or a misleading answer (issue 10, point 7): a null that an admin PATCH
stored and that then broke the facility listing for everyone, a report for the year 9999, an
audit search with a time without offset (503 "database unavailable"), dates that overflowed
(422 about an "id"), and a stop for an unknown facility answering staff 404 where figures 403.
Every one must be a 4xx whose message names the field, and the service must go on serving.
"""

from __future__ import annotations

import asyncio

import httpx

from tests import servers
from tests.conftest import ERASMUS

FIGURES = {"categories": {"delivery_room": {"available": 1, "staffed": 4}}}


async def bearer(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    answer = await http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def names(answer: httpx.Response, field: str) -> bool:
    body = answer.json()
    return field in str(body.get("message", "")) or field in str(body.get("detail", ""))


async def test_hostile_values_at_once_get_4xx_naming_the_field(api_server: servers.Server) -> None:
    async with httpx.AsyncClient(base_url=api_server.url, timeout=30) as http:
        admin, analyst, staff = await asyncio.gather(
            bearer(http, "admin"), bearer(http, "analyst"), bearer(http, f"staff-{ERASMUS}")
        )
        cases = [
            # (method, path, kwargs, expected status, field named)
            (
                "PATCH",
                f"/api/v1/facilities/{ERASMUS}",
                {"json": {"categories": None}, "headers": admin},
                422,
                "categories",
            ),
            (
                "PATCH",
                f"/api/v1/facilities/{ERASMUS}",
                {"json": {"name": None}, "headers": admin},
                422,
                "name",
            ),
            (
                "PATCH",
                f"/api/v1/facilities/{ERASMUS}",
                {"json": {"lat": None, "lon": None}, "headers": admin},
                422,
                "lat",
            ),
            (
                "POST",
                "/api/v1/reports?region=zuidwest&month=9999-12",
                {"headers": analyst},
                422,
                "month",
            ),
            (
                "POST",
                "/api/v1/reports?region=zuidwest&month=2100-12",
                {"headers": analyst},
                422,
                "month",
            ),
            ("GET", "/api/v1/audit?since=2026-01-01T00:00:00", {"headers": admin}, 422, "since"),
            (
                "GET",
                "/api/v1/refusals/stats?region=zuidwest&from=0001-01-01",
                {"headers": analyst},
                422,
                "from",
            ),
            (
                "GET",
                "/api/v1/refusals/stats?region=zuidwest&to=9999-12-31",
                {"headers": analyst},
                422,
                "to",
            ),
            (
                "GET",
                "/api/v1/refusals/export?region=zuidwest&to=0001-01-01",
                {"headers": analyst},
                422,
                "to",
            ),
            (
                "GET",
                "/api/v1/capacity-over-time?region=zuidwest&from=0001-01-01",
                {"headers": analyst},
                422,
                "from",
            ),
            ("GET", "/api/v1/admin/audit/export?from=0001-01-01", {"headers": admin}, 422, "from"),
            (
                "PUT",
                "/api/v1/facilities/no-such-hospital/stop",
                {"json": {"reason": "beds"}, "headers": staff},
                403,
                "no-such-hospital",
            ),
            (
                "PUT",
                "/api/v1/facilities/no-such-hospital/capacity",
                {"json": FIGURES, "headers": staff},
                403,
                "no-such-hospital",
            ),
        ]
        answers = await asyncio.gather(
            *(http.request(method, path, **kwargs) for method, path, kwargs, _, _ in cases)
        )
        wrong = [
            f"{method} {path}: {answer.status_code} {answer.text[:200]}"
            for (method, path, _, status, field), answer in zip(cases, answers, strict=True)
            if answer.status_code != status or not names(answer, field)
        ]
        assert not wrong, "\n".join(wrong)

        # Nothing was stored: the listing and the picture still serve everyone.
        listing = await http.get("/api/v1/facilities", headers=staff)
        assert listing.status_code == 200
        erasmus = next(f for f in listing.json() if f["id"] == ERASMUS)
        assert erasmus["categories"] and erasmus["name"] and erasmus["lat"] is not None
        assert (
            await http.get("/api/v1/regions/zuidwest/capacity", headers=staff)
        ).status_code == 200
