"""Subscriptions, the alerts they fire (also the delivery outbox) and overdue episodes.

No patient data: an alert names a facility, a region or a category and what changed, nothing
about any person.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import StringConstraints
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from capacity.facilities.models import Category, Slug
from capacity.i18n import messages
from capacity.i18n.validation import describe_pattern
from capacity.storage.types import UTCDateTime

TARGET_PATTERN = describe_pattern(
    r"^(?:[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"'`]+)$",
    messages.ALERT_TARGET_FORMAT(),
)
Target = Annotated[str, StringConstraints(min_length=3, max_length=2048, pattern=TARGET_PATTERN)]


class AlertRule(StrEnum):
    """What a subscription watches. ``transfer_request`` (issue 13.1) is added by the transfer
    requests: an event rule, fired with ``service.fire_event`` rather than a state condition."""

    facility_stop = "facility_stop"  # the facility goes on stop
    region_free_below = "region_free_below"  # the region's free beds of a category drop below K
    facility_stale = "facility_stale"  # the facility's figures are marked stale
    overdue = "overdue"  # the facility has no fresh figure at all: a reminder to report
    transfer_request = "transfer_request"  # a transfer request asks the facility's ward


class Channel(StrEnum):
    app = "app"
    email = "email"
    webhook = "webhook"


class DeliveryStatus(StrEnum):
    pending = "pending"  # waiting for its (next) attempt
    sent = "sent"
    dead = "dead"  # every attempt failed: on the dead-letter list until an admin retries it
    dropped = "dropped"  # its subscription was deleted before it went out


class AlertSubscription(SQLModel, table=True):
    __tablename__ = "alert_subscription"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    rule: AlertRule = Field(max_length=24)
    region: str = Field(foreign_key="region.id", index=True, max_length=64)
    facility_id: str | None = Field(default=None, foreign_key="facility.id", max_length=64)
    category: Category | None = Field(default=None, max_length=24)
    threshold: int | None = None
    channel: Channel = Field(max_length=10)
    target: str | None = Field(default=None, max_length=2048)
    # Webhooks only: signs each body (HMAC-SHA256); shown once, kept to sign with.
    # Webhooks: the random salt the signing secret is derived from with the app's secret key
    # (alerts.delivery.webhook_secret); the secret itself is stored nowhere.
    secret: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # type: ignore[call-overload]


class SubscriptionCreate(SQLModel):
    rule: AlertRule
    region: Slug | None = Field(default=None, description="region_free_below: the region watched")
    facility_id: Slug | None = Field(
        default=None, description="facility_stop, facility_stale, overdue"
    )
    category: Category | None = Field(default=None, description="region_free_below")
    threshold: int = Field(
        default=1, ge=1, le=500, description="region_free_below: fires when free beds < this"
    )
    channel: Channel = Channel.app
    # An address or a URL, never a sentence: no spaces, no quotes (checked further per channel).
    target: Target | None = Field(
        default=None, description="email: the address; webhook: an https URL"
    )

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class SubscriptionPublic(SQLModel):
    id: int
    user_id: int
    rule: AlertRule
    region: str
    facility_id: str | None
    category: Category | None
    threshold: int | None
    channel: Channel
    target: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionPublic):
    secret: str | None = Field(
        description="Webhooks: the signing secret, shown once (HMAC-SHA256 of each body)"
    )


class Alert(SQLModel, table=True):
    """One fired alert of one subscription: the user's inbox (``app``) and the outbox row the
    delivery job drains (every channel). Unique per subscription and event: fired once."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("subscription_id", "event_key"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="alert_subscription.id", index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    event_key: str = Field(max_length=160)
    rule: AlertRule = Field(max_length=24)
    channel: Channel = Field(max_length=10)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, max_length=10, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # type: ignore[call-overload]
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # type: ignore[call-overload]


class AlertPublic(SQLModel):
    id: int
    subscription_id: int
    rule: AlertRule
    channel: Channel
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    read_at: datetime | None


class OverdueEpisode(SQLModel, table=True):
    """A facility with no fresh figure, from when; the row goes when it reports again."""

    __tablename__ = "overdue_episode"

    facility_id: str = Field(foreign_key="facility.id", primary_key=True, max_length=64)
    region: str = Field(foreign_key="region.id", index=True, max_length=64)
    since: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]


class OverduePublic(SQLModel):
    facility_id: str
    since: datetime
