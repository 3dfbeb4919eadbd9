"""Episode tokens come from the server; what a person types is never stored as one (issue 11.6).

Patient details sent as ``episode`` (a name with a birth date, a BSN, a phone number) were
stored, exported and written to the append-only audit trail. Against a real server process:
each is a 422 naming ``episode`` and appears in none of the records, the export or the trail;
a token from ``POST /api/v1/episodes`` groups one search and works for its own account only,
until it expires.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import bindparam, create_engine, text

from capacity.storage.types import UTCDateTime
from tests import servers
from tests.conftest import ERASMUS, _sync_url
from tests.refusals.test_recording import refusal

PATIENT_DETAILS = ["Maria_de_Vries-1991-03-15", "BSN-123456782", "tel-0612345678"]


def bearer(http: httpx.Client, username: str) -> dict[str, str]:
    answer = http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def everything_stored(http: httpx.Client) -> str:
    """The region's export, the recorder's own list and the audit trail, as one text."""
    analyst, admin, midwife = (bearer(http, u) for u in ("analyst-zuidwest", "admin", "midwife"))
    export = http.get("/api/v1/refusals/export", params={"region": "zuidwest"}, headers=analyst)
    mine = http.get("/api/v1/refusals/mine", headers=midwife)
    trail = http.get("/api/v1/audit", params={"limit": 5000}, headers=admin)
    assert export.status_code == mine.status_code == trail.status_code == 200
    return "\n".join((export.text, mine.text, trail.text))


def test_patient_details_as_episode_are_422_and_stored_nowhere(api_server: servers.Server) -> None:
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        midwife = bearer(http, "midwife")
        for typed in PATIENT_DETAILS:
            answer = http.post("/api/v1/refusals", json=refusal(episode=typed), headers=midwife)
            assert answer.status_code == 422, (typed, answer.text)
            assert "episode" in answer.json()["message"]
        stored = everything_stored(http)
    for typed in PATIENT_DETAILS:
        assert typed not in stored
    assert "123456782" not in stored and "0612345678" not in stored


def test_a_server_token_groups_one_search_of_its_own_account(api_server: servers.Server) -> None:
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        midwife, staff, analyst = (
            bearer(http, u) for u in ("midwife", f"staff-{ERASMUS}", "analyst-zuidwest")
        )
        issued = http.post("/api/v1/episodes", headers=midwife)
        assert issued.status_code == 201, issued.text
        token = issued.json()["episode"]
        assert re.fullmatch(r"[0-9a-f]{32}", token)
        expires = datetime.fromisoformat(issued.json()["expires_at"])
        assert datetime.now(UTC) < expires <= datetime.now(UTC) + timedelta(hours=25)
        assert http.post("/api/v1/episodes", headers=midwife).json()["episode"] != token

        for reason in ("no_bed", "no_nurse"):
            body = refusal(episode=token, reason=reason)
            answer = http.post("/api/v1/refusals", json=body, headers=midwife)
            assert answer.status_code == 201, answer.text
            assert answer.json()["episode"] == token
        # another account cannot add to this search, nor can a token the server never issued
        for headers, episode in ((staff, token), (midwife, "0" * 32)):
            answer = http.post("/api/v1/refusals", json=refusal(episode=episode), headers=headers)
            assert answer.status_code == 422, answer.text
            assert "episode" in answer.json()["message"]

        stats = http.get("/api/v1/refusals/stats", params={"region": "zuidwest"}, headers=analyst)
        assert stats.status_code == 200, stats.text
        assert (stats.json()["total"], stats.json()["searches"]) == (2, 1)
        export = http.get("/api/v1/refusals/export", params={"region": "zuidwest"}, headers=analyst)
        assert export.status_code == 200 and export.text.count(token) == 2


def test_an_expired_token_is_422(api_server: servers.Server) -> None:
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        midwife = bearer(http, "midwife")
        token = http.post("/api/v1/episodes", headers=midwife).json()["episode"]
        engine = create_engine(_sync_url(api_server.env["CAPACITY_DATABASE_URL"]))
        with engine.begin() as conn:
            past = datetime.now(UTC) - timedelta(minutes=1)
            expire = text("UPDATE episode SET expires_at = :t WHERE token = :e").bindparams(
                bindparam("t", type_=UTCDateTime())
            )
            conn.execute(expire, {"t": past, "e": token})
        engine.dispose()
        answer = http.post("/api/v1/refusals", json=refusal(episode=token), headers=midwife)
        assert answer.status_code == 422, answer.text
        assert "expired" in answer.json()["message"]
