"""Recording refusals (and accepted transfers) and their outcomes."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.audit import service as audit
from capacity.availability.models import Status
from capacity.errors import Conflict, Forbidden, InputError, NotFound
from capacity.facilities.models import Facility
from capacity.i18n import messages
from capacity.refusals.models import (
    Episode,
    Outcome,
    Refusal,
    RefusalCreate,
    RefusalMine,
    RefusalUpdate,
    public,
)

LOCAL = ZoneInfo("Europe/Amsterdam")
MAX_AGE = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=2)  # a phone's clock may run a little ahead
AMEND_WINDOW = timedelta(hours=24)
UNDO_WINDOW = timedelta(minutes=15)  # a mistaken tap is undone at once; after that, amend it
MINE_MAX_DAYS = 31
# Long enough for one search and a late entry; the app asks for a new one after 3 hours.
EPISODE_LIFETIME = timedelta(hours=24)


def buckets(occurred_at: datetime) -> dict[str, Any]:
    """The local-time buckets statistics group by (hour of day, weekday, ISO week, month)."""
    local = occurred_at.astimezone(LOCAL)
    year, week, _ = local.isocalendar()
    return {
        "occurred_on": local.date(),
        "occurred_hour": local.hour,
        "occurred_weekday": local.weekday(),
        "occurred_week": f"{year}-W{week:02d}",
        "occurred_month": f"{local.year}-{local.month:02d}",
    }


def shown(picture: dict[str, Any], facility_id: str, category: str) -> dict[str, Any]:
    """What the regional picture showed for one facility and category."""
    entry = next((f for f in picture["facilities"] if f["facility_id"] == facility_id), None)
    figure = (entry or {}).get("categories", {}).get(category)
    stop = (entry or {}).get("stop")
    if figure is None:
        status = Status.stop if stop else Status.unknown
        return {
            "shown_status": status,
            "shown_stale": False,
            "shown_available": None,
            "shown_staffed": None,
            "shown_stop_reason": stop["reason"] if stop else None,
        }
    return {
        "shown_status": Status(figure["status"]),
        "shown_stale": bool(figure["stale"]),
        "shown_available": figure["available"],
        "shown_staffed": figure["staffed"],
        "shown_stop_reason": stop["reason"] if stop else None,
    }


async def _facility(session: AsyncSession, facility_id: str, field: str) -> Facility:
    facility = await session.get(Facility, facility_id)
    if facility is None or not facility.active:
        raise InputError(field, messages.UNKNOWN_FACILITY(facility=facility_id))
    return facility


async def issue_episode(*, session: AsyncSession, account_id: int, now: datetime) -> Episode:
    """A new random episode token (128 bits) for the caller's search; flushes, no commit."""
    episode = Episode(
        token=secrets.token_hex(16),
        issued_by=account_id,
        issued_at=now,
        expires_at=now + EPISODE_LIFETIME,
    )
    session.add(episode)
    await session.flush()
    return episode


async def check_episode(
    *, session: AsyncSession, token: str, account_id: int, now: datetime
) -> None:
    """Only a token this server issued to this account, and not yet expired, may group refusals.

    Bound to the account: a token seen elsewhere (an export, another phone) cannot add records
    to someone else's search, and a token is only ever known to the one who asked for it.
    """
    episode = await session.get(Episode, token)
    if episode is None or episode.issued_by != account_id:
        raise InputError("episode", messages.EPISODE_NOT_YOURS())
    if episode.expires_at <= now:
        raise InputError("episode", messages.EPISODE_EXPIRED())


async def check_create(
    *, session: AsyncSession, refusal_in: RefusalCreate, account_id: int, now: datetime
) -> Facility:
    """The facility asked for, after the rules a schema cannot express."""
    if refusal_in.occurred_at > now + CLOCK_SKEW:
        raise InputError("occurred_at", messages.OCCURRED_IN_FUTURE())
    if refusal_in.occurred_at < now - MAX_AGE:
        raise InputError("occurred_at", messages.OCCURRED_TOO_LONG_AGO())
    if refusal_in.episode is not None:
        await check_episode(
            session=session, token=refusal_in.episode, account_id=account_id, now=now
        )
    facility = await _facility(session, refusal_in.facility_id, "facility_id")
    if refusal_in.category.value not in facility.categories:
        raise InputError(
            "category",
            messages.DOES_NOT_OFFER(facility=facility.id, category=refusal_in.category.value),
        )
    return facility


async def stored_replay(
    *, session: AsyncSession, refusal_in: RefusalCreate, account_id: int
) -> Refusal | None:
    """The caller's record already stored under this ``client_key`` (the same tap sent again).

    Looked up before any other check: a record queued on a phone for hours, or whose answer was
    lost, is answered with what was stored then, even if its episode token has expired since.
    """
    if refusal_in.client_key is None:
        return None
    query = select(Refusal).where(
        Refusal.recorded_by == account_id, Refusal.client_key == refusal_in.client_key
    )
    refusal = (await session.exec(query)).first()
    if refusal is not None and not _same_tap(refusal, refusal_in):
        raise Conflict(messages.CLIENT_KEY_OTHER_FACTS(refusal=refusal.id))
    return refusal


def _same_tap(refusal: Refusal, refusal_in: RefusalCreate) -> bool:
    return (
        refusal.facility_id == refusal_in.facility_id
        and refusal.category == refusal_in.category
        and refusal.decision == refusal_in.decision
        and refusal.reason == refusal_in.reason
        and abs(refusal.occurred_at - refusal_in.occurred_at) < timedelta(seconds=1)
    )


async def record_refusal(
    *,
    session: AsyncSession,
    refusal_in: RefusalCreate,
    facility: Facility,
    picture: dict[str, Any],
    account_id: int,
    actor: str,
    now: datetime,
) -> tuple[Refusal, bool]:
    """Store a refusal stamped with its region and what the picture showed; flushes, no commit.

    Returns the record and whether it is new: when a send of the same ``client_key`` committed
    meanwhile (PostgreSQL lets both look first), the unique index refuses this one and the
    stored record is the answer.
    """
    refusal = Refusal(
        **refusal_in.model_dump(),
        region=facility.region,
        recorded_at=now,
        recorded_by=account_id,
        **buckets(refusal_in.occurred_at),
        **shown(picture, facility.id, refusal_in.category.value),
    )
    try:
        async with session.begin_nested():
            session.add(refusal)
    except IntegrityError:
        stored = await stored_replay(session=session, refusal_in=refusal_in, account_id=account_id)
        if stored is None:
            raise
        return stored, False
    audit.record(
        session=session,
        actor=actor,
        action="refusal.create",
        entity="refusal",
        entity_id=str(refusal.id),
        at=now,
        detail=public(refusal),
    )
    return refusal, True


async def _own(*, session: AsyncSession, refusal_id: int, account_id: int, verb: str) -> Refusal:
    """The caller's own record, its row locked to the end of the transaction (PostgreSQL), so
    that an undo and an outcome, or two undos, of one record take turns."""
    query = select(Refusal).where(Refusal.id == refusal_id).with_for_update()
    refusal = (await session.exec(query)).first()
    if refusal is None:
        raise NotFound(messages.UNKNOWN_OR_UNDONE_REFUSAL(refusal=refusal_id))
    if refusal.recorded_by != account_id:
        raise Forbidden(messages.UNDO_OWN_ONLY() if verb == "undo" else messages.AMEND_OWN_ONLY())
    return refusal


async def undo(
    *, session: AsyncSession, refusal_id: int, account_id: int, actor: str, now: datetime
) -> None:
    """Delete the caller's record within 15 minutes of recording; the audit trail keeps it."""
    refusal = await _own(session=session, refusal_id=refusal_id, account_id=account_id, verb="undo")
    if now - refusal.recorded_at > UNDO_WINDOW:
        recorded = refusal.recorded_at.astimezone(LOCAL).strftime("%H:%M")
        raise Conflict(messages.UNDO_TOO_LATE(recorded=recorded))
    detail = public(refusal)
    await session.delete(refusal)
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="refusal.delete",
        entity="refusal",
        entity_id=str(refusal_id),
        at=now,
        detail=detail,
    )


async def set_outcome(
    *,
    session: AsyncSession,
    refusal_id: int,
    update_in: RefusalUpdate,
    account_id: int,
    actor: str,
    now: datetime | None = None,
) -> Refusal:
    """The recording midwife adds the outcome, within 24 hours of recording."""
    now = now or datetime.now(UTC)
    refusal = await _own(
        session=session, refusal_id=refusal_id, account_id=account_id, verb="amend"
    )
    if now - refusal.recorded_at > AMEND_WINDOW:
        raise Forbidden(messages.AMEND_WITHIN_DAY())
    outside: bool | None = update_in.outcome is Outcome.placed_outside_region or None
    if update_in.placed_facility_id is not None:
        placed = await _facility(session, update_in.placed_facility_id, "placed_facility_id")
        if update_in.outcome is Outcome.placed and placed.region != refusal.region:
            raise InputError(
                "outcome",
                messages.PLACED_OUTSIDE(facility=placed.id, region=refusal.region),
            )
        if update_in.outcome is Outcome.placed_outside_region and placed.region == refusal.region:
            raise InputError(
                "placed_facility_id",
                messages.PLACED_INSIDE(facility=placed.id, region=refusal.region),
            )
        if update_in.outcome not in (Outcome.placed, Outcome.placed_outside_region):
            raise InputError(
                "placed_facility_id", messages.PLACED_NOT_ALLOWED(outcome=update_in.outcome)
            )
    if update_in.outcome is Outcome.placed:
        outside = False
    refusal.outcome = update_in.outcome
    refusal.placed_facility_id = update_in.placed_facility_id
    refusal.placed_outside_region = outside
    refusal.calls_until_placement = update_in.calls_until_placement
    refusal.minutes_until_placement = update_in.minutes_until_placement
    refusal.outcome_at = now
    session.add(refusal)
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="refusal.outcome",
        entity="refusal",
        entity_id=str(refusal.id),
        at=now,
        detail=update_in.model_dump(mode="json"),
    )
    return refusal


async def list_mine(
    *, session: AsyncSession, account_id: int, days: int, now: datetime
) -> list[dict[str, Any]]:
    """The account's own records of the last ``days`` days (by call time), newest first."""
    query = (
        select(Refusal)
        .where(Refusal.recorded_by == account_id, Refusal.occurred_at >= now - timedelta(days=days))
        .order_by(col(Refusal.occurred_at).desc(), col(Refusal.id).desc())
    )
    return [
        RefusalMine.model_validate(
            {
                **public(r),
                "undo_until": r.recorded_at + UNDO_WINDOW,
                "outcome_editable_until": r.recorded_at + AMEND_WINDOW,
            }
        ).model_dump(mode="json")
        for r in (await session.exec(query)).all()
    ]
