"""Imports every table, so that SQLModel.metadata (and Alembic) knows the whole schema."""

from capacity.alerts.models import Alert, AlertSubscription, OverdueEpisode
from capacity.audit.models import AuditEvent
from capacity.auth.models import ApiKey, User
from capacity.availability.models import CapacityChange, CapacityFigure, Stop
from capacity.beds.models import BedImport, WardMapping
from capacity.contacts.models import FacilityContact
from capacity.facilities.models import Facility, Region
from capacity.refusals.models import Episode, Refusal
from capacity.reporting.models import CapacityDaily, CapacityDailyState, RefusalReport
from capacity.transfers.models import TransferOffer, TransferRequest

__all__ = [
    "Alert",
    "AlertSubscription",
    "ApiKey",
    "AuditEvent",
    "BedImport",
    "CapacityChange",
    "CapacityDaily",
    "CapacityDailyState",
    "CapacityFigure",
    "Episode",
    "Facility",
    "FacilityContact",
    "OverdueEpisode",
    "Refusal",
    "RefusalReport",
    "Region",
    "Stop",
    "TransferOffer",
    "TransferRequest",
    "User",
    "WardMapping",
]
