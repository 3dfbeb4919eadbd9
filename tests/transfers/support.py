"""Wards near Rotterdam and helpers to give them room and to ask them."""

from __future__ import annotations

from typing import Any

import httpx

ROTTERDAM = {"lat": 51.92, "lon": 4.48}
ERASMUS = "erasmus-mc-rotterdam"  # 2 min
FRANCISCUS = "franciscus-gasthuis-rotterdam"  # 4 min
IKAZIA = "ikazia-ziekenhuis-rotterdam"  # 5 min
MAASSTAD = "maasstad-ziekenhuis-rotterdam"  # 8 min
IJSSELLAND = "ijsselland-ziekenhuis-capelle-aan-den-ijssel"  # 8 min
DELFT = "reinier-de-graaf-gasthuis-delft"  # 17 min, region west
GORINCHEM = "rivas-beatrixziekenhuis-gorinchem"  # 44 min
BREDA = "amphia-breda"  # 57 min, region brabant
SOPHIA = "geboortecentrum-sophia-rotterdam"  # birth centre: no NICU


async def room(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    facility: str,
    available: int,
    category: str = "delivery_room",
) -> None:
    response = await client.put(
        f"/api/v1/facilities/{facility}/capacity",
        json={"categories": {category: {"available": available, "staffed": 10}}},
        headers=admin,
    )
    assert response.status_code == 200, response.text


def request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "delivery_room",
        "request_type": "medical",
        "ga_band": ">=37",
        "urgency": "sub_acute",
        **ROTTERDAM,
    }
    body.update(changes)
    return body
