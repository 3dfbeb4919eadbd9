"""Issue 13.8: a facility without fresh figures is reminded once per overdue episode, and its
region's coordinators (analysts, admins) see it listed with since when. Also 13.7's stale rule."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from capacity.availability import jobs
from capacity.availability.state import utcnow
from tests.alerts.receivers import Mailbox
from tests.alerts.support import ERASMUS, app_alerts, eventually, set_figures, subscribe
from tests.conftest import Login


async def _run_jobs(app: FastAPI, hours: float) -> None:
    state = app.state
    await jobs.expire_due(
        db=state.db,
        store=state.store,
        settings=state.settings,
        now=utcnow() + timedelta(hours=hours),
    )


async def _overdue(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, str]]:
    answer = await client.get("/api/v1/regions/zuidwest/overdue", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def test_overdue_facility_is_reminded_once_per_episode_and_listed_for_coordinators(
    app: FastAPI, client: httpx.AsyncClient, login: Login, mailbox: Mailbox
) -> None:
    staff, midwife = await login(f"staff-{ERASMUS}"), await login("midwife")
    analyst = await login("analyst-zuidwest")
    await subscribe(
        client,
        staff,
        rule="overdue",
        facility_id=ERASMUS,
        channel="email",
        target="verloskunde@example.org",
    )
    await subscribe(client, midwife, rule="facility_stale", facility_id=ERASMUS)
    await set_figures(client, staff, "delivery_room", 2)
    await _run_jobs(app, 0)
    assert ERASMUS not in [o["facility_id"] for o in await _overdue(client, analyst)]

    await _run_jobs(app, 5)  # past the 4 h freshness limit: stale, and overdue from now on
    await eventually(lambda: len(mailbox.messages) == 1)
    reminder = mailbox.messages[0]
    assert reminder["To"] == "verloskunde@example.org"
    assert "geen actuele cijfers" in reminder["Subject"]
    listed = {o["facility_id"]: o["since"] for o in await _overdue(client, analyst)}
    assert ERASMUS in listed
    await eventually(lambda: _stale_alerts(client, midwife))

    await _run_jobs(app, 6)  # the same episode: no second reminder
    await _run_jobs(app, 7)
    await eventually(lambda: _drained(app))
    assert len(mailbox.messages) == 1
    assert {o["facility_id"]: o["since"] for o in await _overdue(client, analyst)} == listed

    await set_figures(client, staff, "delivery_room", 3)  # reports again: the episode ends
    await _run_jobs(app, 0)
    assert ERASMUS not in [o["facility_id"] for o in await _overdue(client, analyst)]
    await _run_jobs(app, 5)  # a new episode: a new reminder
    await eventually(lambda: len(mailbox.messages) == 2)

    assert (
        await client.get("/api/v1/regions/zuidwest/overdue", headers=midwife)
    ).status_code == 403
    noord = await login("analyst-noord")
    assert (await client.get("/api/v1/regions/zuidwest/overdue", headers=noord)).status_code == 403
    admin = await login("admin")
    assert (await client.get("/api/v1/regions/nope/overdue", headers=admin)).status_code == 404
    assert ERASMUS in [o["facility_id"] for o in await _overdue(client, admin)]


async def _stale_alerts(client: httpx.AsyncClient, midwife: dict[str, str]) -> bool:
    alerts = await app_alerts(client, midwife)
    return [a["rule"] for a in alerts] == ["facility_stale"]


async def _drained(app: FastAPI) -> bool:
    from sqlmodel import select

    from capacity.alerts.models import Alert, DeliveryStatus

    async with app.state.db.session() as session:
        pending = select(Alert).where(Alert.status == DeliveryStatus.pending)
        return not (await session.exec(pending)).all()
