"""Who set each figure last, and when it turns stale: shown per category on the ward's screen.

The facility's ``updated_by`` names only the last change of any kind; a nurse looking at the
delivery room wants to know who set *that* figure, also after the hospital system pushed NICU
figures, after the scheduler marked it stale, and after the picture was rebuilt from SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from capacity.availability import jobs
from tests.api.support import entry, picture, put_figures
from tests.conftest import ERASMUS


def state(app):  # type: ignore[no-untyped-def]
    return {"db": app.state.db, "store": app.state.store, "settings": app.state.settings}


async def test_each_category_names_who_set_it_and_when_it_turns_stale(client, login, app):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    room = {"delivery_room": {"available": 2, "staffed": 6}}
    assert (await put_figures(client, ERASMUS, room, staff)).status_code == 200
    made = await client.post(
        f"/api/v1/facilities/{ERASMUS}/keys", json={"label": "HiX"}, headers=await login("admin")
    )
    key = {"X-API-Key": made.json()["key"]}
    nicu = {"nicu": {"available": 1, "staffed": 8}}
    answer = (await put_figures(client, ERASMUS, nicu, key)).json()
    assert answer["updated_by"] == f"key:{ERASMUS}"
    cats = answer["categories"]
    assert cats["delivery_room"]["updated_by"] == f"staff-{ERASMUS}"
    assert cats["nicu"]["updated_by"] == f"key:{ERASMUS}"
    assert cats["nicu"]["updated_by_label"] == "HiX"  # which of the hospital's systems
    assert cats["delivery_room"]["updated_by_label"] is None
    limit = timedelta(minutes=app.state.settings.freshness_limit_minutes)
    for fig in cats.values():
        at = datetime.fromisoformat(fig["updated_at"])
        assert datetime.fromisoformat(fig["stale_at"]) == at + limit

    # The scheduler's stale mark is a change of the facility, not of who set the figures.
    await jobs.expire_due(**state(app), now=datetime.now(UTC) + limit + timedelta(minutes=1))
    midwife = await login("midwife")
    shown = entry(await picture(client, midwife), ERASMUS)
    assert shown["updated_by"] == "system"
    assert shown["categories"]["delivery_room"]["updated_by"] == f"staff-{ERASMUS}"
    assert shown["categories"]["nicu"]["updated_by"] == f"key:{ERASMUS}"
    assert shown["categories"]["nicu"]["updated_by_label"] == "HiX"

    await app.state.store.redis.flushall()  # rebuilt from SQL: the authors are still there
    rebuilt = entry(await picture(client, midwife), ERASMUS)["categories"]
    assert rebuilt["delivery_room"]["updated_by"] == f"staff-{ERASMUS}"
    assert rebuilt["nicu"]["updated_by"] == f"key:{ERASMUS}"
    assert rebuilt["nicu"]["updated_by_label"] == "HiX"
    assert rebuilt["delivery_room"]["updated_by_label"] is None
