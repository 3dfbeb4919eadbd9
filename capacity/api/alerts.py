"""Alerts: subscriptions, the in-app inbox, the dead-letter list; overdue reporters per region."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Response

from capacity.alerts import overdue, service
from capacity.alerts.delivery import webhook_secret
from capacity.alerts.models import (
    AlertPublic,
    AlertSubscription,
    OverduePublic,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
)
from capacity.alerts.store import AlertStore
from capacity.alerts.watcher import baseline
from capacity.api.deps import (
    AdminDep,
    SessionDep,
    SettingsDep,
    StoreDep,
    UnitOfWorkDep,
    check_region_readable,
    require,
)
from capacity.api.responses import ERRORS
from capacity.auth.models import Principal, Role
from capacity.availability.store import CapacityStore
from capacity.facilities.models import Slug
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=ERRORS)
Coordinator = Annotated[Principal, require(Role.analyst, Role.admin)]
# Subscriptions and inboxes belong to accounts: an API key has none (a key's id is no user id).
Account = Annotated[Principal, require(*Role)]
Limit = Annotated[int, Query(ge=1, le=500)]


async def _announce(store: CapacityStore, sub: AlertSubscription | None) -> None:
    """Take a new subscription's baseline and have every process reload its subscriptions.

    Redis down: the change is committed all the same; each watcher reloads when Redis is back
    (and its first observation is then the baseline).
    """
    try:
        if sub is not None:
            await baseline(store=store, redis=store.redis, sub=sub)
        await AlertStore(store.redis).subscriptions_changed()
    except REDIS_DOWN as exc:
        log.warning("subscriptions changed while Redis is unreachable: %s", exc)


@router.get("/alerts/subscriptions", response_model=list[SubscriptionPublic])
async def list_subscriptions(principal: Account, session: SessionDep) -> list[SubscriptionPublic]:
    """The caller's subscriptions (an admin: everyone's)."""
    subs = await service.list_subscriptions(session=session, principal=principal)
    return [SubscriptionPublic.model_validate(s, from_attributes=True) for s in subs]


@router.post("/alerts/subscriptions", response_model=SubscriptionCreated, status_code=201)
async def create_subscription(
    sub_in: SubscriptionCreate,
    principal: Account,
    uow: UnitOfWorkDep,
    store: StoreDep,
    settings: SettingsDep,
) -> SubscriptionCreated:
    """Subscribe to a rule; a webhook's signing secret is in this answer only."""
    sub = await service.create_subscription(
        session=uow.session, principal=principal, sub_in=sub_in, settings=settings
    )
    created = SubscriptionCreated.model_validate(sub, from_attributes=True)
    if sub.secret is not None:  # stored: the salt; shown once: the secret it derives
        created.secret = webhook_secret(settings, sub.secret)
    await uow.commit_now()  # before the processes reload their subscriptions
    await _announce(store, sub)
    return created


@router.delete("/alerts/subscriptions/{subscription_id}", status_code=204)
async def delete_subscription(
    subscription_id: int, principal: Account, uow: UnitOfWorkDep, store: StoreDep
) -> Response:
    """End a subscription (own; an admin: any); alerts not yet delivered are dropped."""
    await service.delete_subscription(
        session=uow.session, principal=principal, subscription_id=subscription_id
    )
    await uow.commit_now()
    await _announce(store, None)
    return Response(status_code=204)


@router.get("/alerts", response_model=list[AlertPublic])
async def list_alerts(
    principal: Account, session: SessionDep, unread: bool = False, limit: Limit = 100
) -> list[AlertPublic]:
    """The caller's in-app alerts, newest first."""
    alerts = await service.list_alerts(
        session=session, principal=principal, unread=unread, limit=limit
    )
    return [AlertPublic.model_validate(a, from_attributes=True) for a in alerts]


@router.post("/alerts/{alert_id}/read", response_model=AlertPublic)
async def mark_read(alert_id: int, principal: Account, uow: UnitOfWorkDep) -> AlertPublic:
    """Mark one of the caller's in-app alerts read."""
    alert = await service.mark_read(session=uow.session, principal=principal, alert_id=alert_id)
    return AlertPublic.model_validate(alert, from_attributes=True)


@router.get("/alerts/dead-letters", response_model=list[AlertPublic])
async def dead_letters(
    admin: AdminDep, session: SessionDep, limit: Limit = 100
) -> list[AlertPublic]:
    """E-mails and webhooks whose every attempt failed (admin)."""
    alerts = await service.dead_letters(session=session, limit=limit)
    return [AlertPublic.model_validate(a, from_attributes=True) for a in alerts]


@router.post("/alerts/dead-letters/{alert_id}/retry", response_model=AlertPublic)
async def retry_dead_letter(alert_id: int, admin: AdminDep, uow: UnitOfWorkDep) -> AlertPublic:
    """Put a dead letter back into the outbox for a new round of attempts (admin)."""
    alert = await service.retry_dead(session=uow.session, alert_id=alert_id, actor=admin.actor)
    return AlertPublic.model_validate(alert, from_attributes=True)


@router.get("/regions/{region}/overdue", response_model=list[OverduePublic])
async def list_overdue(
    region: Slug, principal: Coordinator, session: SessionDep
) -> list[OverduePublic]:
    """Facilities of the region with no fresh figure, and since when (analysts, admins)."""
    await check_region_readable(session, principal, region)
    episodes = await overdue.list_overdue(session=session, region=region)
    return [OverduePublic(facility_id=e.facility_id, since=e.since) for e in episodes]
