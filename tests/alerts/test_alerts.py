"""Issue 13.7: subscriptions fire on the transition into their condition, once, and reach the
user in the app, by e-mail (a real SMTP server) and by signed webhook (a real receiver)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson

from capacity.alerts.models import AlertSubscription
from tests.alerts.receivers import Mailbox, WebhookReceiver
from tests.alerts.support import (
    ERASMUS,
    app_alerts,
    declare_stop,
    eventually,
    lift_stop,
    set_figures,
    subscribe,
)
from tests.conftest import Login

STAFF = f"staff-{ERASMUS}"


async def test_a_stop_reaches_the_app_the_mailbox_and_a_signed_webhook(
    app: Any,
    client: httpx.AsyncClient,
    login: Login,
    mailbox: Mailbox,
    webhook: WebhookReceiver,
) -> None:
    midwife = await login("midwife")
    rule = {"rule": "facility_stop", "facility_id": ERASMUS}
    await subscribe(client, midwife, **rule)
    await subscribe(client, midwife, **rule, channel="email", target="dienst@example.org")
    hook = await subscribe(client, midwife, **rule, channel="webhook", target=webhook.url)
    assert len(hook["secret"]) == 64
    # the database holds no secret to sign with: a copy of it alone cannot forge an alert
    async with app.state.db.session() as session:
        stored = await session.get(AlertSubscription, hook["id"])
    assert stored is not None and stored.secret and stored.secret != hook["secret"]

    await asyncio.sleep(1.2)  # every watcher has seen the subscriptions
    await declare_stop(client, await login(STAFF), "beds")

    await eventually(lambda: len(mailbox.messages) == 1 and len(webhook.received) == 1)
    mail = mailbox.messages[0]
    assert mail["To"] == "dienst@example.org"
    assert "Erasmus" in mail["Subject"] and "heeft een stop" in mail["Subject"]
    assert "is on stop" in mail.get_payload()
    sent = webhook.received[0]
    assert sent.signed_by(hook["secret"])
    assert not sent.signed_by("another secret")
    body = orjson.loads(sent.body)
    assert body["rule"] == "facility_stop" and body["facility_id"] == ERASMUS
    assert str(body["timestamp"]) == sent.headers["x-capacity-timestamp"]
    assert body["facts"]["reason"] == "beds"

    inbox = await app_alerts(client, midwife)
    assert [a["rule"] for a in inbox] == ["facility_stop"]
    assert "Erasmus" in inbox[0]["payload"]["text"]["nl"]
    read = await client.post(f"/api/v1/alerts/{inbox[0]['id']}/read", headers=midwife)
    assert read.status_code == 200 and read.json()["read_at"]
    unread = await client.get("/api/v1/alerts", params={"unread": True}, headers=midwife)
    assert unread.json() == []
    # Not another user's alert to mark
    other = await client.post(f"/api/v1/alerts/{inbox[0]['id']}/read", headers=await login(STAFF))
    assert other.status_code == 404


async def test_an_alert_fires_again_only_after_its_condition_cleared(
    client: httpx.AsyncClient, login: Login
) -> None:
    midwife, staff = await login("midwife"), await login(STAFF)
    await subscribe(client, midwife, rule="facility_stop", facility_id=ERASMUS)
    await asyncio.sleep(1.2)

    await declare_stop(client, staff, "beds")
    await eventually(lambda: _count(client, midwife, 1))
    await declare_stop(client, staff, "staff")  # still on stop: no new alert
    await set_figures(client, staff, "delivery_room", 2)
    await asyncio.sleep(1.0)
    assert len(await app_alerts(client, midwife)) == 1

    await lift_stop(client, staff)
    await declare_stop(client, staff, "other")
    await eventually(lambda: _count(client, midwife, 2))
    await asyncio.sleep(0.5)
    assert len(await app_alerts(client, midwife)) == 2


async def test_free_nicu_cots_dropping_below_k_alert_once_per_drop(
    client: httpx.AsyncClient, login: Login
) -> None:
    midwife, staff = await login("midwife"), await login(STAFF)
    # No NICU figure yet: 0 free already when subscribing, which is no transition (no alert)
    await subscribe(
        client, midwife, rule="region_free_below", region="zuidwest", category="nicu", threshold=2
    )
    await asyncio.sleep(1.2)
    await set_figures(client, staff, "nicu", 3)
    await asyncio.sleep(0.5)
    assert await app_alerts(client, midwife) == []

    await set_figures(client, staff, "nicu", 1)
    await eventually(lambda: _count(client, midwife, 1))
    await set_figures(client, staff, "nicu", 0)  # still below 2
    await asyncio.sleep(0.8)
    [alert] = await app_alerts(client, midwife)
    assert alert["payload"]["facts"] == {"free": 1}
    assert "1 vrij nicu (onder 2)" in alert["payload"]["text"]["nl"]

    await set_figures(client, staff, "nicu", 4)
    await set_figures(client, staff, "nicu", 0)
    await eventually(lambda: _count(client, midwife, 2))


async def test_a_failing_webhook_is_retried_then_listed_as_dead_letter_for_admins(
    client: httpx.AsyncClient, login: Login, webhook: WebhookReceiver
) -> None:
    webhook.status = 500
    midwife, admin = await login("midwife"), await login("admin")
    hook = await subscribe(
        client,
        midwife,
        rule="facility_stop",
        facility_id=ERASMUS,
        channel="webhook",
        target=webhook.url,
    )
    await asyncio.sleep(1.2)
    await declare_stop(client, await login(STAFF), "beds")

    async def dead() -> bool:
        answer = await client.get("/api/v1/alerts/dead-letters", headers=admin)
        return answer.status_code == 200 and len(answer.json()) == 1

    await eventually(dead)
    assert len(webhook.received) == 3  # the three attempts, each signed
    assert all(r.signed_by(hook["secret"]) for r in webhook.received)
    [letter] = (await client.get("/api/v1/alerts/dead-letters", headers=admin)).json()
    assert letter["attempts"] == 3 and letter["last_error"] == "HTTP 500"
    assert (await client.get("/api/v1/alerts/dead-letters", headers=midwife)).status_code == 403

    webhook.status = 200
    retried = await client.post(f"/api/v1/alerts/dead-letters/{letter['id']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    await eventually(lambda: len(webhook.received) == 4)
    await eventually(lambda: _no_dead(client, admin))
    again = await client.post(f"/api/v1/alerts/dead-letters/{letter['id']}/retry", headers=admin)
    assert again.status_code == 422


async def _count(client: httpx.AsyncClient, headers: dict[str, str], n: int) -> bool:
    return len(await app_alerts(client, headers)) == n


async def _no_dead(client: httpx.AsyncClient, admin: dict[str, str]) -> bool:
    return (await client.get("/api/v1/alerts/dead-letters", headers=admin)).json() == []
