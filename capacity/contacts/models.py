"""A facility's phone numbers by type (no names, no free text) and the shapes the API speaks."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, field_validator
from sqlmodel import Field, SQLModel

from capacity.i18n import messages

# The one phone rule of the service (facilities.models.PHONE uses it too): digits, spaces,
# brackets and dashes after an optional +; and enough digits to be dialled at all.
PHONE_PATTERN = r"^\+?[0-9 ()-]{6,31}$"
PHONE_DIGITS = (6, 15)  # E.164 allows at most 15 digits


class ContactType(StrEnum):
    """Which desk answers: the delivery ward, neonatology, or the stop/capacity coordinator."""

    verloskunde = "verloskunde"
    neonatologie = "neonatologie"
    coordinator = "coordinator"


CONTACT_ORDER = list(ContactType)


def dialable(phone: str) -> str:
    """The number as given, if it has a dialable count of digits; else a ValueError."""
    digits = len(re.sub(r"\D", "", phone))
    low, high = PHONE_DIGITS
    if not low <= digits <= high:
        raise ValueError(f"a phone number has {low} to {high} digits, this one {digits}")
    return phone


Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=32, pattern=PHONE_PATTERN),
    AfterValidator(dialable),
]


class FacilityContact(SQLModel, table=True):
    """One number of a facility; at most one per type (the primary key says so)."""

    __tablename__ = "facility_contact"

    facility_id: str = Field(foreign_key="facility.id", primary_key=True, max_length=64)
    type: ContactType = Field(primary_key=True, max_length=20)
    phone: str = Field(max_length=32)
    demo: bool = Field(default=False, description="A made-up number of the demo data: never dial")


class ContactIn(SQLModel):
    type: ContactType
    phone: Phone = Field(description="e.g. +31 10 703 0000; digits, spaces, ( ) and - only")
    demo: bool = False

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class ContactPublic(SQLModel):
    type: ContactType
    phone: str
    demo: bool = False


class ContactsIn(SQLModel):
    """The whole set of a facility's numbers; what is not in it is removed."""

    contacts: list[ContactIn] = Field(max_length=len(ContactType))

    model_config = {"extra": "forbid"}  # type: ignore[assignment]

    @field_validator("contacts")
    @classmethod
    def _one_per_type(cls, value: list[ContactIn]) -> list[ContactIn]:
        types = [c.type for c in value]
        if len(set(types)) != len(types):
            raise ValueError(messages.CONTACT_TYPE_TWICE())
        return value


class FacilityContacts(SQLModel):
    facility_id: str
    contacts: list[ContactPublic]


class CoordinationIn(SQLModel):
    """A region's number for "whom to call instead"; null removes it."""

    phone: Phone | None
    demo: bool = False

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class RegionCoordination(SQLModel):
    region_id: str
    coordination_phone: str | None
    coordination_demo: bool


class ImportResult(SQLModel):
    facilities: int = Field(description="Facilities whose set of numbers the file replaced")
    contacts: int = Field(description="Numbers stored")
