"""Issue 13.7: two server processes both follow the region's stream and both see the same stop;
the subscriber's webhook gets exactly one delivery per transition, none while the stop holds,
and one again after it was lifted and declared anew. Concurrent stops from clients on both
processes deliver exactly one alert per transition recorded."""

from __future__ import annotations

import asyncio

import httpx
import orjson
from sqlalchemy import Engine

from tests.alerts.receivers import WebhookReceiver
from tests.alerts.support import ERASMUS, declare_stop, eventually, lift_stop, subscribe
from tests.concurrency.conftest import Launch
from tests.concurrency.support import bearer, token
from tests.faults.support import rows

ALERTS = {"alert_webhook_loopback_http": "true", "alert_drain_seconds": "0.3"}


async def test_two_processes_seeing_one_stop_deliver_one_alert_per_transition(
    launch: Launch, engine: Engine
) -> None:
    servers = launch(2, **ALERTS)
    with WebhookReceiver() as hook:
        async with (
            httpx.AsyncClient(base_url=servers[0].url) as one,
            httpx.AsyncClient(base_url=servers[1].url) as two,
        ):
            midwife = bearer(await token(one, "midwife"))
            staff = bearer(await token(two, f"staff-{ERASMUS}"))
            sub = await subscribe(
                one,
                midwife,
                rule="facility_stop",
                facility_id=ERASMUS,
                channel="webhook",
                target=hook.url,
            )
            await asyncio.sleep(1.5)  # both processes have loaded the subscription

            await declare_stop(two, staff, "beds")
            await eventually(lambda: len(hook.received) == 1)
            await declare_stop(one, staff, "staff")  # still on stop, from the other process
            await asyncio.sleep(2.0)
            assert len(hook.received) == 1

            await lift_stop(one, staff)
            await declare_stop(two, staff, "other")
            await eventually(lambda: len(hook.received) == 2)
            await asyncio.sleep(2.0)
            assert len(hook.received) == 2
            assert all(r.signed_by(sub["secret"]) for r in hook.received)
            seqs = [orjson.loads(r.body)["seq"] for r in hook.received]
            assert len(set(seqs)) == 2
    stored = rows(engine, "SELECT status FROM alert WHERE subscription_id = :s", s=sub["id"])
    assert [r.status for r in stored] == ["sent", "sent"]


async def test_concurrent_stops_from_both_processes_alert_once_per_transition(
    launch: Launch, engine: Engine
) -> None:
    servers = launch(2, **ALERTS)
    with WebhookReceiver() as hook:
        clients = [httpx.AsyncClient(base_url=s.url) for s in servers]
        try:
            midwife = bearer(await token(clients[0], "midwife"))
            staff = bearer(await token(clients[1], f"staff-{ERASMUS}"))
            sub = await subscribe(
                clients[0],
                midwife,
                rule="facility_stop",
                facility_id=ERASMUS,
                channel="webhook",
                target=hook.url,
            )
            await asyncio.sleep(1.5)
            for round_ in range(5):  # both processes declare at once, then the stop is lifted
                await asyncio.gather(
                    *(
                        declare_stop(c, staff, reason)
                        for c in clients
                        for reason in ("beds", "staff")
                    )
                )
                await eventually(lambda n=round_ + 1: len(hook.received) == n)
                await lift_stop(clients[round_ % 2], staff)
                await asyncio.sleep(0.3)
            await asyncio.sleep(2.0)
            assert len(hook.received) == 5
        finally:
            for c in clients:
                await c.aclose()
    stored = rows(engine, "SELECT event_key FROM alert WHERE subscription_id = :s", s=sub["id"])
    assert len(stored) == 5
