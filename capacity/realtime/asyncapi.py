"""The websocket streams as an AsyncAPI 3.0 document, served at ``/asyncapi.json``.

OpenAPI cannot describe websockets, so ``/docs`` links this document. Its payload schemas are
the same pydantic models the HTTP answers use (a ``snapshot`` is the regional picture of
``GET /api/v1/regions/{region}/capacity``), so the two cannot drift apart;
``tests/realtime/test_asyncapi.py`` checks that every message type the code sends is here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from capacity import __version__
from capacity.alerts.models import AlertPublic
from capacity.availability.models import FacilityCapacity, RegionCapacity
from capacity.realtime import messages
from capacity.transfers.models import TransferPublic, WardOffer

PATH = "/asyncapi.json"
REF = "#/components/schemas/{model}"

REGION_CLOSE_CODES = {
    messages.CLOSE_BAD_TOKEN: "Token missing, forged, expired or revoked (also at the token's "
    "expiry, and within seconds of the account's deactivation): sign in again; never "
    "reconnect with the same token",
    messages.CLOSE_FORBIDDEN: "This account may not read the region: stop",
    messages.CLOSE_UNKNOWN_REGION: "Unknown region: stop",
    messages.CLOSE_TOO_SLOW: "The client fell behind its buffer (CAPACITY_WS_QUEUE_LIMIT "
    "messages): reconnect with since",
    messages.CLOSE_UNAVAILABLE: "Redis or the database unavailable: retry with backoff, with since",
    messages.CLOSE_GOING_AWAY: "The server shuts down (1012 when it restarts): reconnect "
    "with since",
}
OFFER_CLOSE_CODES = {
    messages.CLOSE_BAD_TOKEN: REGION_CLOSE_CODES[messages.CLOSE_BAD_TOKEN],
    messages.CLOSE_FORBIDDEN: "Not a midwife or facility staff (analysts, admins and API "
    "keys have no offers): stop",
    messages.CLOSE_UNAVAILABLE: REGION_CLOSE_CODES[messages.CLOSE_UNAVAILABLE],
}


ALERT_CLOSE_CODES = {
    messages.CLOSE_BAD_TOKEN: REGION_CLOSE_CODES[messages.CLOSE_BAD_TOKEN] + " (an API key "
    "has no inbox)",
    messages.CLOSE_TOO_SLOW: "The client fell behind its buffer: reconnect (the snapshot "
    "gives the inbox again)",
    messages.CLOSE_UNAVAILABLE: REGION_CLOSE_CODES[messages.CLOSE_UNAVAILABLE],
}


def _type(name: str) -> dict[str, Any]:
    return {"type": "string", "const": name}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _message(name: str, summary: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "title": name,
        "summary": summary,
        "contentType": "application/json",
        "payload": payload,
    }


def _object(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"type": _type(name), **properties},
        "required": ["type", *required],
    }


def _picture() -> dict[str, Any]:
    """A snapshot: ``type`` beside every field of the regional picture."""
    return {"allOf": [_object("snapshot", {}, []), _ref(RegionCapacity)]}


REGION_MESSAGES: dict[str, dict[str, Any]] = {
    "snapshot": _message(
        "snapshot",
        "The whole regional picture: first, after a gap too long to replay, or after a "
        "rebuild. Replace the picture.",
        _picture(),
    ),
    "facility": _message(
        "facility",
        "One facility's entry after an accepted change (also a figure turning stale, a stop "
        "expiring), in seq order. Drop it when its seq is not above the last one applied.",
        _object(
            "facility",
            {
                "region": {"type": "string"},
                "seq": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "facility": _ref(FacilityCapacity),
            },
            ["region", "seq", "at", "facility"],
        ),
    ),
    "ping": _message(
        "ping",
        "Sent after at most CAPACITY_WS_PING_SECONDS (default 25) without another message.",
        _object("ping", {}, []),
    ),
}
OFFER_MESSAGES: dict[str, dict[str, Any]] = {
    "offerSnapshot": _message(
        "snapshot",
        "First message: the ward's open offers (facility staff) and the caller's open requests.",
        _object(
            "snapshot",
            {
                "offers": {"type": "array", "items": _ref(WardOffer)},
                "requests": {"type": "array", "items": _ref(TransferPublic)},
            },
            ["offers", "requests"],
        ),
    ),
    "offer": _message(
        "offer",
        "An offer to the caller's ward was made or changed.",
        _object("offer", {"offer": _ref(WardOffer)}, ["offer"]),
    ),
    "transfer": _message(
        "transfer",
        "A transfer request the caller made changed (an offer accepted or declined, cancelled).",
        _object("transfer", {"request": _ref(TransferPublic)}, ["request"]),
    ),
}
ALERT_MESSAGES: dict[str, dict[str, Any]] = {
    "alertSnapshot": _message(
        "snapshot",
        "First message: the number of unread alerts and the latest 20, newest first.",
        _object(
            "snapshot",
            {
                "unread": {"type": "integer", "minimum": 0},
                "alerts": {"type": "array", "items": _ref(AlertPublic)},
            },
            ["unread", "alerts"],
        ),
    ),
    "alert": _message(
        "alert",
        "An in-app alert as the delivery job hands it over (as GET /api/v1/alerts lists it); "
        "one delivered while the snapshot was read may come twice: keep one per id.",
        _object("alert", {"alert": _ref(AlertPublic)}, ["alert"]),
    ),
    "alertPing": REGION_MESSAGES["ping"],
}


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (RegionCapacity, FacilityCapacity, WardOffer, TransferPublic, AlertPublic):
        schema = model.model_json_schema(ref_template=REF, mode="serialization")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _codes(codes: dict[int, str]) -> str:
    return "\n".join(f"- `{code}`: {meaning}" for code, meaning in codes.items())


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``/ws/regions/{region}``, ``/ws/offers`` and ``/ws/alerts``."""
    token = {"description": "A token from POST /api/v1/auth/token (browsers cannot set headers)"}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "capacity live streams",
            "version": __version__,
            "description": "The server only sends (one JSON object per text frame); what a "
            "client sends is ignored. The HTTP API is described at /openapi.json (/docs).",
        },
        "defaultContentType": "application/json",
        "channels": {
            "region": {
                "address": "/ws/regions/{region}",
                "title": "A region's live picture",
                "description": "Query: `token` (required) and `since` (the last seq applied, "
                "to resume: every message after it in order, or a snapshot).\n\n"
                "Close codes:\n" + _codes(REGION_CLOSE_CODES),
                "parameters": {"region": {"description": "ROAZ region id, e.g. zuidwest"}},
                "messages": REGION_MESSAGES,
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "properties": {
                                "token": {"type": "string", **token},
                                "since": {"type": "integer", "minimum": 0},
                            },
                            "required": ["token"],
                        }
                    }
                },
                "x-close-codes": REGION_CLOSE_CODES,
            },
            "offers": {
                "address": "/ws/offers",
                "title": "Transfer offers and requests",
                "description": "For midwives and facility staff. Query: `token` (required)."
                "\n\nClose codes:\n" + _codes(OFFER_CLOSE_CODES),
                "messages": OFFER_MESSAGES,
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "properties": {"token": {"type": "string", **token}},
                            "required": ["token"],
                        }
                    }
                },
                "x-close-codes": OFFER_CLOSE_CODES,
            },
            "alerts": {
                "address": "/ws/alerts",
                "title": "The signed-in account's in-app alerts",
                "description": "For every signed-in account. Query: `token` (required)."
                "\n\nClose codes:\n" + _codes(ALERT_CLOSE_CODES),
                "messages": ALERT_MESSAGES,
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "properties": {"token": {"type": "string", **token}},
                            "required": ["token"],
                        }
                    }
                },
                "x-close-codes": ALERT_CLOSE_CODES,
            },
        },
        "operations": {
            "receiveAlerts": {
                "action": "receive",
                "channel": {"$ref": "#/channels/alerts"},
                "messages": [{"$ref": f"#/channels/alerts/messages/{m}"} for m in ALERT_MESSAGES],
            },
            "receiveRegion": {
                "action": "receive",
                "channel": {"$ref": "#/channels/region"},
                "messages": [{"$ref": f"#/channels/region/messages/{m}"} for m in REGION_MESSAGES],
            },
            "receiveOffers": {
                "action": "receive",
                "channel": {"$ref": "#/channels/offers"},
                "messages": [{"$ref": f"#/channels/offers/messages/{m}"} for m in OFFER_MESSAGES],
            },
        },
        "components": {"schemas": _schemas()},
    }
