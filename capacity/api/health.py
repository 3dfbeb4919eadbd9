"""Liveness and readiness, without authentication."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from capacity.api.deps import DbDep, StoreDep
from capacity.storage.db import WritesRefused
from capacity.storage.redis import REDIS_DOWN

router = APIRouter(tags=["health"])


class Alive(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str = Field(description='"ok", or what is wrong: "unreachable: OSError"')
    redis: str = Field(description='"ok", or what is wrong')


@router.get("/healthz", response_model=Alive)
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        200: {"description": "Both reachable"},
        503: {"model": Readiness, "description": "Database or Redis unreachable"},
    },
)
async def readyz(db: DbDep, store: StoreDep) -> Any:
    """The database (and it takes writes) and Redis are both reachable; 503 names the part down."""
    checks: dict[str, str] = {}
    try:
        await db.ping()
        checks["database"] = "ok"
    except WritesRefused as exc:
        checks["database"] = f"refusing writes: {exc}"
    except (SQLAlchemyError, OSError) as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        await store.redis.ping()
        checks["redis"] = "ok"
    except REDIS_DOWN as exc:
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", **checks}, 200 if ready else 503
    )
