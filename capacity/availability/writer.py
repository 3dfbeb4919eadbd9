"""Group commit for the hot path: figures pushed by hospitals' systems.

Concurrent PUTs are queued and written by one task per process, in batches that share one
transaction. The SQL work of a batch runs on one dedicated thread with a plain (sync) connection,
so a change costs a few native statement calls instead of a thread hop each; the Redis step is
one pipeline of the same ordered Lua applies as elsewhere, made while the write lock is held,
and then the batch commits. A change whose seq Redis did not take (Redis empty or ahead) is
still committed, and its region is then rebuilt from SQL under a newer seq.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from capacity.auth.service import shown_actor
from capacity.availability import rules as rules_mod
from capacity.availability.conflict import VersionConflict, check_version, deactivated
from capacity.availability.models import (
    MEASURED_SKEW_SECONDS,
    CapacityUpdate,
    ChangeKind,
    Status,
)
from capacity.availability.pipeline import repair_region, repairs
from capacity.availability.state import facility_message, facility_raw, utcnow
from capacity.availability.store import CapacityStore
from capacity.errors import Conflict, InputError, NotFound, Unavailable
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.storage.group_commit import GroupCommitWriter
from capacity.storage.plain import PlainSQL
from capacity.storage.redis import REDIS_DOWN

log = logging.getLogger(__name__)

MAX_MOVES = 3  # a change whose facility moved region meanwhile is queued again, this often


class _Moved(Exception):
    """The facility left the region locked for it: stage the change again in a later batch."""


@dataclass
class _Pending:
    facility_id: str
    update_in: CapacityUpdate
    actor: str
    future: asyncio.Future[dict[str, Any]]
    expected_version: int | None = None  # If-Match: compared under the region lock
    measured: dict[str, datetime] | None = None  # category -> when the figure was measured
    source: dict[str, Any] | None = None  # where the figures came from (a bed list), audited
    moves: int = 0  # times requeued because its facility moved region meanwhile


@dataclass
class _Staged:
    pending: _Pending
    region: str = ""
    seq: int = 0
    raw: bytes = b""
    message: bytes = b""
    entry: dict[str, Any] = field(default_factory=dict)
    error: Exception | None = None


class FigureWriter(GroupCommitWriter[_Pending]):
    """One per process and database (``FigureWriter.of``): queues figure updates and writes
    them in batches."""

    name = "figure-writer"

    def __init__(self, db: Database, store: CapacityStore, settings: Settings):
        super().__init__(db)
        self.store, self.settings = store, settings
        self.sql = SQL(db.is_sqlite)

    async def submit(
        self,
        *,
        facility_id: str,
        update_in: CapacityUpdate,
        actor: str,
        expected_version: int | None = None,
        measured: dict[str, datetime] | None = None,
        source: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        await self.queued(
            _Pending(facility_id, update_in, actor, future, expected_version, measured, source)
        )
        return await future

    async def _write(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        async with self.db.write_lock():
            conn: Connection = await loop.run_in_executor(self.thread, self.engine.connect)
            try:
                staged = await loop.run_in_executor(self.thread, self._stage, conn, batch)
                good = [s for s in staged if s.error is None]
                try:
                    missed = await self._apply(good)
                except REDIS_DOWN as exc:
                    # The scripts may have run with only their answer lost: Redis is in doubt.
                    await loop.run_in_executor(self.thread, conn.rollback)
                    self._repair_later({s.region for s in good})
                    raise Unavailable(messages.REDIS_UNREACHABLE_UNCHANGED()) from exc
                failed: Exception | None = None
                try:
                    await loop.run_in_executor(self.thread, conn.commit)
                except SQLAlchemyError as exc:
                    # Redis took changes SQL did not keep: rebuild those regions below.
                    missed = {s.region for s in good}
                    failed = Unavailable(messages.DATABASE_REFUSED())
                    failed.__cause__ = exc
            finally:
                await loop.run_in_executor(self.thread, conn.close)
        # Repairs take the write lock themselves, so they run after it is released; one that
        # fails now (Redis gone again) is left to the repairer, which retries.
        for region in missed:
            try:
                await repair_region(
                    db=self.db, store=self.store, settings=self.settings, region=region
                )
            except (SQLAlchemyError, Unavailable, *REDIS_DOWN):
                self._repair_later({region})
        if failed is not None:
            raise failed
        for s in staged:
            if isinstance(s.error, _Moved) and s.pending.moves < MAX_MOVES:
                s.pending.moves += 1
                self.queue.put_nowait(s.pending)  # read afresh, under its new region's lock
            elif isinstance(s.error, _Moved):
                s.pending.future.set_exception(
                    Conflict(messages.FACILITY_KEEPS_MOVING(facility=s.pending.facility_id))
                )
            elif s.error is not None:
                s.pending.future.set_exception(s.error)
            else:
                s.pending.future.set_result(s.entry)

    def _repair_later(self, regions: set[str]) -> None:
        repairer = repairs(db=self.db, store=self.store, settings=self.settings)
        for region in regions:
            repairer.request(region)

    async def _apply(self, staged: list[_Staged]) -> set[str]:
        """Apply the batch to Redis in one pipeline; returns regions Redis did not follow."""
        if not staged:
            return set()
        results = await self.store.apply_many(
            [(s.region, s.seq, s.pending.facility_id, s.raw, s.message) for s in staged]
        )
        missed = set()
        for s, r in zip(staged, results, strict=True):
            if not r.applied:
                log.warning(
                    "Redis holds seq %s for %s, SQL gave %s: rebuilding the region",
                    r.current,
                    s.region,
                    s.seq,
                )
                missed.add(s.region)
        return missed

    # ---- on the writer thread ----------------------------------------------------------------

    def _stage(self, conn: Connection, batch: list[_Pending]) -> list[_Staged]:
        conn.begin()
        cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        sql = self.sql
        ids = sorted({p.facility_id for p in batch})
        cur.execute(sql.facilities(len(ids)), ids)
        facilities = {row[0]: row for row in cur.fetchall()}
        # Region locks are taken in one global order (by region id) so that two processes'
        # batches never wait on each other in a cycle; within a region the order stays FIFO.
        ordered = sorted(
            batch, key=lambda p: facilities[p.facility_id][1] if p.facility_id in facilities else ""
        )
        out = []
        for pending in ordered:
            staged = _Staged(pending)
            try:
                self._stage_one(cur, staged, facilities.get(pending.facility_id))
            except (InputError, NotFound, VersionConflict, Conflict, _Moved) as exc:
                staged.error = exc
            out.append(staged)
        cur.close()
        return out

    def _stage_one(self, cur: Any, staged: _Staged, fac: Any) -> None:
        p, sql = staged.pending, self.sql
        if fac is None:
            raise NotFound(messages.UNKNOWN_FACILITY(facility=p.facility_id))
        region = fac[1]
        if sql.lock_region:
            # PostgreSQL: the facility was read before its region was locked. An admin may
            # have moved or deactivated it meanwhile (``membership`` holds every region's lock
            # for that), so it is read again under the lock.
            cur.execute(sql.lock_region, {"r": region})
            cur.execute(sql.placement, {"f": p.facility_id})
            fac = cur.fetchone()
            if fac[1] != region:
                raise _Moved(region)
        if not fac[3]:
            raise deactivated(p.facility_id)
        offered = set(sql.json_list(fac[2]))
        for category, figure in p.update_in.categories.items():
            if category.value not in offered:
                raise InputError(
                    f"categories.{category.value}",
                    messages.CATEGORY_NOT_OFFERED(
                        facility=p.facility_id,
                        category=category.value,
                        offered=", ".join(sorted(offered)),
                    ),
                )
            if figure.available > figure.staffed:
                raise InputError(
                    f"categories.{category.value}.available",
                    messages.AVAILABLE_ABOVE_STAFFED(
                        available=figure.available, staffed=figure.staffed
                    ),
                )
        measured = self._measured(cur, p, region)
        if p.expected_version is not None:
            # Read under the region lock (PostgreSQL: FOR UPDATE, taken above; SQLite holds
            # the database lock), before anything is raised, so a conflict leaves the batch
            # untouched.
            cur.execute(sql.version, {"f": p.facility_id})
            current = cur.fetchone()[0]
            check_version(p.expected_version, current, facility_id=p.facility_id, region=region)
        cur.execute(sql.bump_region, {"r": region})
        seq, green, orange, limit = cur.fetchone()
        cur.execute(sql.bump_facility, {"f": p.facility_id})
        version = cur.fetchone()[0]
        rules = rules_mod.thresholds(_Overrides(green, orange, limit), self.settings).model_dump()
        now = utcnow()
        at = sql.time(now)
        cur.execute(sql.active_stop, {"f": p.facility_id})
        found = cur.fetchone()
        stop = (
            None
            if found is None
            else _StopRow(found[0], sql.read_time(found[1]), sql.read_time(found[2]))
        )
        rows = [
            {
                "f": p.facility_id,
                "c": c.value,
                "a": f.available,
                "s": f.staffed,
                "u": at,
                "by": p.actor,
                "m": sql.time(measured[c.value]) if c.value in measured else None,
            }
            for c, f in p.update_in.categories.items()
        ]
        cur.executemany(sql.upsert_figure, rows)
        cur.executemany(
            sql.insert_change,
            [
                {
                    "at": at,
                    "region": region,
                    "f": p.facility_id,
                    "seq": seq,
                    "version": version,
                    "kind": ChangeKind.figures.name,
                    "c": r["c"],
                    "a": r["a"],
                    "s": r["s"],
                    "actor": p.actor,
                    "status": (Status.stop if stop else rules_mod.colour(r["a"], rules)).name,
                }
                for r in rows
            ],
        )
        detail = {
            "seq": seq,
            "version": version,
            **p.update_in.model_dump(mode="json", exclude_none=True),
        }
        if p.source is not None:
            detail["source"] = p.source
        cur.execute(
            sql.insert_audit,
            {"at": at, "actor": p.actor, "f": p.facility_id, "detail": sql.json(detail)},
        )
        cur.execute(sql.figures, {"f": p.facility_id})
        figures = [
            _FigureRow(c, a, st, sql.read_time(u), st_, by, label, sql.read_time(m))
            for c, a, st, u, st_, by, m, label in cur.fetchall()
        ]
        raw = facility_raw(
            facility_id=p.facility_id,
            version=version,
            offered=offered,
            figures=figures,
            stop=stop,
            updated_by=shown_actor(p.actor, p.facility_id),
        )
        staged.region, staged.seq = region, seq
        staged.entry = rules_mod.render(raw, rules, now)
        staged.raw = orjson.dumps(raw)
        staged.message = facility_message(region, seq, staged.entry)

    def _measured(self, cur: Any, p: _Pending, region: str) -> dict[str, datetime]:
        """When each category's figure was measured, where the sender said: a bed list's
        per category (checked by ``capacity.beds``), else the request's ``measured_at`` for all
        of them if plausible: not ahead of our clock by more than the skew allowed, not past
        the region's freshness limit (stale on arrival). Checked before anything is written, so
        a refusal leaves the batch untouched."""
        measured = dict(p.measured or {})
        given = p.update_in.measured_at
        if given is not None:
            now = utcnow()
            if given > now + timedelta(seconds=MEASURED_SKEW_SECONDS):
                raise InputError(
                    "measured_at", messages.MEASURED_IN_FUTURE(seconds=MEASURED_SKEW_SECONDS)
                )
            cur.execute(self.sql.freshness, {"r": region})
            override = cur.fetchone()[0]
            minutes = override or self.settings.freshness_limit_minutes
            if given <= now - timedelta(minutes=minutes):
                raise InputError("measured_at", messages.MEASURED_TOO_OLD(minutes=minutes))
            for category in p.update_in.categories:
                measured.setdefault(category.value, given)
        now = utcnow()
        # A clock a little ahead counts as now: freshness never starts in the future.
        return {category: min(moment, now) for category, moment in measured.items()}


@dataclass(slots=True)
class _Overrides:
    green_min: int | None
    orange_min: int | None
    freshness_limit_minutes: int | None


class _StopRow(NamedTuple):
    reason: str
    since: datetime
    until: datetime | None


class _FigureRow(NamedTuple):
    category: str
    available: int
    staffed: int
    updated_at: datetime
    stale: bool
    updated_by: str
    key_label: str | None
    measured_at: datetime | None


class SQL(PlainSQL):
    """The figure writer's statements (``capacity.storage.plain``)."""

    def __init__(self, sqlite: bool):
        super().__init__(sqlite)
        named = self.named
        self.bump_region = named(
            "UPDATE region SET seq = seq + 1 WHERE id = :r "
            "RETURNING seq, green_min, orange_min, freshness_limit_minutes"
        )
        self.bump_facility = named(
            "UPDATE facility SET version = version + 1 WHERE id = :f RETURNING version"
        )
        self.lock_region = (
            None if sqlite else named("SELECT id FROM region WHERE id = :r FOR UPDATE")
        )
        self.version = named("SELECT version FROM facility WHERE id = :f")
        self.freshness = named("SELECT freshness_limit_minutes FROM region WHERE id = :r")
        self.placement = named("SELECT id, region, categories, active FROM facility WHERE id = :f")
        self.active_stop = named(
            "SELECT reason, since, until FROM stop WHERE facility_id = :f AND ended_at IS NULL "
            "ORDER BY id DESC LIMIT 1"
        )
        self.upsert_figure = named(
            "INSERT INTO capacity_figure (facility_id, category, available, staffed, "
            "updated_at, updated_by, stale, measured_at) "
            "VALUES (:f, :c, :a, :s, :u, :by, false, :m) "
            "ON CONFLICT (facility_id, category) DO UPDATE SET available = excluded.available, "
            "staffed = excluded.staffed, updated_at = excluded.updated_at, "
            "updated_by = excluded.updated_by, stale = false, measured_at = excluded.measured_at"
        )
        self.insert_change = named(
            "INSERT INTO capacity_change (at, region, facility_id, seq, version, kind, category, "
            "available, staffed, status, actor) "
            "VALUES (:at, :region, :f, :seq, :version, :kind, :c, :a, :s, :status, :actor)"
        )
        self.insert_audit = named(
            "INSERT INTO audit_event (at, actor, action, entity, entity_id, detail) "
            "VALUES (:at, :actor, 'capacity.update', 'facility', :f, :detail)"
        )
        self.figures = named(
            "SELECT f.category, f.available, f.staffed, f.updated_at, f.stale, f.updated_by, "
            "f.measured_at, k.label FROM capacity_figure f "
            # By the key's id alone: a hospital group's key pushes for facilities not its first.
            "LEFT JOIN api_key k ON f.updated_by = 'key:' || CAST(k.id AS VARCHAR(20)) "
            "WHERE f.facility_id = :f"
        )

    def facilities(self, count: int) -> str:
        # Only placeholders are put into the text; the ids are bound.
        marks = self.marks(count)
        return f"SELECT id, region, categories, active FROM facility WHERE id IN ({marks})"  # noqa: S608
