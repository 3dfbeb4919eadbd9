"""No field anywhere may carry free text (issue 11.6): free text is where names leak.

Walks the OpenAPI document the service publishes: every string a client can send in a request
body, a query or a path must be a closed list (enum), a date or time, or bounded and restricted
to a pattern (ids, phone numbers, names of facilities). The few exceptions are listed below, each
with why it cannot hold a patient's details.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI

from capacity.main import create_app
from capacity.settings import Settings

FORMATS = {"date", "date-time"}
# (operation, field) -> why this string is not free text that could be stored
EXEMPT = {
    **{
        ("POST /api/v1/auth/token", f"body.{name}"): "OAuth2 password form: read to sign in, "
        "never stored, echoed or exported (capacity/api/auth.py)"
        for name in ("username", "password", "scope", "client_id", "client_secret")
    },
    ("POST /api/v1/users", "body.password"): "stored only as an argon2 hash, never shown",
    ("POST /api/v1/users/{username}/password", "body.new_password"): "stored only as an "
    "argon2 hash, never shown",
    ("POST /api/v1/auth/password", "body.new_password"): "stored only as an argon2 hash",
    ("POST /api/v1/auth/password", "body.current_password"): "read to check it, never stored",
    **{
        ("POST /api/v1/users", f"body.{name}"): "must name an existing row (else 422) before it "
        "is stored; the pattern belongs in capacity/auth/models.py"
        for name in ("facility_id", "region_id")
    },
}


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = {
            **doc["components"]["schemas"][name],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    return schema


def strings(
    doc: dict[str, Any], schema: dict[str, Any], where: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every string schema a client may send inside ``schema``, with where it sits."""
    schema = resolve(doc, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for each in schema.get(key, []):
            yield from strings(doc, each, where)
    if schema.get("type") == "string" or ("enum" in schema and "type" not in schema):
        yield where, schema
    for name, each in schema.get("properties", {}).items():
        yield from strings(doc, each, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from strings(doc, schema["items"], f"{where}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from strings(doc, schema["additionalProperties"], f"{where}.*")
    if isinstance(schema.get("propertyNames"), dict):
        yield from strings(doc, schema["propertyNames"], f"{where} key")


def bounded(pattern: str) -> bool:
    """An anchored pattern without open repetition (``^\\d{4}-\\d{2}$``) bounds the length."""
    anchored = pattern.startswith("^") and pattern.endswith("$")
    return anchored and not re.search(r"[*+]|\{\d*,\}", pattern)


def restricted(schema: dict[str, Any]) -> bool:
    if "enum" in schema or "const" in schema or schema.get("format") in FORMATS:
        return True
    pattern = schema.get("pattern")
    return pattern is not None and ("maxLength" in schema or bounded(pattern))


def sent_strings(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("query", "path"):
                    where = f"{parameter['in']}.{parameter['name']}"
                    yield from ((name, w, s) for w, s in strings(doc, parameter["schema"], where))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                yield from ((name, w, s) for w, s in strings(doc, content["schema"], "body"))


def openapi() -> dict[str, Any]:
    app: FastAPI = create_app(Settings(auto_setup=False))
    return app.openapi()


def test_every_string_a_client_sends_is_closed_or_restricted() -> None:
    doc = openapi()
    found = list(sent_strings(doc))
    assert any(w == "body.episode" for _, w, _ in found), "the walk missed the refusal body"
    free = [
        f"{operation} {where}: {schema}"
        for operation, where, schema in found
        if not restricted(schema) and (operation, where) not in EXEMPT
    ]
    assert free == [], "free-text fields:\n" + "\n".join(free)


def test_the_exemptions_still_exist() -> None:
    """An exemption for a field that is gone (or now restricted) is removed, not kept."""
    found = {(o, w): s for o, w, s in sent_strings(openapi())}
    stale = [key for key in EXEMPT if key not in found or restricted(found[key])]
    assert stale == []
