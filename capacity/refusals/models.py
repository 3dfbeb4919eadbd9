"""Refusals (weigeringen) and accepted transfers: a structured record, never free text.

A record holds when the call happened, the facility and category asked for, closed-list facts
about the request, what the regional picture showed at recording time (``shown_*``) and, later,
the outcome. It holds nothing that identifies the woman. ``recorded_by`` (the account id of the
recording midwife) exists only for the 24-hour amendment rule and is never exported.

``client_key`` is a random UUID the recording phone makes when she taps, so that a record sent
again (a queue flushed twice, an answer lost on the way) is stored once: unique per recorder.

``decision`` is ``refused`` by default; ``accepted`` records a transfer the facility took, so
that a refusal rate per facility can be computed (refused / (refused + accepted)). An accepted
record has no ``reason``.

The ``occurred_*`` bucket columns are the call's local time (Europe/Amsterdam), computed once
when the record is written, so that statistics group by plain columns on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, StrictInt, model_validator
from pydantic import Field as PydField
from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from capacity.availability.models import Status, StopReason
from capacity.facilities.models import Category, Slug
from capacity.i18n import messages
from capacity.storage.types import UTCDateTime


class RequestType(StrEnum):
    non_medical = "non_medical"
    medical = "medical"
    acute = "acute"
    antenatal_transfer = "antenatal_transfer"
    neonatal_transfer = "neonatal_transfer"


class RefusalReason(StrEnum):
    no_bed = "no_bed"
    no_nurse = "no_nurse"
    no_obstetrician = "no_obstetrician"
    neonatal_full = "neonatal_full"
    stop = "stop"
    other = "other"
    # The service's, when a ward let a transfer request's deadline pass (capacity.transfers)
    no_answer = "no_answer"


class GestationalAgeBand(StrEnum):
    under_24 = "<24"
    w24_27 = "24-27"
    w28_31 = "28-31"
    w32_33 = "32-33"
    w34_36 = "34-36"
    term = ">=37"


class Indication(StrEnum):
    """Why the transfer was asked for (a short fixed list from the domain brief)."""

    pain_relief = "pain_relief"
    meconium = "meconium"
    failure_to_progress = "failure_to_progress"
    hypertension = "hypertension"  # incl. pre-eclampsia
    preterm_rupture_of_membranes = "preterm_rupture_of_membranes"
    threatened_preterm_birth = "threatened_preterm_birth"
    fetal_distress = "fetal_distress"
    blood_loss = "blood_loss"
    neonatal_condition = "neonatal_condition"
    other = "other"


class Decision(StrEnum):
    refused = "refused"
    accepted = "accepted"


class Outcome(StrEnum):
    placed = "placed"
    placed_outside_region = "placed_outside_region"
    home_birth = "home_birth"  # born at home unwillingly
    birth_en_route = "birth_en_route"
    unknown = "unknown"


OUTCOME_INDEX = [
    "region",
    "occurred_on",
    "episode",
    "id",
    "outcome_at",
    "outcome",
    "placed_outside_region",
    "calls_until_placement",
    "minutes_until_placement",
]
SHOWN_AVAILABLE = (Status.green.value, Status.orange.value)
# 128 random bits from the server (POST /api/v1/episodes), so that no name fits in it
EPISODE_PATTERN = r"^[0-9a-f]{32}$"
Count = Annotated[StrictInt, PydField(ge=0, le=1000)]
EpisodeToken = Annotated[
    str,
    PydField(
        pattern=EPISODE_PATTERN,
        min_length=32,
        max_length=32,
        description="A token from POST /api/v1/episodes, issued to the caller: groups one search",
    ),
]
Minutes = Annotated[StrictInt, PydField(ge=0, le=7 * 24 * 60)]
# A random (version 4) UUID in its usual lowercase text form: 122 random bits, nothing typed.
CLIENT_KEY_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
ClientKey = Annotated[
    str,
    PydField(
        pattern=CLIENT_KEY_PATTERN,
        min_length=36,
        max_length=36,
        description="A random UUID (v4) the client makes once per record: a repeated POST with "
        "the same key answers the stored record instead of storing a second one",
    ),
]


class RefusalBase(SQLModel):
    occurred_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    facility_id: str = Field(foreign_key="facility.id", max_length=64)
    category: Category = Field(sa_type=String(32))  # type: ignore[call-overload]
    # null = not recorded (the 3-tap flow makes it optional); statistics call it "unknown"
    request_type: RequestType | None = Field(default=None, sa_type=String(24))  # type: ignore[call-overload]
    reason: RefusalReason | None = Field(default=None, sa_type=String(24))  # type: ignore[call-overload]
    decision: Decision = Field(default=Decision.refused, sa_type=String(10))  # type: ignore[call-overload]
    gestational_age_band: GestationalAgeBand | None = Field(default=None, sa_type=String(8))  # type: ignore[call-overload]
    indication: Indication | None = Field(default=None, sa_type=String(40))  # type: ignore[call-overload]
    episode: str | None = Field(default=None, max_length=64, index=True)
    client_key: str | None = Field(default=None, max_length=36)


class Refusal(RefusalBase, table=True):
    __table_args__ = (
        # Statistics read capacity.reporting.models.RefusalDaily (kept by triggers, migration
        # 0003); what cannot be summed per day is read from these partial indexes only.
        Index("ix_refusal_region_occurred_on", "region", "occurred_on"),
        Index(
            "ix_refusal_searches",
            "region",
            "occurred_on",
            "episode",
            sqlite_where=text("decision = 'refused' AND episode IS NOT NULL"),
            postgresql_where=text("decision = 'refused' AND episode IS NOT NULL"),
        ),
        Index(
            "ix_refusal_outcomes",
            *OUTCOME_INDEX,
            sqlite_where=text("outcome IS NOT NULL"),
            postgresql_where=text("outcome IS NOT NULL"),
        ),
        Index("ix_refusal_facility_occurred_on", "facility_id", "occurred_on"),
        Index("ix_refusal_recorded_by_occurred_at", "recorded_by", "occurred_at"),
        # One record per tap: a client key repeated by the same account names the same record.
        Index("ux_refusal_recorded_by_client_key", "recorded_by", "client_key", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    region: str = Field(foreign_key="region.id", max_length=64)
    recorded_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    recorded_by: int = Field(description="Account id, for the 24 h rule; never exported")
    occurred_on: date
    occurred_hour: int
    occurred_weekday: int = Field(description="0 = Monday")
    occurred_week: str = Field(max_length=8, description="ISO week, e.g. 2026-W40")
    occurred_month: str = Field(max_length=7, description="e.g. 2026-10")
    shown_status: Status = Field(sa_type=String(10))  # type: ignore[call-overload]
    shown_stale: bool = False
    shown_stop_reason: StopReason | None = Field(default=None, sa_type=String(10))  # type: ignore[call-overload]
    shown_available: int | None = None
    shown_staffed: int | None = None
    outcome: Outcome | None = Field(default=None, sa_type=String(24))  # type: ignore[call-overload]
    placed_facility_id: str | None = Field(default=None, foreign_key="facility.id", max_length=64)
    placed_outside_region: bool | None = None
    calls_until_placement: int | None = None
    minutes_until_placement: int | None = None
    outcome_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # type: ignore[call-overload]


class RefusalCreate(SQLModel):
    occurred_at: AwareDatetime
    facility_id: Slug
    category: Category
    request_type: RequestType | None = None
    reason: RefusalReason | None = None
    decision: Decision = Decision.refused
    gestational_age_band: GestationalAgeBand | None = None
    indication: Indication | None = None
    episode: EpisodeToken | None = None
    client_key: ClientKey | None = None

    model_config = {"extra": "forbid"}  # type: ignore[assignment]

    @model_validator(mode="after")
    def _reason_fits_decision(self) -> RefusalCreate:
        if self.decision is Decision.refused and self.reason is None:
            raise ValueError(messages.REASON_REQUIRED())
        if self.decision is Decision.accepted and self.reason is not None:
            raise ValueError(messages.ACCEPTED_HAS_NO_REASON())
        return self


class Episode(SQLModel, table=True):
    """A search's token, issued by the server: random, so it can say nothing about the woman."""

    token: str = Field(primary_key=True, min_length=32, max_length=32)
    issued_by: int = Field(description="Account id; only this account may record with it")
    issued_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    expires_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]


class EpisodePublic(SQLModel):
    episode: str = Field(description="32 lowercase hex digits (128 random bits)")
    expires_at: datetime


class RefusalUpdate(SQLModel):
    outcome: Outcome
    placed_facility_id: Slug | None = None
    calls_until_placement: Count | None = None
    minutes_until_placement: Minutes | None = None

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class RefusalPublic(RefusalBase):
    id: int
    region: str
    recorded_at: datetime
    shown_status: Status
    shown_stale: bool
    shown_stop_reason: StopReason | None
    shown_available: int | None
    shown_staffed: int | None
    outcome: Outcome | None
    placed_facility_id: str | None
    placed_outside_region: bool | None
    calls_until_placement: int | None
    minutes_until_placement: int | None
    outcome_at: datetime | None


class RefusalMine(RefusalPublic):
    """One of the caller's own records, with the ends of its undo and amendment windows."""

    undo_until: datetime
    outcome_editable_until: datetime


class RefusalMineList(SQLModel):
    items: list[RefusalMine]


EXPORT_COLUMNS = [
    "id",
    "occurred_at",
    "region",
    "facility_id",
    "category",
    "request_type",
    "reason",
    "decision",
    "gestational_age_band",
    "indication",
    "episode",
    "shown_status",
    "shown_stale",
    "shown_stop_reason",
    "shown_available",
    "shown_staffed",
    "outcome",
    "placed_facility_id",
    "placed_outside_region",
    "calls_until_placement",
    "minutes_until_placement",
    "recorded_at",
    "outcome_at",
]


def public(refusal: Refusal) -> dict[str, Any]:
    """The record as JSON, without the recording account."""
    return RefusalPublic.model_validate(refusal).model_dump(mode="json")
