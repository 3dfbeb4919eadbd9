"""Passwords, tokens, API keys and who may do what."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

import anyio
import anyio.to_thread
import jwt
from pwdlib import PasswordHash
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from capacity.audit import service as audit
from capacity.auth.models import (
    MAX_GROUP_FACILITIES,
    PASSWORD_MAX,
    PASSWORD_MIN,
    ApiKey,
    ApiKeyCreated,
    ApiKeyFacility,
    ApiKeyPublic,
    Principal,
    Role,
    User,
    UserCreate,
)
from capacity.errors import AuthError, InputError, NotFound
from capacity.facilities.models import Facility, Region
from capacity.i18n import messages

ALGORITHM = "HS256"
KEY_PREFIX = "cap_"


HASHING_THREADS = 2  # argon2 costs ~50 ms of CPU and memory; at most this many at once
_limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def _hashing_limiter() -> anyio.CapacityLimiter:
    # One per event loop: a limiter's waiters belong to the loop that made them.
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(HASHING_THREADS)
    return limiter


def _verify(password: str, password_hash: str) -> bool:
    try:
        return _hasher().verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a crash
        return False


async def hash_password(password: str) -> str:
    """The argon2 hash, computed in a worker thread (never on the event loop), bounded."""
    return await anyio.to_thread.run_sync(_hasher().hash, password, limiter=_hashing_limiter())


async def verify_password(password: str, password_hash: str) -> bool:
    """Whether the password fits the hash, checked in a worker thread, bounded."""
    return await anyio.to_thread.run_sync(
        _verify, password, password_hash, limiter=_hashing_limiter()
    )


_DUMMY_HASH: str | None = None


async def _burn_time(password: str) -> None:
    """Spend as long on an unknown account as on a wrong password, so names cannot be probed."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = await hash_password(secrets.token_urlsafe(12))
    await verify_password(password, _DUMMY_HASH)


def create_token(*, user: User, secret: str, lifetime: timedelta) -> tuple[str, int]:
    """A signed bearer token carrying the account's role, binding and token generation."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "name": user.username,
        "role": user.role.value,
        "fac": user.facility_id,
        "reg": user.region_id,
        "gen": user.token_generation,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), int(lifetime.total_seconds())


def decode_token(token: str, *, secret: str) -> Principal:
    """The principal of a valid token; AuthError for a forged, expired or malformed one."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "role"]}
        )
        return Principal(
            kind="user",
            id=int(claims["sub"]),
            name=str(claims["name"]),
            role=Role(claims["role"]),
            facility_id=claims.get("fac"),
            region_id=claims.get("reg"),
            expires=float(claims["exp"]),
            generation=int(claims.get("gen", 0)),  # tokens from before generations carry none
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError(messages.TOKEN_EXPIRED()) from exc
    except (jwt.InvalidTokenError, ValueError, KeyError, TypeError) as exc:
        raise AuthError(messages.TOKEN_INVALID()) from exc


def shown_actor(actor: str, facility_id: str) -> str:
    """How the author of a change is shown beside a facility's figures.

    An account by its username, a facility's API key as ``key:<facility id>``, the service's
    own transitions (stale figures, a stop that ended by itself) as ``system``.
    """
    kind, _, name = actor.partition(":")
    if kind == "user" and name:
        return name
    if kind == "key":
        return f"key:{facility_id}"
    if kind == "system":
        return "system"
    return actor


async def authenticate(*, session: AsyncSession, username: str, password: str) -> User | None:
    """The active account with this name and password, or None."""
    user = (await session.exec(select(User).where(User.username == username))).first()
    if user is None or not user.active:
        await _burn_time(password)
        return None
    return user if await verify_password(password, user.password_hash) else None


async def account_name(session: AsyncSession, username: str) -> str | None:
    """The name if an account (active or not) has it, else None: what a failed login records."""
    query = select(User.username).where(User.username == username)
    return (await session.exec(query)).first()


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a fast hash is as safe as a slow one and keeps pushes cheap.
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(
    *,
    session: AsyncSession,
    facility_id: str,
    actor: str,
    label: str | None = None,
    group: list[str] | None = None,
) -> ApiKeyCreated:
    """A new key for a facility, or for each facility of a hospital group (``group``, the
    first being ``facility_id``); the plain key is returned once, only its hash is kept."""
    named = group or [facility_id]
    facility_ids = list(dict.fromkeys(named))
    if (
        len(facility_ids) != len(named)
        or len(named) > MAX_GROUP_FACILITIES
        or facility_ids[0] != facility_id
    ):
        raise InputError("facility_ids", messages.KEY_FACILITIES_NEEDED(most=MAX_GROUP_FACILITIES))
    for each in facility_ids:
        if await session.get(Facility, each) is None:
            raise NotFound(messages.UNKNOWN_FACILITY(facility=each))
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        facility_id=facility_id,
        prefix=key[: len(KEY_PREFIX) + 6],
        key_hash=hash_key(key),
        label=label,
        created_at=datetime.now(UTC),
        created_by=actor,
    )
    session.add(row)
    await session.flush()
    assert row.id is not None
    if len(facility_ids) > 1:
        for each in facility_ids:
            session.add(ApiKeyFacility(api_key_id=row.id, facility_id=each))
        await session.flush()
    detail: dict[str, Any] = {"facility_id": facility_id, "prefix": row.prefix}
    if len(facility_ids) > 1:
        detail["facility_ids"] = facility_ids
    audit.record(
        session=session,
        actor=actor,
        action="api_key.create",
        entity="api_key",
        entity_id=str(row.id),
        detail=detail,
    )
    return ApiKeyCreated(**row.model_dump(), facility_ids=facility_ids, key=key)


async def key_facilities(*, session: AsyncSession, key_ids: list[int]) -> dict[int, list[str]]:
    """The facilities of group keys by key id (single facilities' keys are not in it)."""
    if not key_ids:
        return {}
    query = select(ApiKeyFacility).where(col(ApiKeyFacility.api_key_id).in_(key_ids))
    found: dict[int, list[str]] = {}
    for link in (await session.exec(query)).all():
        found.setdefault(link.api_key_id, []).append(link.facility_id)
    return found


async def public_keys(*, session: AsyncSession, rows: list[ApiKey]) -> list[ApiKeyPublic]:
    """Keys as the admin sees them, each with every facility it is bound to."""
    groups = await key_facilities(session=session, key_ids=[r.id for r in rows if r.id])
    return [
        ApiKeyPublic(
            **r.model_dump(),
            facility_ids=sorted(groups.get(r.id or 0, []), key=lambda f: f != r.facility_id)
            or [r.facility_id],
        )
        for r in rows
    ]


async def revoke_api_key(*, session: AsyncSession, key_id: int, actor: str) -> ApiKey:
    """Revoke a key at once; revoking twice changes nothing."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(messages.UNKNOWN_API_KEY(key=key_id))
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        session.add(row)
        audit.record(
            session=session,
            actor=actor,
            action="api_key.revoke",
            entity="api_key",
            entity_id=str(key_id),
            detail={"facility_id": row.facility_id},
        )
    return row


async def revoke_tokens(*, session: AsyncSession, user: User) -> None:
    """Refuse every token issued to the account so far, for good (a reactivation does not bring
    them back); tokens issued from now on are not affected.

    The caller commits, then calls ``capacity.auth.access.announce_revocation``: every process
    then refuses the old tokens on their next request and closes live streams opened with them
    within a second or two (``capacity.realtime.sessions``). Without the announcement (Redis
    down) it takes at most ``capacity.auth.access.MAX_AGE_SECONDS``.
    """
    user.token_generation += 1
    session.add(user)


def _locked_user(*where: Any) -> SelectOfScalar[User]:
    """The account row, locked until the commit (PostgreSQL; SQLite's writers are serialised):
    password changes, resets and deactivations racing each other each see the one before, so
    one current password changes the password once and no revocation is lost."""
    return select(User).where(*where).with_for_update().execution_options(populate_existing=True)


async def set_user_active(
    *, session: AsyncSession, username: str, active: bool, actor: str
) -> User:
    """Deactivate (or reactivate) an account; the caller announces it after the commit.

    A deactivation revokes the account's tokens: once reactivated, it signs in afresh.
    """
    user = (await session.exec(_locked_user(User.username == username))).first()
    if user is None:
        raise NotFound(messages.UNKNOWN_USER(username=username))
    if user.active != active:
        user.active = active
        if not active:
            await revoke_tokens(session=session, user=user)
        session.add(user)
        audit.record(
            session=session,
            actor=actor,
            action="user.activate" if active else "user.deactivate",
            entity="user",
            entity_id=user.username,
            detail={"active": active},
        )
    return user


def _check_new_password(field: str, password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InputError(field, messages.PASSWORD_LENGTH(min=PASSWORD_MIN, max=PASSWORD_MAX))


async def change_password(
    *, session: AsyncSession, user_id: int, current: str, new: str, actor: str
) -> User:
    """A signed-in account's own new password, after its current one (422 when wrong).

    Revokes the account's tokens (the caller commits and announces, then issues a new one)."""
    _check_new_password("new_password", new)
    user = (await session.exec(_locked_user(User.id == user_id))).first()
    if user is None or not user.active:
        raise AuthError(messages.ACCOUNT_GONE())
    if not await verify_password(current, user.password_hash):
        raise InputError("current_password", messages.NOT_CURRENT_PASSWORD())
    user.password_hash = await hash_password(new)
    await revoke_tokens(session=session, user=user)  # every other signed-in device signs in anew
    audit.record(
        session=session,
        actor=actor,
        action="user.password_change",
        entity="user",
        entity_id=user.username,
    )
    return user


async def reset_password(*, session: AsyncSession, username: str, new: str, actor: str) -> User:
    """An admin (or the command line) sets an account's password and revokes its tokens."""
    _check_new_password("new_password", new)
    user = (await session.exec(_locked_user(User.username == username))).first()
    if user is None:
        raise NotFound(messages.UNKNOWN_USER(username=username))
    user.password_hash = await hash_password(new)
    await revoke_tokens(session=session, user=user)  # whoever knew the old one is signed out
    audit.record(
        session=session,
        actor=actor,
        action="user.password_reset",
        entity="user",
        entity_id=user.username,
    )
    return user


async def rotate_api_key(*, session: AsyncSession, key_id: int, actor: str) -> ApiKeyCreated:
    """A new key for the same facility and label; the old one is revoked in the same commit.

    No grace period: the old key stops at once. A system that cannot switch instantly gets a
    second key first (create, deploy, then revoke the old one); see docs/operations.md.
    """
    old = await session.get(ApiKey, key_id)
    if old is None:
        raise NotFound(messages.UNKNOWN_API_KEY(key=key_id))
    if old.revoked_at is not None:
        raise InputError("key_id", messages.API_KEY_REVOKED_CREATE_NEW(key=key_id))
    assert old.id is not None
    group = (await key_facilities(session=session, key_ids=[old.id])).get(old.id)
    if group:  # the first facility first, as when it was made
        group = sorted(group, key=lambda f: f != old.facility_id)
    created = await create_api_key(
        session=session, facility_id=old.facility_id, actor=actor, label=old.label, group=group
    )
    await revoke_api_key(session=session, key_id=key_id, actor=actor)
    audit.record(
        session=session,
        actor=actor,
        action="api_key.rotate",
        entity="api_key",
        entity_id=str(key_id),
        detail={"facility_id": old.facility_id, "new_key_id": created.id},
    )
    return created


async def create_user(
    *, session: AsyncSession, user_in: UserCreate, actor: str, password_hash: str | None = None
) -> User:
    """A new account, bound to a facility (staff) or region (analyst) as its role requires."""
    if user_in.role is Role.facility_staff:
        if not user_in.facility_id:
            raise InputError("facility_id", messages.STAFF_NEEDS_FACILITY())
        if await session.get(Facility, user_in.facility_id) is None:
            raise InputError("facility_id", messages.UNKNOWN_FACILITY(facility=user_in.facility_id))
    elif user_in.facility_id is not None:
        raise InputError("facility_id", messages.ONLY_STAFF_HAVE_FACILITY())
    if user_in.region_id is not None:
        if user_in.role is not Role.analyst:
            raise InputError("region_id", messages.ONLY_ANALYSTS_HAVE_REGION())
        if await session.get(Region, user_in.region_id) is None:
            raise InputError("region_id", messages.UNKNOWN_REGION(region=user_in.region_id))
    taken = (await session.exec(select(User.id).where(User.username == user_in.username))).first()
    if taken is not None:
        raise InputError("username", messages.USERNAME_TAKEN(username=user_in.username))
    user = User(
        username=user_in.username,
        password_hash=password_hash or await hash_password(user_in.password),
        role=user_in.role,
        facility_id=user_in.facility_id,
        region_id=user_in.region_id,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    await session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="user.create",
        entity="user",
        entity_id=user.username,
        detail={"role": user.role.value},
    )
    return user


def demo_usernames(regions: list[str], facilities: list[str]) -> list[UserCreate]:
    """The contract's demo accounts; every password is ``demo`` (hashed by the caller)."""

    def account(username: str, role: Role, **where: str) -> UserCreate:
        # The placeholder only passes validation; ensure_demo_users stores the hash of "demo".
        return UserCreate(username=username, password="demo-demo", role=role, **where)  # noqa: S106

    accounts = [account("midwife", Role.midwife)]
    accounts += [account(f"analyst-{r}", Role.analyst, region_id=r) for r in regions]
    accounts.append(account("analyst", Role.analyst))
    accounts.append(account("admin", Role.admin))
    accounts += [account(f"staff-{f}", Role.facility_staff, facility_id=f) for f in facilities]
    return accounts


async def ensure_demo_users(*, session: AsyncSession) -> int:
    """Create the missing demo accounts (development mode only); returns how many were made."""
    regions = list((await session.exec(select(Region.id).order_by(Region.id))).all())
    facilities = list((await session.exec(select(Facility.id).order_by(Facility.id))).all())
    existing = set((await session.exec(select(User.username))).all())
    missing = [a for a in demo_usernames(regions, facilities) if a.username not in existing]
    if not missing:  # the usual case at every start after the first: no hashing at all
        return 0
    demo_hash = await hash_password("demo")  # one hash for all: hashing ninety times costs seconds
    for account in missing:
        await create_user(
            session=session, user_in=account, actor="system:demo", password_hash=demo_hash
        )
    return len(missing)


# ---- who may do what -----------------------------------------------------------------------


def may_read_region(principal: Principal, region: str) -> bool:
    if principal.is_key:
        return False
    if principal.role is Role.analyst:
        return principal.region_id in (None, region)
    return True


def may_write_facility(principal: Principal, facility_id: str) -> bool:
    if principal.role is Role.admin:
        return True
    if principal.is_key:
        return principal.key_for(facility_id)
    if principal.role is Role.facility_staff:
        return principal.facility_id == facility_id
    return False


def may_read_entry(principal: Principal, facility_id: str, region: str) -> bool:
    """A facility's entry: whoever may read its region, and its own API keys."""
    if principal.is_key:
        return principal.key_for(facility_id)
    return may_read_region(principal, region)
