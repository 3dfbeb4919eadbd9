"""Issue 13.7: who may subscribe to what, on which channel; own subscriptions, admins all."""

from __future__ import annotations

import httpx
from sqlmodel import select

from capacity.audit.models import AuditEvent
from tests.alerts.support import ERASMUS, subscribe
from tests.conftest import Login

URL = "/api/v1/alerts/subscriptions"


async def _refused(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, object]
) -> httpx.Response:
    answer = await client.post(URL, json=body, headers=headers)
    assert answer.status_code >= 400, answer.text
    return answer


async def test_bad_subscriptions_are_refused_naming_the_field(
    client: httpx.AsyncClient, login: Login
) -> None:
    midwife = await login("midwife")
    stop = {"rule": "facility_stop", "facility_id": ERASMUS}
    cases = [
        ({**stop, "channel": "webhook", "target": "http://example.org/hook"}, "target"),
        ({**stop, "channel": "webhook", "target": "http://10.0.0.1/hook"}, "target"),
        ({**stop, "channel": "webhook"}, "target"),
        ({**stop, "channel": "email", "target": "not an address"}, "target"),
        ({**stop, "target": "dienst@example.org"}, "target"),
        ({"rule": "facility_stop"}, "facility_id"),
        ({"rule": "region_free_below", "region": "zuidwest"}, "category"),
        ({"rule": "region_free_below", "category": "nicu"}, "region"),
        (
            {"rule": "region_free_below", "region": "zuidwest", "category": "nicu", "threshold": 0},
            "threshold",
        ),
        ({"rule": "facility_gone", "facility_id": ERASMUS}, "rule"),
    ]
    for body, field in cases:
        answer = await _refused(client, midwife, body)
        assert answer.status_code == 422, (body, answer.text)
        assert field in answer.text, (body, answer.text)
    unknown = await _refused(client, midwife, {"rule": "facility_stop", "facility_id": "nope"})
    assert unknown.status_code == 404
    dutch = await client.post(
        URL,
        json={**stop, "channel": "webhook", "target": "ftp://x"},
        headers={**midwife, "Accept-Language": "nl"},
    )
    assert "https://-adres" in dutch.text
    assert (await client.get(URL, headers=midwife)).json() == []


async def test_analysts_subscribe_only_in_their_region_and_keys_not_at_all(
    client: httpx.AsyncClient, login: Login
) -> None:
    noord = await login("analyst-noord")
    answer = await _refused(client, noord, {"rule": "facility_stop", "facility_id": ERASMUS})
    assert answer.status_code == 403
    key = await client.post(
        f"/api/v1/facilities/{ERASMUS}/keys", json={}, headers=await login("admin")
    )
    assert key.status_code == 201, key.text
    by_key = await _refused(
        client, {"X-API-Key": key.json()["key"]}, {"rule": "facility_stop", "facility_id": ERASMUS}
    )
    assert by_key.status_code == 403


async def test_users_see_and_delete_their_own_subscriptions_admins_everyones(
    client: httpx.AsyncClient,
    login: Login,
    app,  # type: ignore[no-untyped-def]
) -> None:
    midwife, staff, admin = (
        await login("midwife"),
        await login(f"staff-{ERASMUS}"),
        await login("admin"),
    )
    mine = await subscribe(client, midwife, rule="facility_stale", facility_id=ERASMUS)
    theirs = await subscribe(
        client,
        staff,
        rule="overdue",
        facility_id=ERASMUS,
        channel="email",
        target="verloskunde@example.org",
    )
    assert mine["secret"] is None and mine["region"] == "zuidwest"
    assert [s["id"] for s in (await client.get(URL, headers=midwife)).json()] == [mine["id"]]
    assert [s["id"] for s in (await client.get(URL, headers=admin)).json()] == [
        mine["id"],
        theirs["id"],
    ]
    assert (await client.delete(f"{URL}/{theirs['id']}", headers=midwife)).status_code == 404
    assert (await client.delete(f"{URL}/{mine['id']}", headers=midwife)).status_code == 204
    assert (await client.delete(f"{URL}/{mine['id']}", headers=midwife)).status_code == 404
    assert (await client.delete(f"{URL}/{theirs['id']}", headers=admin)).status_code == 204
    assert (await client.get(URL, headers=admin)).json() == []
    async with app.state.db.session() as session:
        actions = (
            await session.exec(
                select(AuditEvent.action).where(AuditEvent.entity == "alert_subscription")
            )
        ).all()
    assert sorted(actions) == ["alert_subscription.create"] * 2 + ["alert_subscription.delete"] * 2


async def test_a_target_that_is_no_address_is_explained_in_words_not_a_pattern(
    client: httpx.AsyncClient, login: Login
) -> None:
    body = {"rule": "facility_stop", "facility_id": ERASMUS, "channel": "webhook"}
    for lang, words in (("nl", "een e-mailadres, of een webadres"), ("en", "an e-mail address")):
        answer = await client.post(
            "/api/v1/alerts/subscriptions",
            json={**body, "target": "Bel mevrouw op 0612345678"},
            headers={**await login("midwife"), "Accept-Language": lang},
        )
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"] == ["body", "target"]
        assert words in answer.json()["message"] and "[A-Za-z" not in answer.text
