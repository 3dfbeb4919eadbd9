"""A method an API path does not offer answers 405 with an ``Allow`` header naming the methods
it does offer, for every path of the OpenAPI document (so a new endpoint is covered by itself)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ERASMUS

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Existing or not, a path parameter only has to route: these values do.
SAMPLES = {"facility_id": ERASMUS, "region": "zuidwest-nederland", "username": "midwife"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m.group(1), "1"), path)


async def test_every_undocumented_method_is_405_with_the_documented_ones_allowed(  # type: ignore[no-untyped-def]
    app, client, login
):
    admin = await login("admin")
    paths = app.openapi()["paths"]
    assert len(paths) > 15
    checked = 0
    for path, operations in paths.items():
        documented = {method.upper() for method in operations}
        for method in METHODS:
            if method in documented:
                continue
            response = await client.request(method, concrete(path), headers=admin)
            assert response.status_code == 405, (method, path, response.status_code)
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            assert allowed == documented, (method, path, allowed)
            body = response.json()  # under /fhir an OperationOutcome, saying the same
            said = body["issue"][0]["diagnostics"] if path.startswith("/fhir/") else body["detail"]
            assert method in said
            checked += 1
    assert checked > 50


@pytest.mark.parametrize("path", ["/api/v1/refusals/stats", "/api/v1/refusals/mine"])
async def test_a_named_refusal_path_is_not_taken_for_a_refusal_id(client, login, path):  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    response = await client.patch(path, headers=midwife, json={"outcome": "accepted"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
