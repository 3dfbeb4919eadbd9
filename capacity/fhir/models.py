"""What a pushed MeasureReport may hold: the SANER-style subset we read, and nothing else.

Every element outside it is a 422 naming it (``extra="forbid"``), so no narrative, note or
other free text can arrive; every string is a closed list or a bounded pattern.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from capacity.availability.models import MAX_FIGURE

Url = Annotated[str, Field(max_length=200, pattern=r"^(https?|urn):[A-Za-z0-9.:/_%#?=&~-]{1,200}$")]
Code = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9._-]{1,64}$")]
# What a client copies from our own resources' display texts: letters, digits, signs of names.
Display = Annotated[
    str, Field(max_length=120, pattern=r"^[0-9A-Za-z\u00C0-\u024F .,'()/+&\[\]-]{1,120}$")
]
FhirId = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9.-]{1,64}$")]
LocationRef = Annotated[str, Field(max_length=73, pattern=r"^Location/[a-z0-9][a-z0-9-]{0,63}$")]


class _Element(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodingIn(_Element):
    system: Url
    code: Code
    display: Display | None = None


class CodeableConceptIn(_Element):
    coding: list[CodingIn] = Field(min_length=1, max_length=4)
    text: Display | None = None


class PopulationIn(_Element):
    code: CodeableConceptIn
    count: Annotated[StrictInt, Field(ge=0, le=MAX_FIGURE)]


class GroupIn(_Element):
    code: CodeableConceptIn
    population: list[PopulationIn] = Field(min_length=1, max_length=3)


class ReferenceIn(_Element):
    reference: LocationRef
    display: Display | None = None


class PeriodIn(_Element):
    start: AwareDatetime | date
    end: AwareDatetime | date | None = None


class MetaIn(_Element):
    profile: list[Url] = Field(default_factory=list, max_length=4)


class MeasureReportIn(_Element):
    """A SANER-style bed-capacity MeasureReport for one facility (``subject``)."""

    resourceType: Literal["MeasureReport"]
    id: FhirId | None = None
    meta: MetaIn | None = None
    status: Literal["complete"]
    type: Literal["summary"]
    measure: Url
    subject: ReferenceIn
    date: AwareDatetime | None = None
    period: PeriodIn
    group: list[GroupIn] = Field(min_length=1, max_length=5)
