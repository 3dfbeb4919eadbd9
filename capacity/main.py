"""create_app(): the lifespan owns the engine, Redis client, hub, scheduler and watcher."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from capacity import __version__, setup
from capacity.alerts.watcher import AlertWatcher
from capacity.api import (
    admin,
    alerts,
    auth,
    beds,
    capacity,
    contacts,
    docs,
    errors,
    facilities,
    fhir,
    health,
    idempotency,
    metrics,
    refusals,
    security,
    transfers,
)
from capacity.api.frontend import Frontend
from capacity.api.idempotency import Idempotency
from capacity.api.limits import BodyLimit
from capacity.auth.ratelimit import LoginLimiter
from capacity.availability import jobs
from capacity.availability.pipeline import repairs
from capacity.availability.service import load_all
from capacity.availability.store import CapacityStore
from capacity.errors import Unavailable
from capacity.facilities.models import Region
from capacity.observability import logs
from capacity.observability.http import RequestContext
from capacity.observability.metrics import REDIS_RECONNECTS
from capacity.realtime import alerts as alert_stream
from capacity.realtime import asyncapi, offers, ws
from capacity.realtime.hub import Hub
from capacity.realtime.offer_hub import OfferHub
from capacity.realtime.sessions import SessionGuard
from capacity.settings import Settings
from capacity.storage import keys
from capacity.storage.db import Database
from capacity.storage.redis import REDIS_DOWN, EmbeddedValkey, client_for, server_identity

log = logging.getLogger("capacity")

DESCRIPTION = f"""\
**Signing in ("Authorize")**: *Password* signs in with a username and password; *BearerToken*
takes a token from `POST /api/v1/auth/token` as it is; *ApiKey* takes a facility's API key
(`X-API-Key`, for hospital systems).

**Live streams** (websockets `/ws/regions/{{region}}`, `/ws/offers` and `/ws/alerts`): their
messages and close codes are in the [AsyncAPI document]({asyncapi.PATH}).
"""


async def _watch_redis(app: FastAPI, interval: float = 1.0) -> None:
    """Keep the live picture in line with SQL whatever happens to Redis; checks every second.

    - Another server answers (a Sentinel failover, or a restart: new ``run_id``): the hub moves
      its readers there, and since that server may hold an older picture (replication is
      asynchronous; an append-only file may lose the last second) every region is rebuilt from
      SQL under a newer seq, so live clients get a fresh snapshot.
    - Redis holds no picture (came back empty): ``load_all``.
    - A region whose seq in Redis is behind SQL's lost changes SQL committed (a write taken by a
      primary just before it was demoted): the repairer rebuilds it. In normal flow Redis is
      never behind, since a change reaches Redis before its transaction commits.
    """
    state = app.state
    server: tuple[Any, ...] | None = None
    down = False
    me = asyncio.current_task()
    # redis-py may turn a cancellation inside a command into a ConnectionError, which the
    # handlers below would swallow: the shutdown's cancel must still end the loop.
    while me is None or not me.cancelling():
        await asyncio.sleep(interval)
        try:
            now = await server_identity(state.redis)
            if down:
                REDIS_RECONNECTS.labels("watcher").inc()
                down = False
            if server is not None and now != server:
                log.warning("Redis is another server now (failover or restart): rebuilding")
                hub: Hub | None = getattr(state, "hub", None)
                if hub is not None:
                    await hub.server_changed()
                await load_all(db=state.db, store=state.store, settings=state.settings, every=True)
            elif not await state.store.loaded():
                log.warning("Redis holds no live picture: rebuilding from SQL")
                await load_all(db=state.db, store=state.store, settings=state.settings)
            else:
                await _repair_regions_behind(state)
            server = now  # only once rebuilt: a rebuild cut short is made again
        except REDIS_DOWN as exc:
            down = True
            log.debug("watcher: %s", exc)
        except (SQLAlchemyError, Unavailable) as exc:
            log.debug("watcher: %s", exc)
        except Exception:  # the watcher must outlive any single failure
            log.exception("watcher failed; retrying")


async def _region_seqs(db: Database) -> dict[str, int]:
    async with db.session() as session:
        return {r: int(seq) for r, seq in (await session.exec(select(Region.id, Region.seq))).all()}


async def _repair_regions_behind(state: Any) -> None:
    """Queue for the repairer each region whose seq in Redis is behind SQL's (SQL read first:
    Redis only moves forward, so a region found behind really lost committed changes)."""
    sql = await _region_seqs(state.db)
    held = await state.redis.mget([keys.region_seq(region) for region in sql])
    for (region, seq), value in zip(sql.items(), held, strict=True):
        if value is None or int(value) < seq:
            log.warning("Redis is behind SQL for %s: rebuilding it", region)
            repairs(db=state.db, store=state.store, settings=state.settings).request(region)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    embedded: EmbeddedValkey | None = None
    redis_url = settings.redis_url
    if not settings.external_redis:
        embedded = EmbeddedValkey(settings.valkey_dir).start()
        redis_url = embedded.url
    db = Database(settings.resolved_database_url)
    if settings.auto_setup:
        await asyncio.to_thread(setup.migrate, settings.resolved_database_url)
    client = client_for(settings, redis_url)
    store = CapacityStore(client, replay=settings.stream_replay)
    app.state.db, app.state.store, app.state.redis, app.state.embedded = db, store, client, embedded
    app.state.login_limiter = LoginLimiter(
        client,
        per_account_address=settings.login_account_failures,
        per_address=settings.login_address_failures,
        per_account=settings.login_account_total_failures,
        window_seconds=settings.login_window_seconds,
    )
    try:
        if settings.auto_setup:
            await setup.prepare(db=db, store=store, settings=settings)
        else:
            await load_all(db=db, store=store, settings=settings)
    except (*REDIS_DOWN,) as exc:
        log.error("Redis unreachable at start (%s); the watcher will load it when it is back", exc)
    watcher = asyncio.create_task(_watch_redis(app), name="redis-watcher")
    hub_client = client_for(settings, redis_url)
    app.state.hub = hub = Hub(
        hub_client, ping_seconds=settings.ws_ping_seconds, queue_limit=settings.ws_queue_limit
    )
    await hub.start()
    app.state.offer_hub = offer_hub = OfferHub(hub_client)
    app.state.sessions = sessions = SessionGuard(db=db, redis=client)
    await sessions.start()
    # Off in app instances of a deployment that runs `capacity scheduler` on its own.
    scheduler = (
        jobs.scheduler(db=db, store=store, settings=settings) if settings.scheduler else None
    )
    if scheduler is not None:
        scheduler.start()
    watcher_of_alerts = (
        AlertWatcher(db=db, store=store, redis=client, settings=settings)
        if settings.alerts
        else None
    )
    app.state.alert_watcher = watcher_of_alerts  # the API kicks delivery of event alerts
    if watcher_of_alerts is not None:
        watcher_of_alerts.start()
    if gc.get_freeze_count() == 0:  # once per process (tests start many apps in one)
        # What start-up built (models, routes, metadata) lives as long as the process; moved
        # out of the collector's reach, full collections under load stay short (ingest p99 at
        # 32 writers: 125 ms -> 42 ms, bench/README.md).
        gc.collect()
        gc.freeze()
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if watcher_of_alerts is not None:
            await watcher_of_alerts.stop()
        await sessions.stop()
        await hub.stop()
        await offer_hub.stop()
        await hub_client.aclose()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await client.aclose()
        await db.dispose()
        if embedded is not None:
            embedded.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    logs.configure(json_lines=settings.resolved_log_format == "json")
    app = FastAPI(
        title="capacity",
        version=__version__,
        summary="Free delivery rooms, maternity beds and neonatal cots per ROAZ region, live.",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the package, under a strict policy: capacity/api/docs.py
        redoc_url=None,
    )
    app.state.settings = settings
    errors.install(app)
    for router in (
        auth.router,
        facilities.router,
        contacts.router,
        capacity.router,
        beds.router,
        refusals.router,
        transfers.router,
        admin.router,
        alerts.router,
        health.router,
        metrics.router,
        ws.router,
        offers.router,
        alert_stream.router,
        fhir.router,
    ):
        app.include_router(router)
    # Inside the body limit: a retried write's body is read (and limited) before it is compared.
    app.add_middleware(Idempotency)
    plain_openapi = app.openapi
    app.openapi = lambda: idempotency.document(plain_openapi())  # type: ignore[method-assign]
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    security.install(app, settings)
    app.add_middleware(RequestContext)  # outermost: counts and times every answer
    docs.install(app)
    app.mount("/", Frontend(settings.frontend_dir, app.router.routes), name="frontend")
    return app
