"""Pydantic's validation errors worded in Dutch by type and context; English stays pydantic's."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import pytest
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, ValidationError

from capacity.facilities.models import FacilityUpdate
from capacity.i18n.validation import DUTCH, translated
from capacity.refusals.models import RefusalCreate


class Colour(StrEnum):
    red = "red"
    green = "green"
    blue = "blue"


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: StrictInt = Field(0, ge=0, le=500)
    loose: int = Field(1, gt=0, lt=10)
    slug: Annotated[str, Field(min_length=2, max_length=4, pattern=r"^[a-z]+$")] = "ab"
    colour: Colour = Colour.red
    kind: Literal["a", "b"] = "a"
    tags: list[int] = Field(default_factory=lambda: [1], min_length=1, max_length=2)
    day: date = date(2026, 1, 1)
    at: AwareDatetime = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    flag: bool = False
    ratio: float = 0.0
    needed: int


CASES: list[tuple[str, dict[str, Any]]] = [
    ("missing", {}),
    ("extra_forbidden", {"needed": 1, "note": "x"}),
    ("greater_than_equal", {"needed": 1, "count": -1}),
    ("less_than_equal", {"needed": 1, "count": 501}),
    ("greater_than", {"needed": 1, "loose": 0}),
    ("less_than", {"needed": 1, "loose": 10}),
    ("int_type", {"needed": 1, "count": "3"}),
    ("int_parsing", {"needed": "three"}),
    ("int_from_float", {"needed": 1.5}),
    ("string_too_short", {"needed": 1, "slug": "a"}),
    ("string_too_long", {"needed": 1, "slug": "abcde"}),
    ("string_pattern_mismatch", {"needed": 1, "slug": "AB"}),
    ("string_type", {"needed": 1, "slug": 5}),
    ("enum", {"needed": 1, "colour": "pink"}),
    ("literal_error", {"needed": 1, "kind": "c"}),
    ("too_short", {"needed": 1, "tags": []}),
    ("too_long", {"needed": 1, "tags": [1, 2, 3]}),
    ("list_type", {"needed": 1, "tags": 3}),
    ("date_from_datetime_parsing", {"needed": 1, "day": "tomorrow"}),
    ("datetime_from_date_parsing", {"needed": 1, "at": "2026-13-01T00:00:00Z"}),
    ("datetime_type", {"needed": 1, "at": []}),
    ("timezone_aware", {"needed": 1, "at": "2026-01-01T00:00:00"}),
    ("bool_parsing", {"needed": 1, "flag": "perhaps"}),
    ("float_parsing", {"needed": 1, "ratio": "half"}),
]


def _error(data: dict[str, Any], kind: str) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(data)
    return next(e for e in caught.value.errors(include_url=False) if e["type"] == kind)


@pytest.mark.parametrize(("kind", "data"), CASES, ids=[c[0] for c in CASES])
def test_each_common_error_type_is_worded_in_dutch(kind: str, data: dict[str, Any]) -> None:
    error = _error(data, kind)
    dutch = translated(error, "nl")
    assert kind in DUTCH
    assert dutch != error["msg"] and "{" not in dutch, dutch
    assert translated(error, "en") == error["msg"]  # English stays pydantic's own words


def test_dutch_names_the_limits_and_choices() -> None:
    assert translated(_error({"needed": 1, "count": -1}, "greater_than_equal"), "nl") == (
        "Moet groter dan of gelijk aan 0 zijn"
    )
    assert translated(_error({"needed": 1, "slug": "abcde"}, "string_too_long"), "nl") == (
        "Mag hoogstens 4 tekens hebben"
    )
    assert translated(_error({"needed": 1, "colour": "pink"}, "enum"), "nl") == (
        "Moet 'red', 'green' of 'blue' zijn"
    )
    assert translated(_error({"needed": 1, "tags": []}, "too_short"), "nl") == (
        "Moet minstens 1 element hebben, niet 0"
    )


def test_an_unknown_type_keeps_the_english() -> None:
    error = {"type": "no_such_type", "msg": "Something odd", "ctx": {}}
    assert translated(error, "nl") == "Something odd"


def test_a_validators_own_message_is_worded_in_dutch() -> None:
    with pytest.raises(ValidationError) as caught:
        FacilityUpdate.model_validate({"categories": ["nicu", "nicu"]})
    (error,) = caught.value.errors()
    assert error["msg"] == "Value error, categories may not repeat"
    assert translated(error, "nl") == "categorieën mogen niet meer dan eens voorkomen"
    body = {
        "occurred_at": "2026-01-01T00:00:00Z",
        "facility_id": "x",
        "category": "delivery_room",
        "request_type": "medical",
        "reason": None,
    }
    with pytest.raises(ValidationError) as caught:
        RefusalCreate.model_validate(body)
    msgs = [translated(e, "nl") for e in caught.value.errors()]
    assert "een weigering heeft een reden nodig" in msgs, msgs
