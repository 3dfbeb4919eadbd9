"""Every dependency alias the routers use: settings, storage, session and the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from capacity.auth.access import AccessCache
from capacity.auth.models import Principal, Role
from capacity.auth.service import may_read_region
from capacity.auth.usage import KeyUsage
from capacity.availability.store import CapacityStore
from capacity.errors import AuthError, Forbidden, NotFound
from capacity.facilities import service as facilities
from capacity.i18n import either, messages
from capacity.settings import Settings
from capacity.storage.db import Database, UnitOfWork

RESOLVED = "capacity_principal"  # the caller, as the Idempotency-Key middleware resolved it
# Three ways in, each a scheme in /openapi.json so that /docs' "Authorize" offers it: the
# password flow (Swagger UI signs in itself), a bearer token pasted as it is, and an API key.
oauth2 = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    scheme_name="Password",
    description="Sign in with a username and password (POST /api/v1/auth/token).",
)
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="BearerToken",
    description="A token from POST /api/v1/auth/token, as `Authorization: Bearer <token>`.",
)
api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKey",
    description="A facility's API key (a hospital system): writes its own facility's figures.",
)


# The dependencies are ``async def``: FastAPI runs a plain ``def`` one on a worker thread, a
# thread hop per dependency and request on the hot path of hospitals' pushes.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def get_store(request: Request) -> CapacityStore:
    return request.app.state.store  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
StoreDep = Annotated[CapacityStore, Depends(get_store)]


async def get_session(db: DbDep) -> AsyncIterator[AsyncSession]:
    """A session per request; writes that must be ordered use ``Database.write_session``."""
    async with db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_unit_of_work(db: DbDep) -> AsyncIterator[UnitOfWork]:
    """The request's one unit of work for writing (services flush, never commit).

    On SQLite it holds the write lock from its first statement. Scoped to the route function,
    so it commits before the answer is sent: a 2xx is never followed by a failed commit.
    """
    async with db.unit_of_work() as uow:
        yield uow


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work, scope="function")]


def get_access(request: Request) -> AccessCache:
    """The process's access cache, made on first use from the lifespan's database and Redis."""
    return access_cache(request.app.state)


def access_cache(state: Any) -> AccessCache:
    """The access cache of an app's state (HTTP requests and websockets share it)."""
    access: AccessCache | None = getattr(state, "access", None)
    if access is None or access.db is not state.db:
        access = AccessCache(
            db=state.db, redis=state.redis, secret=state.settings.resolved_secret_key
        )
        state.access = access
    return access


def key_usage(state: Any) -> KeyUsage:
    """The process's note-taker of API keys' last use, made on first use, closed with the db."""
    usage: KeyUsage | None = getattr(state, "key_usage", None)
    if usage is None or usage.db is not state.db:
        usage = KeyUsage(db=state.db, redis=state.redis)
        state.key_usage = usage
        state.db.on_dispose.append(usage.close)
    return usage


async def get_principal(
    request: Request,
    token: Annotated[str | None, Security(oauth2)],
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    api_key: Annotated[str | None, Security(api_key_header)],
) -> Principal:
    """The caller, from a bearer token or a facility's API key; 401 otherwise.

    Answered from the process's cache, which forgets everything when any process revokes a key
    or deactivates an account (``capacity.auth.access``).
    """
    # Resolved moments ago from the same headers by the Idempotency-Key middleware, if it ran.
    known: Principal | None = request.scope.get("state", {}).get(RESOLVED)
    if token:
        return known or await get_access(request).for_token(token)
    if api_key:
        principal = known or await get_access(request).for_key(api_key)
        key_usage(request.app.state).seen(principal.id)  # returns at once
        return principal
    raise AuthError(messages.CREDENTIALS_REQUIRED())


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency admitting signed-in accounts of the given roles (never API keys)."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden(messages.NEEDS_ROLE(roles=either([r.value for r in roles])))
        return principal

    return Depends(check)


AdminDep = Annotated[Principal, require(Role.admin)]


async def check_region_readable(session: AsyncSession, principal: Principal, region: str) -> None:
    """404 for an unknown region, 403 when the caller may not read it (one rule for all)."""
    if await facilities.get_region(session=session, region_id=region) is None:
        raise NotFound(messages.UNKNOWN_REGION(region=region))
    if not may_read_region(principal, region):
        raise Forbidden(messages.NO_REGION_ACCESS(region=region))
