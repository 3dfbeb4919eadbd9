"""``GET /metrics``: Prometheus text, for direct loopback callers or with the metrics token."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from capacity.api.deps import DbDep, SettingsDep, StoreDep
from capacity.availability import rules
from capacity.availability.service import utcnow
from capacity.availability.store import CapacityStore
from capacity.facilities.models import Region
from capacity.observability.metrics import REGISTRY, STALE_FIGURES
from capacity.settings import is_loopback
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


# A request that names a client of its own came through a proxy (or claims to): whatever
# address it names, it is not a process on this host asking directly.
FORWARDED = ("x-forwarded-for", "forwarded", "x-real-ip")


def _allowed(request: Request, token: str | None) -> bool:
    direct = not any(name in request.headers for name in FORWARDED)
    if direct and request.client is not None and is_loopback(request.client.host):
        return True
    if not token:
        return False
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


async def refresh_stale(*, db: Database, store: CapacityStore) -> None:
    """Count the stale figures of every region from the live picture, as a client sees it."""
    async with db.session() as session:
        regions = list((await session.exec(select(Region.id))).all())
    now = utcnow()
    for region in regions:
        state = await store.read(region)
        if state is None:
            continue
        stale = 0
        for raw in state.facilities.values():
            entry = rules.render(raw, state.rules, now)
            stale += sum(1 for c in entry["categories"].values() if c["stale"])
        STALE_FIGURES.labels(region).set(stale)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep, db: DbDep, store: StoreDep) -> Response:
    """Request counts and latencies, websocket clients, fan-out lag, Redis reconnects and stale
    figures per region."""
    if not _allowed(request, settings.metrics_token):
        return Response("metrics are for loopback callers or the metrics token\n", status_code=403)
    try:
        await refresh_stale(db=db, store=store)
    except (SQLAlchemyError, *REDIS_DOWN) as exc:  # the other metrics are still worth a scrape
        log.warning("metrics: stale figures not refreshed: %s", exc)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
