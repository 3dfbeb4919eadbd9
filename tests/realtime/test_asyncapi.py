"""The websocket streams' AsyncAPI document: served, whole, complete, and linked from /docs."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import orjson

from capacity.availability.state import facility_message
from capacity.realtime import messages
from tests.conftest import Login

ROOT = Path(__file__).resolve().parents[2] / "capacity"
# Where the messages the streams send are built (the ping is a constant in messages.py).
BUILDERS = {
    "region": ["realtime/messages.py", "availability/state.py"],
    "offers": ["realtime/offers.py", "transfers/live.py"],
    "alerts": ["realtime/alerts.py", "alerts/delivery.py"],
}
PING_SENDERS = {"region": "realtime/hub.py", "alerts": "realtime/channel_stream.py"}
TYPED = re.compile(rb'"type":\s*"([a-z_]+)"')


def _sent_types(relative: str) -> set[str]:
    """The ``type`` of every message a builder module makes: dict literals ``{"type": "...",
    ...}`` and JSON put together as bytes (``b'{"type":"alert","alert":' + ...``)."""
    tree = ast.parse((ROOT / relative).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
            found |= {m.decode() for m in TYPED.findall(node.value)}
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "type":
                    assert isinstance(value, ast.Constant), ast.unparse(node)
                    found.add(str(value.value))
    return found


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _documented_types(document: dict[str, Any], channel: str) -> dict[str, dict[str, Any]]:
    """Each message type of the channel with its payload (a snapshot's ``type`` is in allOf)."""
    out = {}
    for message in document["channels"][channel]["messages"].values():
        payload = message["payload"]
        typed = payload["allOf"][0] if "allOf" in payload else payload
        out[typed["properties"]["type"]["const"]] = payload
    return out


def _validate(document: dict[str, Any], payload: dict[str, Any], message: Any) -> None:
    schema = {**payload, "components": document["components"]}  # so "#/components/..." resolves
    jsonschema_rs.Draft202012Validator(schema).validate(message)


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/asyncapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return dict(response.json())


async def test_the_document_is_asyncapi_3_and_every_reference_resolves(client):  # type: ignore[no-untyped-def]
    document = await _document(client)
    assert document["asyncapi"] == "3.0.0"
    assert {c["address"] for c in document["channels"].values()} == {
        "/ws/regions/{region}",
        "/ws/offers",
        "/ws/alerts",
    }
    for ref in _refs(document):
        assert _resolve(document, ref) is not None, ref
    for operation in document["operations"].values():
        assert operation["action"] == "receive"  # the server only sends
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)


async def test_every_message_type_the_server_sends_is_documented(client):  # type: ignore[no-untyped-def]
    document = await _document(client)
    for channel, modules in BUILDERS.items():
        sent = set().union(*(_sent_types(m) for m in modules))
        if channel in PING_SENDERS:
            assert "PING" in (ROOT / PING_SENDERS[channel]).read_text()
            sent.add(orjson.loads(messages.PING)["type"])
        assert sent, channel
        assert sent == set(_documented_types(document, channel)), channel


async def test_the_close_codes_are_documented(client):  # type: ignore[no-untyped-def]
    document = await _document(client)
    codes = {int(c) for c in document["channels"]["region"]["x-close-codes"]}
    ours = {v for k, v in vars(messages).items() if k.startswith("CLOSE_")}
    assert ours <= codes
    for channel in ("offers", "alerts"):  # each code the stream's module closes with
        source = (ROOT / BUILDERS[channel][0]).read_text()
        used = {getattr(messages, n) for n in re.findall(r"messages\.(CLOSE_[A-Z_]+)", source)}
        assert used <= {int(c) for c in document["channels"][channel]["x-close-codes"]}


async def test_real_messages_match_their_documented_payloads(client, login: Login):  # type: ignore[no-untyped-def]
    document = await _document(client)
    payloads = _documented_types(document, "region")
    headers = await login("midwife")
    picture = (await client.get("/api/v1/regions/zuidwest/capacity", headers=headers)).json()
    _validate(document, payloads["snapshot"], orjson.loads(messages.snapshot(picture)))
    change = facility_message("zuidwest", picture["seq"] + 1, picture["facilities"][0])
    _validate(document, payloads["facility"], orjson.loads(change))
    _validate(document, payloads["ping"], orjson.loads(messages.PING))


async def test_docs_link_the_asyncapi_document(client):  # type: ignore[no-untyped-def]
    description = (await client.get("/openapi.json")).json()["info"]["description"]
    assert "](/asyncapi.json)" in description
    assert (await client.get("/docs")).status_code == 200  # Swagger UI shows the description
