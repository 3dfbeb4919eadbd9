"""The transfer writer puts a new request's JSON together itself (the hot path of a burst); what
the API answers and the wards' screens get must be what the models give for the same rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from capacity.auth.models import Principal, Role
from capacity.transfers.live import messages_of
from capacity.transfers.models import TransferCreate
from capacity.transfers.service import shown
from capacity.transfers.writer import _Pending, _Ward, _Written

WARDS = {
    "erasmus-mc-rotterdam": _Ward(
        "erasmus-mc-rotterdam", "zuidwest", True, ["delivery_room"], 51.91, 4.47, "Erasmus MC"
    ),
    "amphia-breda": _Ward("amphia-breda", "brabant", True, ["delivery_room"], 51.58, 4.8, "Amphia"),
}


@pytest.mark.parametrize(
    ("changes", "now"),
    [
        ({}, datetime(2026, 12, 5, 3, 7, 18, 123456, tzinfo=UTC)),
        ({"ga_band": None}, datetime(2026, 12, 5, 3, 7, 18, tzinfo=UTC)),  # no microseconds
        ({"urgency": "non_acute", "ga_band": "28-31"}, datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_the_writers_json_is_what_the_models_give(
    changes: dict[str, object], now: datetime
) -> None:
    body = {
        "category": "delivery_room",
        "request_type": "medical",
        "ga_band": ">=37",
        "urgency": "sub_acute",
        "city": "Rotterdam",
        "facilities": list(WARDS),
        **changes,
    }
    transfer_in = TransferCreate.model_validate(body)
    midwife = Principal(kind="user", id=7, name="midwife", role=Role.midwife)
    loop = asyncio.new_event_loop()
    try:
        pending = _Pending(
            transfer_in,
            list(WARDS),
            (51.92, 4.48, "Rotterdam"),
            midwife,
            now,
            loop.create_future(),
        )
    finally:
        loop.close()
    written = _Written(pending, "zuidwest", WARDS, deadline_minutes=7, id=41)
    written.offer_ids = {"erasmus-mc-rotterdam": 301, "amphia-breda": 302}
    request, offers = written.models()
    expected = shown(request, offers)
    assert written.as_json() == expected
    assert written.messages(written.as_json()) == messages_of(request, expected, offers, WARDS)
