"""Group commit for new transfer requests: a burst of requests shares one transaction.

Every midwife of a region may press "send" in the same minute (a disaster, a closed hospital).
Concurrent ``POST /transfers`` are queued and written by one task per process, in batches that
share one transaction, run on the writer's own thread with plain SQL on the driver's cursor
(``capacity.storage.plain``): the ORM's statements, each a thread hop under the write lock, were
most of a request's cost. After the commit the batch's messages go to Redis in one pipeline.

A request whose wards fail the checks gets its 422 and leaves the rest of the batch alone. A
database error in a batch of several rolls it back and writes each request alone, so one request
cannot fail another; a request is answered only after its transaction committed.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from capacity.alerts.models import AlertRule, DeliveryStatus
from capacity.auth.models import Principal
from capacity.errors import InputError, Unavailable
from capacity.i18n import messages
from capacity.settings import Settings
from capacity.storage.db import Database
from capacity.storage.group_commit import GroupCommitWriter
from capacity.storage.plain import PlainSQL
from capacity.transfers import alerting, live
from capacity.transfers.models import (
    OfferStatus,
    TransferCreate,
    TransferOffer,
    TransferRequest,
    TransferStatus,
)
from capacity.transfers.proposal import drive_minutes
from capacity.transfers.service import check_wards

log = logging.getLogger(__name__)

DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, psycopg.Error)

REQUEST_COLUMNS = (
    "created_by, region, category, request_type, ga_band, urgency, origin_lat, origin_lon, "
    "origin_city, status, created_at, deadline_minutes, episode"
)
OFFER_COLUMNS = "request_id, facility_id, sent_at, deadline_at, status"


class _Ward(NamedTuple):
    id: str
    region: str
    active: bool
    categories: list[str]
    lat: float
    lon: float
    name: str


@dataclass
class Created:
    """A committed request: as answered, and how many alerts it queued."""

    request: dict[str, Any]
    alerts: int


@dataclass
class _Pending:
    transfer_in: TransferCreate
    ids: list[str]
    where: tuple[float, float, str | None]
    principal: Principal
    now: datetime
    future: asyncio.Future[Created]


def _z(moment: datetime) -> str:
    """An aware UTC time as the API writes it (pydantic's form: ``...T08:07:18.123456Z``)."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class _Written:
    """One request of a batch: its rows' values, then its ids, and its messages.

    Its JSON is put together here rather than through ``TransferPublic`` and ``WardOffer``
    (a tenth of a request's CPU in a burst); ``tests/transfers/test_transfer_writer.py`` holds
    it equal to what the models give (``models``) for the same rows."""

    pending: _Pending
    region: str
    wards: dict[str, _Ward]
    episode: str = field(default_factory=lambda: secrets.token_hex(16))
    deadline_minutes: int = 0  # the region's, read under the lock
    id: int = 0
    offer_ids: dict[str, int] = field(default_factory=dict)  # ward -> its offer's id
    alerts: int = 0

    @property
    def deadline_at(self) -> datetime:
        return self.pending.now + timedelta(minutes=self.deadline_minutes)

    def _offer(self, facility_id: str) -> dict[str, Any]:
        return {
            "id": self.offer_ids[facility_id],
            "request_id": self.id,
            "facility_id": facility_id,
            "status": OfferStatus.pending.value,
            "sent_at": _z(self.pending.now),
            "deadline_at": _z(self.deadline_at),
            "reason": None,
            "answered_at": None,
        }

    def as_json(self) -> dict[str, Any]:
        """The request as ``TransferPublic`` shows it."""
        t, (lat, lon, city) = self.pending.transfer_in, self.pending.where
        return {
            "id": self.id,
            "region": self.region,
            "category": t.category.value,
            "request_type": t.request_type.value,
            "ga_band": t.ga_band.value if t.ga_band else None,
            "urgency": t.urgency.value,
            "origin_lat": lat,
            "origin_lon": lon,
            "origin_city": city,
            "status": TransferStatus.open.value,
            "created_at": _z(self.pending.now),
            "placed_at": None,
            "placed_facility_id": None,
            "placed_phone": None,
            "deadline_minutes": self.deadline_minutes,
            "offers": [self._offer(f) for f in self.pending.ids],
        }

    def messages(self, shown: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """As ``live.messages_of``: the request to its channels, each offer to its ward's."""
        t, (lat, lon, _) = self.pending.transfer_in, self.pending.where
        facts = {
            "category": t.category.value,
            "request_type": t.request_type.value,
            "ga_band": t.ga_band.value if t.ga_band else None,
            "urgency": t.urgency.value,
        }
        offered = []
        for offer in shown["offers"]:
            ward = self.wards[offer["facility_id"]]
            minutes = drive_minutes(lat, lon, ward.lat, ward.lon)
            offered.append({**offer, **facts, "minutes": minutes})
        return live.addressed(self.id, self.pending.principal.id, shown, offered)

    def models(self) -> tuple[TransferRequest, list[TransferOffer]]:
        """The rows as the ORM reads them back."""
        t, (lat, lon, city) = self.pending.transfer_in, self.pending.where
        request = TransferRequest(
            id=self.id,
            created_by=self.pending.principal.id,
            region=self.region,
            category=t.category,
            request_type=t.request_type,
            ga_band=t.ga_band,
            urgency=t.urgency,
            origin_lat=lat,
            origin_lon=lon,
            origin_city=city,
            created_at=self.pending.now,
            deadline_minutes=self.deadline_minutes,
            episode=self.episode,
        )
        offers = [
            TransferOffer(
                id=self.offer_ids[f],
                request_id=self.id,
                facility_id=f,
                sent_at=self.pending.now,
                deadline_at=self.deadline_at,
                status=OfferStatus.pending,
            )
            for f in self.pending.ids
        ]
        return request, offers


class TransferWriter(GroupCommitWriter[_Pending]):
    """One per process and database (``TransferWriter.of``): queues new requests and writes
    them in batches."""

    name = "transfer-writer"

    def __init__(self, db: Database, redis: Any, settings: Settings):
        super().__init__(db)
        self.redis, self.settings = redis, settings
        self.sql = SQL(db.is_sqlite)

    async def submit(
        self,
        *,
        transfer_in: TransferCreate,
        ids: list[str],
        where: tuple[float, float, str | None],
        principal: Principal,
        now: datetime,
    ) -> Created:
        """Write the request with an offer to each ward in ``ids``; answered once committed
        and announced."""
        future: asyncio.Future[Created] = asyncio.get_running_loop().create_future()
        await self.queued(_Pending(transfer_in, ids, where, principal, now, future))
        return await future

    async def _write(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with self.db.write_lock():
                outcome = await loop.run_in_executor(self.thread, self._transact, batch)
        except DATABASE_ERRORS as exc:
            if len(batch) > 1:
                for pending in batch:  # each alone: one request cannot fail the others
                    await self._write([pending])
                return
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            log.error("transfer request not written: %s: %s", type(exc).__name__, first)
            batch[0].future.set_exception(Unavailable(messages.DATABASE_REFUSED()))
            return
        answers = {id(w): w.as_json() for w in outcome if isinstance(w, _Written)}
        await live.publish(
            self.redis,
            [m for w in outcome if isinstance(w, _Written) for m in w.messages(answers[id(w)])],
        )
        for pending, result in zip(batch, outcome, strict=True):
            if isinstance(result, _Written):
                pending.future.set_result(Created(answers[id(result)], result.alerts))
            else:
                pending.future.set_exception(result)

    # ---- on the writer thread ----------------------------------------------------------------

    def _transact(self, batch: list[_Pending]) -> list[_Written | InputError]:
        with self.engine.connect() as conn:
            conn.begin()
            try:
                outcome = self._stage(conn.connection.driver_connection, batch)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        return outcome

    def _stage(self, driver: Any, batch: list[_Pending]) -> list[_Written | InputError]:
        sql, cur = self.sql, driver.cursor()
        try:
            ids = sorted({i for p in batch for i in p.ids})
            found: dict[str, _Ward] = {}
            if ids:
                cur.execute(sql.wards(len(ids)), ids)
                for row in cur.fetchall():
                    found[row[0]] = _Ward(
                        row[0], row[1], bool(row[2]), sql.json_list(row[3]), *row[4:]
                    )
            outcome: list[_Written | InputError] = []
            for pending in batch:
                try:
                    check_wards(pending.ids, found, pending.transfer_in.category.value, set())
                except InputError as exc:
                    outcome.append(exc)
                    continue
                wards = {i: found[i] for i in pending.ids}
                outcome.append(_Written(pending, found[pending.ids[0]].region, wards))
            written = [w for w in outcome if isinstance(w, _Written)]
            if written:
                self._deadlines(cur, written)
                self._insert_requests(cur, written)
                self._insert_offers(cur, written)
                self._audit(cur, written)
                self._alerts(cur, written)
            return outcome
        finally:
            cur.close()

    def _deadlines(self, cur: Any, written: list[_Written]) -> None:
        regions = sorted({w.region for w in written})
        cur.execute(self.sql.deadlines(len(regions)), regions)
        minutes = dict(cur.fetchall())
        for w in written:
            w.deadline_minutes = minutes.get(w.region) or self.settings.transfer_deadline_minutes

    def _insert_requests(self, cur: Any, written: list[_Written]) -> None:
        sql, values = self.sql, []
        for w in written:
            t, (lat, lon, city) = w.pending.transfer_in, w.pending.where
            values += [
                w.pending.principal.id,
                w.region,
                t.category.value,
                t.request_type.value,
                t.ga_band.value if t.ga_band else None,
                t.urgency.value,
                lat,  # coarse; for a city, its facilities' centre
                lon,
                city,
                TransferStatus.open.value,
                sql.time(w.pending.now),
                w.deadline_minutes,
                w.episode,
            ]
        cur.execute(sql.insert_rows("transfer_request", REQUEST_COLUMNS, 13, len(written)), values)
        ids = {episode: id_ for id_, episode in cur.fetchall()}
        for w in written:
            w.id = ids[w.episode]

    def _insert_offers(self, cur: Any, written: list[_Written]) -> None:
        sql, values = self.sql, []
        for w in written:
            sent, deadline = sql.time(w.pending.now), sql.time(w.deadline_at)
            for facility_id in w.pending.ids:
                values += [w.id, facility_id, sent, deadline, OfferStatus.pending.value]
        count = len(values) // 5
        matched_by = "request_id, facility_id"
        cur.execute(sql.insert_rows("transfer_offer", OFFER_COLUMNS, 5, count, matched_by), values)
        ids = {(request_id, facility_id): id_ for id_, request_id, facility_id in cur.fetchall()}
        for w in written:
            w.offer_ids = {f: ids[(w.id, f)] for f in w.pending.ids}

    def _audit(self, cur: Any, written: list[_Written]) -> None:
        sql = self.sql
        rows = [
            {
                "at": sql.time(w.pending.now),
                "actor": w.pending.principal.actor,
                "entity_id": str(w.id),
                "detail": sql.json(
                    {
                        "status": TransferStatus.open.value,
                        "offers": [{"id": w.offer_ids[f], "facility_id": f} for f in w.pending.ids],
                    }
                ),
            }
            for w in written
        ]
        cur.executemany(sql.insert_audit, rows)

    def _alerts(self, cur: Any, written: list[_Written]) -> None:
        """The ``transfer_request`` alerts of the new offers (``capacity.transfers.alerting``),
        in the same transaction: they land with the offers or not at all."""
        sql = self.sql
        wards = sorted({f for w in written for f in w.pending.ids})
        cur.execute(sql.watchers(len(wards)), [AlertRule.transfer_request.value, *wards])
        watchers: dict[str, list[tuple[int, int, str]]] = {}
        for sub_id, user_id, channel, facility_id in cur.fetchall():
            watchers.setdefault(facility_id, []).append((sub_id, user_id, channel))
        if not watchers:
            return  # the usual case: one query, nothing to tell
        rows = []
        for w in written:
            if not watchers.keys() & w.offer_ids.keys():
                continue
            request, offers = w.models()
            for offer in offers:
                subs = watchers.get(offer.facility_id, [])
                name = w.wards[offer.facility_id].name
                payload = sql.json(alerting.payload(request, offer, name, w.pending.now))
                for sub_id, user_id, channel in subs:
                    rows.append(
                        {
                            "sub": sub_id,
                            "user": user_id,
                            "key": alerting.event_key(offer),
                            "rule": AlertRule.transfer_request.value,
                            "channel": channel,
                            "payload": payload,
                            "status": DeliveryStatus.pending.value,
                            "at": sql.time(w.pending.now),
                        }
                    )
                w.alerts += len(subs)
        cur.executemany(sql.insert_alert, rows)


class SQL(PlainSQL):
    """The transfer writer's statements."""

    def __init__(self, sqlite: bool):
        super().__init__(sqlite)
        self.insert_audit = self.named(
            "INSERT INTO audit_event (at, actor, action, entity, entity_id, detail) "
            "VALUES (:at, :actor, 'transfer.create', 'transfer_request', :entity_id, :detail)"
        )
        self.insert_alert = self.named(
            "INSERT INTO alert (subscription_id, user_id, event_key, rule, channel, payload, "
            "status, attempts, next_attempt_at, created_at) "
            "VALUES (:sub, :user, :key, :rule, :channel, :payload, :status, 0, :at, :at)"
        )

    def wards(self, count: int) -> str:
        return (
            "SELECT id, region, active, categories, lat, lon, name FROM facility "  # noqa: S608
            f"WHERE id IN ({self.marks(count)})"
        )

    def deadlines(self, count: int) -> str:
        return (
            "SELECT id, transfer_deadline_minutes FROM region "  # noqa: S608
            f"WHERE id IN ({self.marks(count)})"
        )

    def watchers(self, count: int) -> str:
        return (
            "SELECT id, user_id, channel, facility_id FROM alert_subscription "  # noqa: S608
            f"WHERE rule = {self.marks(1)} AND deleted_at IS NULL "
            f"AND facility_id IN ({self.marks(count)})"
        )

    def insert_rows(
        self, table: str, columns: str, width: int, rows: int, returning: str = "episode"
    ) -> str:
        """One INSERT of ``rows`` rows, returning each row's id (and ``returning``, to match
        the ids to the rows: RETURNING has no set order)."""
        one = f"({self.marks(width)})"
        values = ", ".join([one] * rows)
        return f"INSERT INTO {table} ({columns}) VALUES {values} RETURNING id, {returning}"  # noqa: S608
