"""Transfer requests: one request sent to several wards at once; the first accept places it.

A request holds only closed-list facts (category, request type, gestational-age band, urgency)
and a coarse origin (a position rounded to 0.01 degree, about a kilometre, or a city): nothing
that identifies the woman. ``created_by`` is the asking account (only it and admins see the
request). Each ward asked has one ``TransferOffer``; its status is the ward's answer.

Who wins is decided in SQL: an accept changes the request with one conditional UPDATE
(``WHERE status = 'open'``) in the transaction that accepts the offer, so exactly one accept
can place a request, whichever process it reached (``service.accept``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field as PydField
from pydantic import StringConstraints
from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from capacity.facilities.models import NAME, Category, Slug
from capacity.refusals.models import GestationalAgeBand, RefusalReason, RequestType
from capacity.storage.types import UTCDateTime

MAX_WARDS = 8
DEFAULT_WARDS = 3
REACH_MINUTES = 45  # Dutch policy: acute obstetrics within 45 minutes (frontend/js/filters.js)


class Urgency(StrEnum):
    """``acute`` is never stored: the standing rule is to go to the nearest hospital and call."""

    acute = "acute"
    sub_acute = "sub_acute"
    non_acute = "non_acute"


class TransferStatus(StrEnum):
    open = "open"
    placed = "placed"
    cancelled = "cancelled"
    exhausted = "exhausted"  # every ward asked declined or let the deadline pass


class OfferStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"  # another ward accepted first, or the request was cancelled


Lat = Annotated[float, PydField(ge=50.5, le=53.8, description="WGS84, within the Netherlands")]
Lon = Annotated[float, PydField(ge=3.2, le=7.3, description="WGS84, within the Netherlands")]
City = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=NAME["pattern"])]


class TransferRequest(SQLModel, table=True):
    __tablename__ = "transfer_request"
    __table_args__ = (Index("ix_transfer_request_region_created_at", "region", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_by: int = Field(index=True, description="Account id of the asker; never exported")
    region: str = Field(foreign_key="region.id", max_length=64)
    category: Category = Field(sa_type=String(32))  # type: ignore[call-overload]
    request_type: RequestType = Field(sa_type=String(24))  # type: ignore[call-overload]
    ga_band: GestationalAgeBand | None = Field(default=None, sa_type=String(8))  # type: ignore[call-overload]
    urgency: Urgency = Field(sa_type=String(10))  # type: ignore[call-overload]
    origin_lat: float | None = None
    origin_lon: float | None = None
    origin_city: str | None = Field(default=None, max_length=80)
    status: TransferStatus = Field(default=TransferStatus.open, sa_type=String(10))  # type: ignore[call-overload]
    created_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    placed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # type: ignore[call-overload]
    placed_facility_id: str | None = Field(default=None, foreign_key="facility.id", max_length=64)
    deadline_minutes: int
    # Groups the refusal records made from this request's answers (``Refusal.episode``).
    episode: str = Field(max_length=32)


class TransferOffer(SQLModel, table=True):
    __tablename__ = "transfer_offer"
    __table_args__ = (
        UniqueConstraint("request_id", "facility_id", name="uq_transfer_offer_request_facility"),
        Index("ix_transfer_offer_facility_status", "facility_id", "status"),
        Index("ix_transfer_offer_status_deadline", "status", "deadline_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="transfer_request.id", index=True)
    facility_id: str = Field(foreign_key="facility.id", max_length=64)
    sent_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    deadline_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    status: OfferStatus = Field(default=OfferStatus.pending, sa_type=String(10))  # type: ignore[call-overload]
    reason: RefusalReason | None = Field(default=None, sa_type=String(24))  # type: ignore[call-overload]
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # type: ignore[call-overload]
    answered_by: int | None = Field(default=None, description="Account id; never exported")


class TransferCreate(SQLModel):
    category: Category
    request_type: RequestType
    ga_band: GestationalAgeBand | None = None
    urgency: Urgency
    lat: Lat | None = None
    lon: Lon | None = None
    city: City | None = None
    facilities: list[Slug] | None = Field(
        default=None,
        description=f"The wards to ask (1 to {MAX_WARDS}); default the first "
        f"{DEFAULT_WARDS} of the proposal",
    )

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class OffersCreate(SQLModel):
    facilities: list[Slug] = Field(description=f"Further wards to ask (1 to {MAX_WARDS})")

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class Decline(SQLModel):
    reason: RefusalReason = Field(description="A refusal reason (no_answer is the service's)")

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class ProposedWard(SQLModel):
    facility_id: str
    name: str
    city: str
    region: str
    status: str = Field(description="green or orange")
    available: int
    minutes: int = Field(description="Estimated drive: straight line x 1.3 at 60 km/h")
    within_reach: bool = Field(description=f"Within {REACH_MINUTES} minutes")


class Proposal(SQLModel):
    category: Category
    wards: list[ProposedWard]


class OfferPublic(SQLModel):
    id: int
    request_id: int
    facility_id: str
    status: OfferStatus
    sent_at: datetime
    deadline_at: datetime
    reason: RefusalReason | None
    answered_at: datetime | None


class TransferPublic(SQLModel):
    id: int
    region: str
    category: Category
    request_type: RequestType
    ga_band: GestationalAgeBand | None
    urgency: Urgency
    origin_lat: float | None
    origin_lon: float | None
    origin_city: str | None
    status: TransferStatus
    created_at: datetime
    placed_at: datetime | None
    placed_facility_id: str | None
    placed_phone: str | None = Field(default=None, description="The placing ward's number")
    deadline_minutes: int
    offers: list[OfferPublic]


class WardOffer(OfferPublic):
    """An offer as the ward asked sees it: the request's closed-list facts, no origin."""

    category: Category
    request_type: RequestType
    ga_band: GestationalAgeBand | None
    urgency: Urgency
    minutes: int | None = Field(description="Estimated drive from the origin to the ward")


class AcceptResult(SQLModel):
    request: TransferPublic
    offer: OfferPublic
    phone: str | None = Field(description="The accepting ward's number, for the handover call")


class WeekStats(SQLModel):
    week: str = Field(description="ISO week (local time), e.g. 2026-W49")
    requests: int
    placed: int
    median_minutes_to_acceptance: float | None
    share_placed_at_first_ward: float | None
    wards_asked_per_request: float | None


class TransferStats(SQLModel):
    region: str | None
    weeks: list[WeekStats]
