"""Issue 13.7, "a transfer request for my ward": the ward's staff subscribe, and every offer made
to their ward reaches them (in the app, at a signed webhook) with closed-list facts only."""

from __future__ import annotations

import httpx
import orjson

from tests.alerts.receivers import WebhookReceiver
from tests.alerts.support import ERASMUS, IKAZIA, app_alerts, eventually, subscribe
from tests.conftest import Login

STAFF = f"staff-{ERASMUS}"
RULE = {"rule": "transfer_request", "facility_id": ERASMUS}


def request_to(*wards: str) -> dict[str, object]:
    return {
        "category": "delivery_room",
        "request_type": "medical",
        "ga_band": "28-31",
        "urgency": "sub_acute",
        "city": "Rotterdam",
        "facilities": list(wards),
    }


async def test_an_offer_to_my_ward_reaches_the_app_and_a_signed_webhook(
    client: httpx.AsyncClient, login: Login, webhook: WebhookReceiver
) -> None:
    staff = await login(STAFF)
    await subscribe(client, staff, **RULE)
    hook = await subscribe(client, staff, **RULE, channel="webhook", target=webhook.url)
    midwife = await login("midwife")

    elsewhere = await client.post("/api/v1/transfers", json=request_to(IKAZIA), headers=midwife)
    assert elsewhere.status_code == 201, elsewhere.text
    made = await client.post("/api/v1/transfers", json=request_to(IKAZIA, ERASMUS), headers=midwife)
    assert made.status_code == 201, made.text
    offer = next(o for o in made.json()["offers"] if o["facility_id"] == ERASMUS)

    await eventually(lambda: len(webhook.received) == 1)
    sent = webhook.received[0]
    assert sent.signed_by(hook["secret"])
    body = orjson.loads(sent.body)
    assert body["rule"] == "transfer_request" and body["offer_id"] == offer["id"]
    assert (body["facility_id"], body["category"], body["urgency"]) == (
        ERASMUS,
        "delivery_room",
        "sub_acute",
    )
    # what the ward needs to answer, and nothing about where she is or who she is
    assert "city" not in body and "lat" not in body and "origin_city" not in body
    assert "overplaatsingsverzoek" in body["text"]["nl"]

    inbox = await app_alerts(client, staff)
    assert [(a["rule"], a["payload"]["offer_id"]) for a in inbox] == [
        ("transfer_request", offer["id"])
    ]  # one alert for the one offer to her ward; the request to Ikazia alone told her nothing


async def test_only_the_wards_own_staff_and_admins_subscribe_to_its_requests(
    client: httpx.AsyncClient, login: Login
) -> None:
    for user, status in (("midwife", 403), (f"staff-{IKAZIA}", 403), ("admin", 201), (STAFF, 201)):
        answer = await client.post(
            "/api/v1/alerts/subscriptions", json=RULE, headers=await login(user)
        )
        assert answer.status_code == status, (user, answer.text)
    refused = await client.post(
        "/api/v1/alerts/subscriptions",
        json=RULE,
        headers={**await login("midwife"), "Accept-Language": "nl"},
    )
    assert "alleen medewerkers" in refused.text
