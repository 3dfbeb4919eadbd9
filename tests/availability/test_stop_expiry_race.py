"""A stop extended while an expiry run is under way stays in force (issue 10, defect 4).

The run lists the stops whose ``until`` has passed and then ends them one by one; a facility
that extends its stop in between must keep it: ending it is then the wrong answer, since its
``until`` lies ahead again. The extension is made exactly between the listing and the ending
by wrapping the listing (the real one runs), so the interleaving is certain, not a matter of
timing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from capacity.availability import jobs, service
from capacity.availability.models import Stop
from tests.api.support import entry, picture
from tests.conftest import ERASMUS


async def test_a_stop_extended_after_the_expiry_run_listed_it_stays_in_force(
    client, login, app, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    path = f"/api/v1/facilities/{ERASMUS}/stop"
    first = datetime.now(UTC) + timedelta(minutes=10)
    declared = await client.put(
        path, json={"reason": "beds", "until": first.isoformat()}, headers=staff
    )
    assert declared.status_code == 200, declared.text
    extended = datetime.now(UTC) + timedelta(hours=2)
    listed: list[Any] = []
    listing = service.due_for_expiry

    async def listing_then_extension(**kwargs: Any) -> Any:
        due = await listing(**kwargs)
        listed.append(due)
        body = {"reason": "beds", "until": extended.isoformat()}
        response = await client.put(path, json=body, headers=staff)
        assert response.status_code == 200, response.text
        return due

    monkeypatch.setattr(service, "due_for_expiry", listing_then_extension)
    run_clock = first + timedelta(minutes=1)  # the run's now: past the first until only
    state = {"db": app.state.db, "store": app.state.store, "settings": app.state.settings}
    await jobs.expire_due(**state, now=run_clock)
    assert listed and ERASMUS in listed[0][1], f"the run did not list the stop as due: {listed}"
    shown = entry(await picture(client, staff), ERASMUS)["stop"]
    assert shown is not None, "the extended stop was ended by the expiry run"
    assert datetime.fromisoformat(shown["until"]) == extended
    async with app.state.db.session() as session:
        query = select(Stop).where(Stop.facility_id == ERASMUS, col(Stop.ended_at).is_(None))
        in_force = (await session.exec(query)).all()
    assert [s.until for s in in_force] == [extended]
