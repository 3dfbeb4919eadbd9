"""Accounts, roles and the API keys of hospitals' systems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from capacity.facilities.models import Slug
from capacity.storage.types import UTCDateTime


class Role(StrEnum):
    midwife = "midwife"
    facility_staff = "facility_staff"
    analyst = "analyst"
    admin = "admin"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=80)
    password_hash: str = Field(max_length=255)
    role: Role = Field(max_length=20)
    facility_id: str | None = Field(default=None, foreign_key="facility.id", max_length=64)
    region_id: str | None = Field(default=None, foreign_key="region.id", max_length=64)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    # Raised by every revocation of the account's tokens (deactivation, a new password): a token
    # carries the value it was issued under and is refused once the account's is higher, so
    # reactivating an account does not bring its old tokens back.
    token_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class UserCreate(SQLModel):
    username: str = Field(
        min_length=3, max_length=80, schema_extra={"pattern": r"^[A-Za-z0-9._@-]+$"}
    )
    password: str = Field(min_length=8, max_length=200)  # PASSWORD_MIN, PASSWORD_MAX
    role: Role
    facility_id: str | None = None
    region_id: str | None = None

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


PASSWORD_MIN, PASSWORD_MAX = 8, 200


class PasswordChange(SQLModel):
    """A signed-in account's own new password; the current one proves it is its owner."""

    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class PasswordReset(SQLModel):
    """A new password an admin sets for an account (passed on to its owner out of band)."""

    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class LockoutLifted(SQLModel):
    username: str
    cleared: int = Field(description="Failure counters removed (0: the account was not locked)")


class AddressLockoutLifted(SQLModel):
    address: str
    cleared: int = Field(description="1: the address was counting failures, 0: it was not")


class UserUpdate(SQLModel):
    active: bool = Field(description="false takes the account's access away at once")

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class UserPublic(SQLModel):
    id: int
    username: str
    role: Role
    facility_id: str | None
    region_id: str | None
    active: bool


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    facility_id: str = Field(foreign_key="facility.id", index=True, max_length=64)
    prefix: str = Field(max_length=16, description="First characters, to recognise a key")
    key_hash: str = Field(unique=True, index=True, max_length=64)
    label: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(sa_type=UTCDateTime())  # type: ignore[call-overload]
    created_by: str = Field(max_length=80)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # type: ignore[call-overload]
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())  # type: ignore[call-overload]


class ApiKeyFacility(SQLModel, table=True):
    """A facility a hospital group's key is bound to (every one of them, the first included).

    A key with no rows here is a single facility's key: ``ApiKey.facility_id`` alone.
    """

    __tablename__ = "api_key_facility"

    api_key_id: int = Field(foreign_key="api_key.id", primary_key=True)
    facility_id: str = Field(foreign_key="facility.id", primary_key=True, index=True, max_length=64)


KEY_LABEL_PATTERN = r"^[A-Za-z0-9 ._-]*$"
MAX_GROUP_FACILITIES = 50


class ApiKeyCreate(SQLModel):
    label: str | None = Field(
        default=None, max_length=80, schema_extra={"pattern": KEY_LABEL_PATTERN}
    )

    model_config = {"extra": "forbid"}  # type: ignore[assignment]


class ApiKeyGroupCreate(ApiKeyCreate):
    """A key for one facility or a hospital group's several (it may push and read each)."""

    facility_ids: list[Slug] = Field(min_length=1, max_length=MAX_GROUP_FACILITIES)


class ApiKeyPublic(SQLModel):
    id: int
    facility_id: str = Field(description="The key's (first) facility")
    facility_ids: list[str] = Field(
        default_factory=list,
        description="Every facility the key may push and read for (one for a facility's key)",
    )
    prefix: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(
        default=None, description="When the key was last used, to the minute (at most 1 min behind)"
    )


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="Shown once; only its hash is stored")


class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    role: Role
    username: str
    facility_id: str | None = None
    region_id: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a signed-in account or a facility's API key."""

    kind: str  # "user" or "key"
    id: int
    name: str
    role: Role | None  # None for an API key
    facility_id: str | None = None
    region_id: str | None = None
    facility_ids: tuple[str, ...] = ()  # an API key's facilities (several: a group key)
    expires: float = float("inf")  # a token's expiry (POSIX seconds); keys do not expire
    generation: int = 0  # a token's ``User.token_generation`` when it was issued

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def is_key(self) -> bool:
        return self.kind == "key"

    def key_for(self, facility_id: str) -> bool:
        """An API key bound to this facility (alone, or as one of its group's)."""
        return self.is_key and facility_id in (self.facility_ids or (self.facility_id,))
