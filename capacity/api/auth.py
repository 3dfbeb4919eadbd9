"""Signing in: the OAuth2 password flow, with failed logins limited per account and address."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from capacity.api.deps import DbDep, SettingsDep
from capacity.audit import service as audit
from capacity.auth.models import Token
from capacity.auth.ratelimit import LoginLimiter
from capacity.auth.service import authenticate, create_token
from capacity.errors import AuthError
from capacity.observability.metrics import LOGIN_LOCKOUTS

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=Token,
    responses={
        401: {"description": "Wrong name or password"},
        429: {"description": "Too many failed logins for the account or address (Retry-After)"},
    },
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    db: DbDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password for a bearer token."""
    address = request.client.host if request.client else "unknown"
    limiter: LoginLimiter = request.app.state.login_limiter
    blocked = await limiter.blocked(username=form.username, address=address)
    if blocked is not None:
        LOGIN_LOCKOUTS.labels(blocked.scope).inc()
        raise HTTPException(
            429, detail=blocked.message, headers={"Retry-After": str(blocked.retry_after)}
        )
    # The password is checked in a read transaction; only the audit rows take the write lock.
    async with db.session() as session:
        user = await authenticate(session=session, username=form.username, password=form.password)
    locked = [] if user else await limiter.failed(username=form.username, address=address)
    async with db.unit_of_work() as uow:
        audit.record(
            session=uow.session,
            actor=f"user:{form.username[:60]}",
            action="login.ok" if user else "login.failed",
            entity="user",
            entity_id=form.username[:80],
            detail={"address": address},
        )
        for scope in locked:
            audit.record(
                session=uow.session,
                actor="system:login-limit",
                action="login.locked",
                entity="user" if scope == "account" else "address",
                entity_id=form.username[:80] if scope == "account" else address[:80],
                detail={
                    "scope": scope,
                    "address": address,
                    "window_seconds": settings.login_window_seconds,
                },
            )
    if user is None:
        raise AuthError("wrong username or password")
    await limiter.succeeded(username=form.username)
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
