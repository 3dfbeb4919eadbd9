"""Administration: accounts, API keys of hospitals' systems, and the audit trail (read-only)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime
from sqlmodel import col, or_, select

from capacity.api.deps import AdminDep, DbDep, SessionDep, UnitOfWorkDep, get_access
from capacity.api.responses import ERRORS, download
from capacity.audit import export as audit_export
from capacity.audit import service as audit
from capacity.audit.models import AuditEvent, AuditEventPublic
from capacity.auth import service
from capacity.auth.access import announce_revocation
from capacity.auth.models import (
    AddressLockoutLifted,
    ApiKey,
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyFacility,
    ApiKeyGroupCreate,
    ApiKeyPublic,
    LockoutLifted,
    PasswordReset,
    User,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from capacity.auth.ratelimit import LoginLimiter
from capacity.errors import InputError, NotFound
from capacity.facilities.models import Slug
from capacity.i18n import messages
from capacity.reporting.service import FIRST_DAY, LAST_DAY

Username = Annotated[str, Path(max_length=80, pattern=r"^[A-Za-z0-9._@-]+$")]

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=ERRORS)


@router.get("/users", response_model=list[UserPublic])
async def list_users(admin: AdminDep, session: SessionDep) -> list[User]:
    """Every account."""
    return list((await session.exec(select(User).order_by(User.username))).all())


@router.post("/users", response_model=UserPublic, status_code=201)
async def create_user(user_in: UserCreate, admin: AdminDep, uow: UnitOfWorkDep) -> User:
    """Add an account; staff are bound to a facility, analysts to a region or to all."""
    return await service.create_user(session=uow.session, user_in=user_in, actor=admin.actor)


@router.patch("/users/{username}", response_model=UserPublic)
async def update_user(
    username: Username, user_in: UserUpdate, admin: AdminDep, uow: UnitOfWorkDep, request: Request
) -> User:
    """Deactivate or reactivate an account; a deactivated one loses access at once."""
    user = await service.set_user_active(
        session=uow.session, username=username, active=user_in.active, actor=admin.actor
    )
    await uow.commit_now()
    await announce_revocation(get_access(request).redis)
    return user


@router.post("/users/{username}/password", status_code=204)
async def reset_password(
    username: Username, reset: PasswordReset, admin: AdminDep, uow: UnitOfWorkDep, request: Request
) -> None:
    """Set an account's password (its owner forgot it); tell the owner out of band. The
    account's tokens are revoked: whoever signed in with the old password is signed out."""
    await service.reset_password(
        session=uow.session, username=username, new=reset.new_password, actor=admin.actor
    )
    await uow.commit_now()
    await announce_revocation(get_access(request).redis)


@router.delete("/users/{username}/lockout", response_model=LockoutLifted)
async def lift_lockout(
    username: Username, admin: AdminDep, uow: UnitOfWorkDep, request: Request
) -> LockoutLifted:
    """Let an account sign in again from every address: its failed logins are forgotten (an
    address's own limit, over all accounts, stays)."""
    user = (await uow.session.exec(select(User).where(User.username == username))).first()
    if user is None:
        raise NotFound(messages.UNKNOWN_USER(username=username))
    limiter: LoginLimiter = request.app.state.login_limiter
    cleared = await limiter.lift(username=user.username)
    audit.record(
        session=uow.session,
        actor=admin.actor,
        action="user.lockout_lift",
        entity="user",
        entity_id=user.username,
        detail={"cleared": cleared},
    )
    return LockoutLifted(username=user.username, cleared=cleared)


@router.delete("/lockouts/addresses/{address}", response_model=AddressLockoutLifted)
async def lift_address_lockout(
    address: Annotated[
        str, Path(max_length=64, pattern=r"^[0-9A-Fa-f:.]+$", description="IPv4 or IPv6 address")
    ],
    admin: AdminDep,
    uow: UnitOfWorkDep,
    request: Request,
) -> AddressLockoutLifted:
    """Let every account sign in again from one client address (IPv4, or IPv6 counted by its
    /64): its failed logins over all accounts are forgotten. For a hospital whose staff share
    one public address, locked by 20 wrong logins from anyone behind it."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError as exc:
        raise InputError("address", messages.NOT_AN_ADDRESS(address=address[:60])) from exc
    limiter: LoginLimiter = request.app.state.login_limiter
    cleared = await limiter.lift_address(address=str(ip))
    audit.record(
        session=uow.session,
        actor=admin.actor,
        action="address.lockout_lift",
        entity="address",
        entity_id=str(ip),
        detail={"cleared": cleared},
    )
    return AddressLockoutLifted(address=str(ip), cleared=cleared)


@router.post("/facilities/{facility_id}/keys", response_model=ApiKeyCreated, status_code=201)
async def create_key(
    facility_id: Slug, admin: AdminDep, uow: UnitOfWorkDep, key_in: ApiKeyCreate | None = None
) -> ApiKeyCreated:
    """A new API key for a facility's system; the key is in this answer only."""
    return await service.create_api_key(
        session=uow.session,
        facility_id=facility_id,
        actor=admin.actor,
        label=key_in.label if key_in else None,
    )


@router.post("/keys", response_model=ApiKeyCreated, status_code=201)
async def create_group_key(
    key_in: ApiKeyGroupCreate, admin: AdminDep, uow: UnitOfWorkDep
) -> ApiKeyCreated:
    """A new API key for a hospital group's system: it may push and read for each facility
    named, and no other. The key is in this answer only."""
    return await service.create_api_key(
        session=uow.session,
        facility_id=key_in.facility_ids[0],
        actor=admin.actor,
        label=key_in.label,
        group=key_in.facility_ids,
    )


@router.get("/keys", response_model=list[ApiKeyPublic])
async def list_keys(
    admin: AdminDep, session: SessionDep, facility: Slug | None = None
) -> list[ApiKeyPublic]:
    """API keys (never the keys themselves: only their first characters), each with every
    facility it is bound to; ``facility`` picks the keys that may push for it."""
    query = select(ApiKey).order_by(col(ApiKey.id))
    if facility:
        grouped = select(ApiKeyFacility.api_key_id).where(ApiKeyFacility.facility_id == facility)
        query = query.where(or_(col(ApiKey.facility_id) == facility, col(ApiKey.id).in_(grouped)))
    rows = list((await session.exec(query)).all())
    return await service.public_keys(session=session, rows=rows)


@router.delete("/keys/{key_id}", response_model=ApiKeyPublic)
async def revoke_key(
    key_id: int, admin: AdminDep, uow: UnitOfWorkDep, request: Request
) -> ApiKeyPublic:
    """Revoke a key at once (a group key for all its facilities)."""
    key = await service.revoke_api_key(session=uow.session, key_id=key_id, actor=admin.actor)
    (shown,) = await service.public_keys(session=uow.session, rows=[key])
    await uow.commit_now()
    await announce_revocation(get_access(request).redis)
    return shown


@router.post("/keys/{key_id}/rotate", response_model=ApiKeyCreated, status_code=201)
async def rotate_key(
    key_id: int, admin: AdminDep, uow: UnitOfWorkDep, request: Request
) -> ApiKeyCreated:
    """A new key for the same facility (a group key: the same facilities); the old key stops at
    once. The new key is in this answer only."""
    created = await service.rotate_api_key(session=uow.session, key_id=key_id, actor=admin.actor)
    await uow.commit_now()
    await announce_revocation(get_access(request).redis)
    return created


@router.get("/audit", response_model=list[AuditEventPublic])
async def list_audit(
    admin: AdminDep,
    session: SessionDep,
    since: Annotated[
        AwareDatetime | None, Query(description="ISO 8601 with an offset, e.g. ...T10:00:00Z")
    ] = None,
    actor: Annotated[str | None, Query(max_length=80, pattern=r"^[A-Za-z0-9._@:-]+$")] = None,
    action: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=r"^[a-z_]+(\.[a-z_]*)?$",
            description="An action (user.deactivate), or every action of a kind (user.)",
        ),
    ] = None,
    entity: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
    entity_id: Annotated[str | None, Query(max_length=80, pattern=r"^[A-Za-z0-9._@:-]+$")] = None,
    facility: Annotated[
        Slug | None, Query(description="Events of this facility (entity facility)")
    ] = None,
    start: Annotated[
        date | None,
        Query(alias="from", description="first day (UTC)", ge=FIRST_DAY, le=LAST_DAY),
    ] = None,
    end: Annotated[
        date | None,
        Query(alias="to", description="last day (UTC), inclusive", ge=FIRST_DAY, le=LAST_DAY),
    ] = None,
    before: Annotated[int | None, Query(ge=1, description="Only events older than this id")] = None,
    limit: int = Query(200, ge=1, le=5000),
) -> list[AuditEvent]:
    """The newest audit events matching every filter given, newest first; page on with
    ``before`` = the last id received. The trail cannot be changed through the API."""
    if start is not None and end is not None and end < start:
        raise InputError("to", messages.AUDIT_TO_BEFORE_FROM(end=end, start=start))
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if start is not None:
        query = query.where(AuditEvent.at >= datetime.combine(start, time(), UTC))
    if end is not None:
        query = query.where(AuditEvent.at < datetime.combine(end + timedelta(days=1), time(), UTC))
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if action and action.endswith("."):
        query = query.where(col(AuditEvent.action).startswith(action, autoescape=True))
    elif action:
        query = query.where(AuditEvent.action == action)
    if facility:
        entity, entity_id = "facility", facility
    if entity:
        query = query.where(AuditEvent.entity == entity)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    if before is not None:
        query = query.where(col(AuditEvent.id) < before)
    return list((await session.exec(query)).all())


@router.get(
    "/admin/audit/export",
    response_class=StreamingResponse,
    responses=download("csv", description="CSV, streamed"),
)
async def export_audit(
    admin: AdminDep,
    db: DbDep,
    start: Annotated[
        date, Query(alias="from", description="first day (UTC)", ge=FIRST_DAY, le=LAST_DAY)
    ],
    end: Annotated[
        date | None,
        Query(alias="to", description="last day, inclusive", ge=FIRST_DAY, le=LAST_DAY),
    ] = None,
    format: Literal["csv"] = "csv",
) -> StreamingResponse:
    """The audit trail of a period as CSV (oldest first); the export is itself audited."""
    end = end or datetime.now(UTC).date()
    body = audit_export.csv_export(db=db, start=start, end=end)  # 422 for a bad period
    async with db.unit_of_work() as uow:
        audit.record(
            session=uow.session,
            actor=admin.actor,
            action="audit.export",
            entity="audit",
            detail={"from": start.isoformat(), "to": end.isoformat(), "format": format},
        )
    name = f"audit-{start.isoformat()}-{end.isoformat()}.csv"
    return StreamingResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
