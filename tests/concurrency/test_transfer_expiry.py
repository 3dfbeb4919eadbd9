"""A deadline that passes while no server runs is kept after the restart: state lives in SQL.

One server process takes the request and is stopped; the deadline passes (moved back in SQL,
as waiting five minutes would); a new process's scheduler expires the offers as "no answer in
time" (a refusal record each) and the request ends ``exhausted``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, text

from tests.concurrency.conftest import Launch
from tests.faults.support import rows
from tests.transfers.support import ERASMUS, FRANCISCUS, request


def test_offers_past_their_deadline_expire_after_a_restart(launch: Launch, engine: Engine) -> None:
    (first,) = launch(1)
    login = {"username": "midwife", "password": "demo"}
    tok = httpx.post(first.url + "/api/v1/auth/token", data=login).json()["access_token"]
    body = request(facilities=[ERASMUS, FRANCISCUS])
    made = httpx.post(
        first.url + "/api/v1/transfers", json=body, headers={"Authorization": f"Bearer {tok}"}
    )
    assert made.status_code == 201, made.text
    first.stop()
    with engine.begin() as conn:
        past = datetime.now(UTC) - timedelta(seconds=1)
        conn.execute(text("UPDATE transfer_offer SET deadline_at = :t"), {"t": past})
    launch(1, scheduler="true", transfer_expiry_interval_seconds="1")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        (state,) = rows(engine, "SELECT status FROM transfer_request")
        if state.status == "exhausted":
            break
        time.sleep(0.2)
    assert state.status == "exhausted"
    offers = rows(engine, "SELECT status, reason FROM transfer_offer")
    assert {(o.status, o.reason) for o in offers} == {("expired", "no_answer")}
    records = rows(engine, "SELECT facility_id, reason FROM refusal ORDER BY facility_id")
    assert [(r.facility_id, r.reason) for r in records] == [
        (ERASMUS, "no_answer"),
        (FRANCISCUS, "no_answer"),
    ]
