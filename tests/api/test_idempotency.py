"""A retried write with the same Idempotency-Key gets the first answer, not a second change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import audit_actions, history_rows
from tests.conftest import ERASMUS

CAPACITY = f"/api/v1/facilities/{ERASMUS}/capacity"


def figures(available: int) -> dict[str, Any]:
    return {"categories": {"nicu": {"available": available, "staffed": 20}}}


async def test_a_retry_with_the_same_key_gets_the_first_answer_and_changes_nothing(
    client, login, app
):  # type: ignore[no-untyped-def]
    staff = {**await login(f"staff-{ERASMUS}"), "Idempotency-Key": "push-2026-12-05T04:00:00Z"}
    first = await client.put(CAPACITY, json=figures(3), headers=staff)
    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    changes, audits = await history_rows(app.state.db), len(await audit_actions(app.state.db))
    again = await client.put(CAPACITY, json=figures(3), headers=staff)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == first.content  # the same version, the same updated_at
    assert again.headers["ETag"] == first.headers["ETag"]
    assert await history_rows(app.state.db) == changes
    assert len(await audit_actions(app.state.db)) == audits
    # Without the key (or with a new one) the same figures are a new confirmation.
    fresh = await client.put(CAPACITY, json=figures(3), headers={**staff, "Idempotency-Key": "2"})
    assert fresh.json()["version"] == first.json()["version"] + 1


async def test_the_same_key_with_another_body_is_422_naming_the_header(client, login, app):  # type: ignore[no-untyped-def]
    staff = {**await login(f"staff-{ERASMUS}"), "Idempotency-Key": "k-1"}
    assert (await client.put(CAPACITY, json=figures(3), headers=staff)).status_code == 200
    changes = await history_rows(app.state.db)
    other = await client.put(CAPACITY, json=figures(4), headers=staff)
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert other.json()["message"].startswith("Idempotency-Key:")
    stop = await client.put(
        f"/api/v1/facilities/{ERASMUS}/stop", json={"reason": "beds"}, headers=staff
    )
    assert stop.status_code == 422  # another path is another request too
    assert await history_rows(app.state.db) == changes


async def test_keys_are_per_caller(client, login, app):  # type: ignore[no-untyped-def]
    key = {"Idempotency-Key": "shared-name"}
    staff = {**await login(f"staff-{ERASMUS}"), **key}
    admin = {**await login("admin"), **key}
    first = await client.put(CAPACITY, json=figures(3), headers=staff)
    second = await client.put(CAPACITY, json=figures(3), headers=admin)
    assert "idempotent-replayed" not in second.headers
    assert second.json()["version"] == first.json()["version"] + 1


@pytest.mark.parametrize("bad", ["", "with space", "x" * 256, "é"])
async def test_a_malformed_key_is_422_and_changes_nothing(client, login, app, bad):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    changes = await history_rows(app.state.db)
    response = await client.put(
        CAPACITY,
        json=figures(3),
        headers={**staff, "Idempotency-Key": bad.encode()},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert await history_rows(app.state.db) == changes


async def test_an_answer_refusing_bad_input_is_kept_for_the_retry(client, login):  # type: ignore[no-untyped-def]
    """A 4xx of bad input is the answer for good: the retry gets it again."""
    staff = {**await login(f"staff-{ERASMUS}"), "Idempotency-Key": "bad-then-bad"}
    bad = {"categories": {"nicu": {"available": 30, "staffed": 20}}}
    first = await client.put(CAPACITY, json=bad, headers=staff)
    assert first.status_code == 422
    again = await client.put(CAPACITY, json=bad, headers=staff)
    assert again.status_code == 422 and again.headers["Idempotent-Replayed"] == "true"


async def test_every_write_route_takes_the_key(client, login, app):  # type: ignore[no-untyped-def]
    """Not only figures: a stop declared twice with one key is declared once (one audit row)."""
    staff = {**await login(f"staff-{ERASMUS}"), "Idempotency-Key": "stop-1"}
    stop = f"/api/v1/facilities/{ERASMUS}/stop"
    first = await client.put(stop, json={"reason": "staff"}, headers=staff)
    audits = len(await audit_actions(app.state.db))
    again = await client.put(stop, json={"reason": "staff"}, headers=staff)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(await audit_actions(app.state.db)) == audits
    admin = {**await login("admin"), "Idempotency-Key": "user-1"}
    account = {"username": "nieuw", "password": "lang-genoeg-1", "role": "midwife"}
    made = await client.post("/api/v1/users", json=account, headers=admin)
    assert made.status_code == 201, made.text
    twice = await client.post("/api/v1/users", json=account, headers=admin)
    assert twice.status_code == 201 and twice.headers["Idempotent-Replayed"] == "true"


async def test_a_5xx_is_never_replayed_the_retry_runs_afresh(client, login, app, monkeypatch):  # type: ignore[no-untyped-def]
    """The database refused the first attempt (503, nothing changed): the retry makes the change."""
    from capacity.availability import service
    from capacity.errors import Unavailable
    from capacity.i18n import messages

    real = service.update_capacity
    attempts = []

    async def refused_once(**kwargs: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise Unavailable(messages.DATABASE_REFUSED())
        return await real(**kwargs)

    monkeypatch.setattr(service, "update_capacity", refused_once)
    staff = {**await login(f"staff-{ERASMUS}"), "Idempotency-Key": "after-503"}
    changes = await history_rows(app.state.db)
    first = await client.put(CAPACITY, json=figures(5), headers=staff)
    assert first.status_code == 503
    assert await history_rows(app.state.db) == changes
    retry = await client.put(CAPACITY, json=figures(5), headers=staff)
    assert retry.status_code == 200 and "idempotent-replayed" not in retry.headers
    assert await history_rows(app.state.db) == changes + 1
    third = await client.put(CAPACITY, json=figures(5), headers=staff)
    assert third.headers["Idempotent-Replayed"] == "true" and third.content == retry.content
    assert len(attempts) == 2
