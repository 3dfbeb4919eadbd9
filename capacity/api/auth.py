"""Signing in: the OAuth2 password flow."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from capacity.api.deps import DbDep, SettingsDep
from capacity.audit import service as audit
from capacity.auth.models import Token
from capacity.auth.service import AuthError, authenticate, create_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token", response_model=Token, responses={401: {"description": "Wrong name or password"}}
)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    db: DbDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password for a bearer token."""
    address = request.client.host if request.client else "unknown"
    async with db.session() as session:
        user = await authenticate(session=session, username=form.username, password=form.password)
        audit.record(
            session=session,
            actor=f"user:{form.username[:60]}",
            action="login.ok" if user else "login.failed",
            entity="user",
            entity_id=form.username[:80],
            detail={"address": address},
        )
        await session.commit()
    if user is None:
        raise AuthError("wrong username or password")
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
