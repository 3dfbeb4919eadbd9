"""Subscriptions, the user's alerts, the dead-letter list and firing an alert into the outbox."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.alerts.models import (
    Alert,
    AlertRule,
    AlertSubscription,
    Channel,
    DeliveryStatus,
    SubscriptionCreate,
)
from capacity.audit import service as audit
from capacity.auth.models import Principal, Role
from capacity.auth.service import may_read_region
from capacity.errors import Forbidden, InputError, NotFound
from capacity.facilities import service as facilities
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database

MAX_SUBSCRIPTIONS = 50
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
FACILITY_RULES = {
    AlertRule.facility_stop,
    AlertRule.facility_stale,
    AlertRule.overdue,
    AlertRule.transfer_request,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _check_target(sub_in: SubscriptionCreate, settings: Settings) -> None:
    target = sub_in.target
    if sub_in.channel is Channel.app:
        if target is not None:
            raise InputError("target", messages.ALERT_TARGET_FORBIDDEN())
    elif sub_in.channel is Channel.email:
        if target is None or not EMAIL.match(target):
            raise InputError("target", messages.ALERT_EMAIL_INVALID())
        if not settings.smtp_host:
            raise InputError("channel", messages.ALERT_EMAIL_OFF())
    else:
        url = urlsplit(target or "")
        loopback = settings.alert_webhook_loopback_http and url.hostname == "127.0.0.1"
        if not url.hostname or not (url.scheme == "https" or (url.scheme == "http" and loopback)):
            raise InputError("target", messages.ALERT_WEBHOOK_URL())


async def _scope(session: AsyncSession, principal: Principal, sub_in: SubscriptionCreate) -> str:
    """The region the subscription watches (checked readable by the caller)."""
    if sub_in.rule in FACILITY_RULES:
        if not sub_in.facility_id:
            raise InputError("facility_id", messages.ALERT_NEEDS_FACILITY(rule=sub_in.rule.value))
        facility = await facilities.get_facility(session=session, facility_id=sub_in.facility_id)
        if facility is None:
            raise NotFound(messages.UNKNOWN_FACILITY(facility=sub_in.facility_id))
        region = facility.region
        own = principal.role is Role.admin or principal.facility_id == facility.id
        if sub_in.rule is AlertRule.transfer_request and not own:
            # An offer is the ward's business: only its staff answer it (and admins watch).
            raise Forbidden(messages.ALERT_TRANSFER_NOT_YOURS(facility=facility.id))
    else:
        if not sub_in.region or sub_in.category is None:
            field = "region" if not sub_in.region else "category"
            raise InputError(field, messages.ALERT_NEEDS_REGION_CATEGORY(rule=sub_in.rule.value))
        if await facilities.get_region(session=session, region_id=sub_in.region) is None:
            raise NotFound(messages.UNKNOWN_REGION(region=sub_in.region))
        region = sub_in.region
    if not may_read_region(principal, region):
        raise Forbidden(messages.NO_REGION_ACCESS(region=region))
    return region


async def create_subscription(
    *, session: AsyncSession, principal: Principal, sub_in: SubscriptionCreate, settings: Settings
) -> AlertSubscription:
    """Subscribe the caller to a rule on a channel; a webhook gets its signing secret."""
    if principal.is_key:
        raise Forbidden(messages.API_KEY_ONLY_CAPACITY())
    _check_target(sub_in, settings)
    region = await _scope(session, principal, sub_in)
    owned = select(AlertSubscription.id).where(
        AlertSubscription.user_id == principal.id, col(AlertSubscription.deleted_at).is_(None)
    )
    if len((await session.exec(owned)).all()) >= MAX_SUBSCRIPTIONS:
        raise InputError("rule", messages.ALERT_TOO_MANY(max=MAX_SUBSCRIPTIONS))
    by_region = sub_in.rule is AlertRule.region_free_below
    sub = AlertSubscription(
        user_id=principal.id,
        rule=sub_in.rule,
        region=region,
        facility_id=None if by_region else sub_in.facility_id,
        category=sub_in.category if by_region else None,
        threshold=sub_in.threshold if by_region else None,
        channel=sub_in.channel,
        target=sub_in.target,
        # the salt of the webhook's secret (delivery.webhook_secret), never the secret itself
        secret=secrets.token_hex(32) if sub_in.channel is Channel.webhook else None,
        created_at=utcnow(),
    )
    session.add(sub)
    await session.flush()
    audit.record(
        session=session,
        actor=principal.actor,
        action="alert_subscription.create",
        entity="alert_subscription",
        entity_id=str(sub.id),
        detail={"rule": sub.rule.value, "region": region, "channel": sub.channel.value},
    )
    return sub


async def list_subscriptions(
    *, session: AsyncSession, principal: Principal
) -> list[AlertSubscription]:
    """The caller's live subscriptions; an admin's list holds everyone's."""
    query = select(AlertSubscription).where(col(AlertSubscription.deleted_at).is_(None))
    if principal.role is not Role.admin:
        query = query.where(AlertSubscription.user_id == principal.id)
    return list((await session.exec(query.order_by(col(AlertSubscription.id)))).all())


async def delete_subscription(
    *, session: AsyncSession, principal: Principal, subscription_id: int
) -> None:
    """End a subscription (the caller's own, or any for an admin); its unsent alerts are dropped."""
    sub = await session.get(AlertSubscription, subscription_id, with_for_update=True)
    mine = sub is not None and (principal.role is Role.admin or sub.user_id == principal.id)
    if sub is None or sub.deleted_at is not None or not mine:
        raise NotFound(messages.UNKNOWN_SUBSCRIPTION(subscription=subscription_id))
    sub.deleted_at = utcnow()
    session.add(sub)
    unsent = select(Alert).where(
        Alert.subscription_id == subscription_id,
        col(Alert.status).in_([DeliveryStatus.pending, DeliveryStatus.dead]),
    )
    for alert in (await session.exec(unsent)).all():
        alert.status = DeliveryStatus.dropped
        session.add(alert)
    audit.record(
        session=session,
        actor=principal.actor,
        action="alert_subscription.delete",
        entity="alert_subscription",
        entity_id=str(subscription_id),
    )


async def fire(
    *, db: Database, sub: AlertSubscription, event_key: str, payload: dict[str, Any]
) -> bool:
    """Put one alert of ``sub`` into the outbox; False if this event was fired already.

    The unique (subscription, event) row is the last guard of "once per event": whoever inserts
    second, in whatever process, is refused.
    """
    now = utcnow()
    alert = Alert(
        subscription_id=sub.id,  # type: ignore[arg-type]
        user_id=sub.user_id,
        event_key=event_key,
        rule=sub.rule,
        channel=sub.channel,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
    )
    try:
        async with db.unit_of_work() as uow:
            uow.session.add(alert)
    except IntegrityError:
        return False
    return True


async def fire_event(
    *, db: Database, rule: AlertRule, event_key: str, payload: dict[str, Any], **scope: str
) -> int:
    """Fire an event rule (no condition, e.g. a transfer request) at every live subscription of
    ``rule`` matching ``scope`` (column=value); returns how many alerts went into the outbox."""
    async with db.session() as session:
        query = select(AlertSubscription).where(
            AlertSubscription.rule == rule, col(AlertSubscription.deleted_at).is_(None)
        )
        for column, value in scope.items():
            query = query.where(getattr(AlertSubscription, column) == value)
        subs = (await session.exec(query)).all()
    fired = 0
    for sub in subs:
        fired += await fire(db=db, sub=sub, event_key=event_key, payload=payload)
    return fired


async def add_event_alerts(
    *, session: AsyncSession, rule: AlertRule, event_key: str, payload: dict[str, Any], **scope: str
) -> int:
    """Like ``fire_event``, inside the caller's transaction: the alerts commit with the event
    they tell of (or not at all), so none is lost between the two. Returns how many."""
    query = select(AlertSubscription).where(
        AlertSubscription.rule == rule, col(AlertSubscription.deleted_at).is_(None)
    )
    for column, value in scope.items():
        query = query.where(getattr(AlertSubscription, column) == value)
    now = utcnow()
    subs = (await session.exec(query)).all()
    for sub in subs:
        session.add(
            Alert(
                subscription_id=sub.id,  # type: ignore[arg-type]
                user_id=sub.user_id,
                event_key=event_key,
                rule=rule,
                channel=sub.channel,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return len(subs)


async def list_alerts(
    *, session: AsyncSession, principal: Principal, unread: bool, limit: int
) -> list[Alert]:
    """The caller's in-app alerts, newest first."""
    query = select(Alert).where(Alert.user_id == principal.id, Alert.channel == Channel.app)
    if unread:
        query = query.where(col(Alert.read_at).is_(None))
    return list((await session.exec(query.order_by(col(Alert.id).desc()).limit(limit))).all())


async def unread_count(*, session: AsyncSession, user_id: int) -> int:
    """How many of the user's in-app alerts are unread (the bell's badge)."""
    query = select(func.count()).where(
        Alert.user_id == user_id, Alert.channel == Channel.app, col(Alert.read_at).is_(None)
    )
    return int((await session.exec(query)).one())


async def mark_read(*, session: AsyncSession, principal: Principal, alert_id: int) -> Alert:
    alert = await session.get(Alert, alert_id)
    if alert is None or alert.user_id != principal.id or alert.channel is not Channel.app:
        raise NotFound(messages.UNKNOWN_ALERT(alert=alert_id))
    if alert.read_at is None:
        alert.read_at = utcnow()
        session.add(alert)
    return alert


async def dead_letters(*, session: AsyncSession, limit: int) -> list[Alert]:
    query = select(Alert).where(Alert.status == DeliveryStatus.dead)
    return list((await session.exec(query.order_by(col(Alert.id).desc()).limit(limit))).all())


async def retry_dead(*, session: AsyncSession, alert_id: int, actor: str) -> Alert:
    """Put a dead letter back into the outbox for a fresh round of attempts."""
    alert = await session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound(messages.UNKNOWN_ALERT(alert=alert_id))
    if alert.status is not DeliveryStatus.dead:
        raise InputError("alert_id", messages.ALERT_NOT_DEAD(alert=alert_id))
    alert.status, alert.attempts, alert.next_attempt_at = DeliveryStatus.pending, 0, utcnow()
    session.add(alert)
    audit.record(
        session=session, actor=actor, action="alert.retry", entity="alert", entity_id=str(alert_id)
    )
    return alert
