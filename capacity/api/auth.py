"""Signing in: the OAuth2 password flow, with failed logins limited per account and address;
and an account changing its own password."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from capacity.api.deps import DbDep, SettingsDep, UnitOfWorkDep, get_access, require
from capacity.api.responses import ERRORS, TOO_MANY
from capacity.audit import service as audit
from capacity.auth.access import announce_revocation
from capacity.auth.models import PasswordChange, Principal, Role, Token, User
from capacity.auth.ratelimit import Attempt, Blocked, LoginLimiter
from capacity.auth.service import account_name, authenticate, change_password, create_token
from capacity.errors import AuthError, InputError, TooManyLogins
from capacity.i18n import messages
from capacity.observability.metrics import LOGIN_LOCKOUTS
from capacity.settings import Settings

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

AccountDep = Annotated[Principal, require(*Role)]


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _reserve(request: Request, username: str) -> Attempt:
    """A slot for one password check; 429 (with when it ends) when a failure limit is reached."""
    limiter: LoginLimiter = request.app.state.login_limiter
    outcome = await limiter.reserve(username=username, address=_address(request))
    if isinstance(outcome, Blocked):
        LOGIN_LOCKOUTS.labels(outcome.scope).inc()
        raise TooManyLogins(outcome.body(), outcome.retry_after)
    return outcome


@router.post(
    "/token",
    response_model=Token,
    responses={
        401: {**ERRORS[401], "description": "Wrong name or password"},
        413: ERRORS[413],
        422: ERRORS[422],
        503: ERRORS[503],
        **TOO_MANY,
    },
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    db: DbDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password for a bearer token."""
    if "\x00" in form.username:  # no account has one, and PostgreSQL cannot even compare it
        raise InputError("username", messages.NUL_IN_USERNAME())
    address = _address(request)
    limiter: LoginLimiter = request.app.state.login_limiter
    attempt = await _reserve(request, form.username)
    ok: bool | None = None  # stays None without an answer (database down): nothing counted
    try:
        # The password is checked in a read transaction; only the audit rows take the write lock.
        async with db.session() as session:
            user = await authenticate(
                session=session, username=form.username, password=form.password
            )
        ok = user is not None
    finally:
        locked = await limiter.finish(attempt, ok=ok)
    async with db.unit_of_work() as uow:
        # The name typed is recorded only when it is an account's: anything else (a patient's
        # name, a password typed in the wrong field) must never reach the immutable trail.
        name = user.username if user else await account_name(uow.session, form.username)
        audit.record(
            session=uow.session,
            actor=f"user:{name}" if name else "anonymous",
            action="login.ok" if user else "login.failed",
            entity="user",
            entity_id=name,
            detail={"address": address},
        )
        for scope in locked:
            audit.record(
                session=uow.session,
                actor="system:login-limit",
                action="login.locked",
                entity="address" if scope == "address" else "user",
                entity_id=address[:80] if scope == "address" else name,
                detail={
                    "scope": scope,
                    "address": address,
                    "window_seconds": settings.login_window_seconds,
                },
            )
    if user is None:
        raise AuthError(messages.WRONG_LOGIN())
    return _token(user, settings)


def _token(user: User, settings: Settings) -> Token:
    access, expires = create_token(
        user=user,
        secret=settings.resolved_secret_key,
        lifetime=timedelta(minutes=settings.token_lifetime_minutes),
    )
    return Token(
        access_token=access,
        expires_in=expires,
        role=user.role,
        username=user.username,
        facility_id=user.facility_id,
        region_id=user.region_id,
    )


@router.post(
    "/password",
    response_model=Token,
    responses={
        **ERRORS,
        422: {
            **ERRORS[422],
            "description": "Wrong current password, or a new one too short or too long",
        },
        **TOO_MANY,
    },
)
async def password(
    change: PasswordChange,
    principal: AccountDep,
    uow: UnitOfWorkDep,
    request: Request,
    settings: SettingsDep,
) -> Token:
    """Change the signed-in account's own password; a wrong current one counts as a failed
    login (so a borrowed token cannot guess it).

    Every token of the account issued so far is revoked (other devices, open live streams
    included, must sign in again); the answer carries a new token for this one."""
    limiter: LoginLimiter = request.app.state.login_limiter
    attempt = await _reserve(request, principal.name)
    ok: bool | None = None
    try:
        user = await change_password(
            session=uow.session,
            user_id=principal.id,
            current=change.current_password,
            new=change.new_password,
            actor=principal.actor,
        )
        ok = True
    except InputError as exc:
        ok = False if exc.field == "current_password" else None
        raise
    finally:
        await limiter.finish(attempt, ok=ok)
    await uow.commit_now()
    await announce_revocation(get_access(request).redis)
    return _token(user, settings)
