"""Every dependency alias the routers use: settings, storage, session and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.auth.models import Principal, Role
from capacity.auth.service import AuthError, decode_token, may_read_region, principal_for_key
from capacity.availability.store import CapacityStore
from capacity.facilities import service as facilities
from capacity.settings import Settings
from capacity.storage.db import Database

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def get_store(request: Request) -> CapacityStore:
    return request.app.state.store  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
StoreDep = Annotated[CapacityStore, Depends(get_store)]


async def get_session(db: DbDep) -> AsyncIterator[AsyncSession]:
    """A session per request; writes that must be ordered use ``Database.write_session``."""
    async with db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_principal(
    settings: SettingsDep,
    db: DbDep,
    token: Annotated[str | None, Depends(oauth2)],
    api_key: Annotated[str | None, Header(alias="X-API-Key", include_in_schema=False)] = None,
) -> Principal:
    """The caller, from a bearer token or a facility's API key; 401 otherwise."""
    if token:
        return decode_token(token, secret=settings.resolved_secret_key)
    if api_key:
        async with db.session() as session:
            return await principal_for_key(session=session, key=api_key)
    raise AuthError("credentials required: a bearer token or an X-API-Key")


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency admitting signed-in accounts of the given roles (never API keys)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise PermissionError(f"this needs the role {' or '.join(r.value for r in roles)}")
        return principal

    return Depends(check)


AdminDep = Annotated[Principal, require(Role.admin)]


async def check_region_readable(session: AsyncSession, principal: Principal, region: str) -> None:
    """404 for an unknown region, 403 when the caller may not read it (one rule for all)."""
    if await facilities.get_region(session=session, region_id=region) is None:
        raise LookupError(f"unknown region {region!r}")
    if not may_read_region(principal, region):
        raise PermissionError(f"no access to region {region!r}")
