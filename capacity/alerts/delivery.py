"""Draining the outbox: each pending alert goes out on its channel, failures wait and retry.

One process drains at a time (the Redis job lock). An attempt's outcome is written to the
alert's row right after it, so a restart neither loses an alert nor repeats a delivered one
(only an attempt cut off between sending and writing its outcome can go out twice).

Webhooks: ``POST`` of the JSON body with ``X-Capacity-Signature: sha256=<hex>``, the
HMAC-SHA256 of the exact body bytes under the subscription's secret, and
``X-Capacity-Timestamp`` (POSIX seconds), which the signed body repeats as ``timestamp`` so a
receiver can refuse replays.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

import httpx
import orjson
import redis.asyncio as aioredis
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from capacity.alerts.models import (
    Alert,
    AlertPublic,
    AlertSubscription,
    Channel,
    DeliveryStatus,
)
from capacity.alerts.service import utcnow
from capacity.errors import Unavailable
from capacity.settings import Settings
from capacity.storage import keys
from capacity.storage.db import Database
from capacity.storage.locks import job_lock
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

BATCH = 100
PARALLEL = 10
WEBHOOK_TIMEOUT = 5.0
JOB = "alerts"


def webhook_secret(settings: Settings, salt: str) -> str:
    """A webhook's signing secret: derived from the app's secret key and the subscription's
    random salt (the only part stored), so a copy of the database alone cannot forge alerts.
    Changing ``CAPACITY_SECRET_KEY`` changes every webhook secret (subscribe again)."""
    key = settings.resolved_secret_key.encode()
    return hmac.new(key, b"alert-webhook:" + salt.encode(), hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes) -> str:
    """The ``X-Capacity-Signature`` value of a webhook body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def message_body(alert: Alert, timestamp: int) -> bytes:
    return orjson.dumps(
        {"id": alert.id, "rule": alert.rule.value, "timestamp": timestamp, **alert.payload}
    )


async def _webhook(alert: Alert, sub: AlertSubscription, settings: Settings) -> None:
    timestamp = int(utcnow().timestamp())
    body = message_body(alert, timestamp)
    headers = {
        "Content-Type": "application/json",
        "X-Capacity-Timestamp": str(timestamp),
        "X-Capacity-Signature": sign(webhook_secret(settings, sub.secret or ""), body),
    }
    async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT, follow_redirects=False) as http:
        answer = await http.post(sub.target or "", content=body, headers=headers)
    if not answer.is_success:
        raise OSError(f"HTTP {answer.status_code}")


def _email(alert: Alert, sub: AlertSubscription, settings: Settings) -> None:
    text = alert.payload.get("text", {})
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = sub.target or ""
    mail["Subject"] = f"{text.get('nl', '')} / {text.get('en', '')}"
    mail.set_content(f"{text.get('nl', '')}\n\n{text.get('en', '')}\n")
    with smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(mail)


def _as_listed(alert: Alert) -> bytes:
    """An in-app alert as ``GET /api/v1/alerts`` lists it once sent (``/ws/alerts`` forwards it)."""
    public = AlertPublic.model_validate(alert, from_attributes=True)
    sent = {"status": DeliveryStatus.sent, "attempts": alert.attempts + 1, "sent_at": utcnow()}
    return orjson.dumps(public.model_copy(update=sent).model_dump(mode="json"))


async def _send(
    alert: Alert, sub: AlertSubscription, redis: aioredis.Redis, settings: Settings
) -> str | None:
    """Deliver once; the error to record, or None when it went out."""
    try:
        if alert.channel is Channel.app:
            # As /ws/alerts sends it: the process's shared subscription forwards it unchanged.
            message = b'{"type":"alert","alert":' + _as_listed(alert) + b"}"
            await redis.publish(keys.alert_user_channel(alert.user_id), message)
        elif alert.channel is Channel.email:
            await asyncio.to_thread(_email, alert, sub, settings)
        else:
            await _webhook(alert, sub, settings)
    except (OSError, httpx.HTTPError, smtplib.SMTPException, *REDIS_DOWN) as exc:
        return (str(exc) or type(exc).__name__)[:300]
    return None


async def _record(*, db: Database, alert: Alert, error: str | None, settings: Settings) -> None:
    now = utcnow()
    async with db.unit_of_work() as uow:
        row = await uow.session.get(Alert, alert.id, with_for_update=True)
        if row is None or row.status is not DeliveryStatus.pending:
            return  # dropped meanwhile (its subscription was deleted)
        row.attempts += 1
        if error is None:
            row.status, row.sent_at, row.last_error = DeliveryStatus.sent, now, None
        else:
            row.last_error = error
            if row.attempts >= settings.alert_attempts:
                row.status = DeliveryStatus.dead
                log.warning("alert %s is a dead letter after %d attempts", row.id, row.attempts)
            else:
                wait = settings.alert_retry_seconds * 4 ** (row.attempts - 1)
                row.next_attempt_at = now + timedelta(seconds=wait)
        uow.session.add(row)


async def drain(*, db: Database, redis: aioredis.Redis, settings: Settings) -> int:
    """Attempt every alert that is due; returns how many were attempted."""
    async with db.session() as session:
        due = select(Alert).where(
            Alert.status == DeliveryStatus.pending, col(Alert.next_attempt_at) <= utcnow()
        )
        alerts = list((await session.exec(due.order_by(col(Alert.id)).limit(BATCH))).all())
        ids = {a.subscription_id for a in alerts}
        subs_query = select(AlertSubscription).where(col(AlertSubscription.id).in_(ids))
        subs = {s.id: s for s in (await session.exec(subs_query)).all()}
    gate = asyncio.Semaphore(PARALLEL)

    async def one(alert: Alert) -> None:
        async with gate:
            error = await _send(alert, subs[alert.subscription_id], redis, settings)
            await _record(db=db, alert=alert, error=error, settings=settings)

    await asyncio.gather(*(one(a) for a in alerts))
    return len(alerts)


async def run_locked(*, db: Database, redis: aioredis.Redis, settings: Settings) -> int | None:
    """Drain if this process takes the lock; None if another process is draining."""
    try:
        async with job_lock(redis, JOB, seconds=10) as held:
            if not held:
                return None
            total = 0
            while attempted := await drain(db=db, redis=redis, settings=settings):
                total += attempted
                if attempted < BATCH:
                    break
            return total
    except (SQLAlchemyError, Unavailable, *REDIS_DOWN) as exc:
        log.warning("alert delivery run skipped: %s", exc)
        return None
