"""Regions (ROAZ) and facilities, with the categories of care each offers."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints, ValidationInfo, field_validator
from sqlalchemy import JSON, Column, false
from sqlalchemy.orm import relationship
from sqlmodel import Field, Relationship, SQLModel

from capacity.contacts.models import (
    CONTACT_ORDER,
    PHONE_PATTERN,
    ContactPublic,
    FacilityContact,
)
from capacity.i18n import messages


class Category(StrEnum):
    delivery_room = "delivery_room"
    maternity_bed = "maternity_bed"
    obstetric_high_care = "obstetric_high_care"
    neonatal_high_care = "neonatal_high_care"
    nicu = "nicu"


class FacilityKind(StrEnum):
    perinatal_centre = "perinatal_centre"
    hospital = "hospital"
    birth_centre = "birth_centre"


CATEGORY_ORDER = list(Category)

# SQLModel's ``regex=`` is silently ignored with Pydantic 2; a pattern in schema_extra is enforced.
PHONE = {"pattern": PHONE_PATTERN}
ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
# A region's or facility's id wherever a client sends one (body, query, path): a slug, no text.
Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
# A facility's or city's name as an admin sends it: letters (Latin, with accents), digits and the
# signs names use. Input only: what is stored is answered as it is. ECMA regex, as in the schema.
NAME = {"pattern": r"^[0-9A-Za-z\u00C0-\u024F .,'\u2019&()/+-]+$"}


def default_categories(kind: FacilityKind, has_nicu: bool) -> list[Category]:
    """The contract's defaults: perinatal centre all five, hospital all but NICU, birth centre 2."""
    if kind is FacilityKind.birth_centre:
        return [Category.delivery_room, Category.maternity_bed]
    if kind is FacilityKind.perinatal_centre or has_nicu:
        return list(Category)
    return [c for c in Category if c is not Category.nicu]


class Region(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=120)
    seq: int = Field(default=0, description="Rises by one with every change in the region")
    freshness_limit_minutes: int | None = Field(default=None, description="Overrides the default")
    green_min: int | None = None
    orange_min: int | None = None
    # Whom a midwife calls when a facility has no number (capacity.contacts).
    coordination_phone: str | None = Field(default=None, max_length=32)
    coordination_demo: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Minutes a ward has to answer a transfer request (capacity.transfers); null: the setting
    transfer_deadline_minutes: int | None = None


class RegionPublic(SQLModel):
    id: str
    name: str
    coordination_phone: str | None = None
    coordination_demo: bool = False


class FacilityBase(SQLModel):
    name: str = Field(min_length=2, max_length=160)
    kind: FacilityKind
    city: str = Field(min_length=1, max_length=80)
    lat: float = Field(ge=50.5, le=53.8, description="WGS84 latitude, within the Netherlands")
    lon: float = Field(ge=3.2, le=7.3, description="WGS84 longitude, within the Netherlands")
    has_nicu: bool = False
    phone: str | None = Field(default=None, max_length=32, schema_extra=PHONE)


class Facility(FacilityBase, table=True):
    id: str = Field(primary_key=True, max_length=64)
    region: str = Field(foreign_key="region.id", index=True, max_length=64)
    categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    version: int = Field(default=0, description="Rises by one with every change of the facility")
    active: bool = True
    # Loaded only where asked for (``selectinload``): the hot write path never reads them, and
    # reading them unloaded is an error, never a silent query (async sessions cannot lazy-load).
    contacts: list[FacilityContact] = Relationship(
        sa_relationship=relationship(FacilityContact, lazy="raise", viewonly=True)
    )


class FacilityCreate(FacilityBase):
    name: str = Field(min_length=2, max_length=160, schema_extra=NAME)
    city: str = Field(min_length=1, max_length=80, schema_extra=NAME)
    id: str = Field(min_length=2, max_length=64, schema_extra={"pattern": ID_PATTERN})
    region: str = Field(min_length=1, max_length=64, schema_extra={"pattern": ID_PATTERN})
    categories: list[Category] | None = None

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class FacilityUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=2, max_length=160, schema_extra=NAME)
    city: str | None = Field(default=None, min_length=1, max_length=80, schema_extra=NAME)
    lat: float | None = Field(default=None, ge=50.5, le=53.8)
    lon: float | None = Field(default=None, ge=3.2, le=7.3)
    phone: str | None = Field(default=None, max_length=32, schema_extra=PHONE)
    categories: list[Category] | None = Field(default=None, min_length=1)
    active: bool | None = Field(
        default=None, description="false: the facility leaves the picture and takes no writes"
    )
    region: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        schema_extra={"pattern": ID_PATTERN},
        description="Move the facility to this region (its figures and stop go with it)",
    )

    model_config = {"extra": "forbid"}  # type: ignore[assignment]

    @field_validator("name", "city", "lat", "lon", "categories", "active", "region", mode="before")
    @classmethod
    def _not_null(cls, value: object, info: ValidationInfo) -> object:
        # Leaving a field out keeps it; null would erase what every listing relies on.
        if value is None:
            raise ValueError(messages.NOT_NULL(field=info.field_name))
        return value

    @field_validator("categories")
    @classmethod
    def _unique(cls, value: list[Category] | None) -> list[Category] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(messages.CATEGORIES_REPEAT())
        return value


class FacilityPublic(FacilityBase):
    id: str
    region: str
    categories: list[Category]
    contacts: list[ContactPublic] = Field(
        default_factory=list, description="The numbers to call, by type (capacity.contacts)"
    )

    @field_validator("contacts")
    @classmethod
    def _ward_first(cls, value: list[ContactPublic]) -> list[ContactPublic]:
        return sorted(value, key=lambda c: CONTACT_ORDER.index(c.type))

    active: bool = True
