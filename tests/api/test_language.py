"""Error answers speak the language the request prefers: Dutch for the web app, English else.

The web app sends ``Accept-Language: nl`` (or ``en`` after the switch); an API client sending
nothing keeps the English it always had. Only the words change: status, ``loc``, ``type``, the
field named in ``message`` and every other field are the same in both languages.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import HTTPException
from sqlalchemy.exc import IntegrityError

from capacity.i18n import messages
from tests.api.support import put_figures
from tests.api.test_bad_input import REJECTED_422
from tests.conftest import ERASMUS

CAPACITY = f"/api/v1/facilities/{ERASMUS}/capacity"
NL = {"Accept-Language": "nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7"}  # a Dutch browser
EN = {"Accept-Language": "en-GB,en;q=0.9,nl;q=0.8"}


async def three(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], **kw: Any
):  # type: ignore[no-untyped-def]
    """The same request asked in Dutch, in English, and without Accept-Language."""
    return [
        await client.request(method, path, headers={**headers, **lang}, **kw)
        for lang in (NL, EN, {})
    ]


def assert_same_but_words(nl: httpx.Response, en: httpx.Response, plain: httpx.Response) -> None:
    assert nl.status_code == en.status_code == plain.status_code
    assert en.json() == plain.json()  # no header: English, as API clients always had it
    assert nl.headers["content-language"] == "nl"
    assert en.headers["content-language"] == plain.headers["content-language"] == "en"
    assert "accept-language" in nl.headers["vary"].lower()


@pytest.mark.parametrize(
    ("name", "path", "body", "field"), REJECTED_422, ids=[c[0] for c in REJECTED_422]
)
async def test_every_rejected_figure_or_stop_is_worded_in_dutch_with_the_same_fields(
    client, login, name, path, body, field
):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    nl, en, plain = await three(client, "PUT", path, staff, json=body)
    assert nl.status_code == 422, nl.text
    assert_same_but_words(nl, en, plain)
    dutch, english = nl.json(), en.json()
    machine = [(d["loc"], d["type"]) for d in english["detail"]]
    assert [(d["loc"], d["type"]) for d in dutch["detail"]] == machine
    for d, e in zip(dutch["detail"], english["detail"], strict=True):
        assert d["msg"] and d["msg"] != e["msg"], (d, e)  # worded in Dutch, not left English
    assert field in dutch["message"]
    assert dutch["message"] != english["message"]


@pytest.mark.parametrize(
    "raw", [b'{"categories": {"delivery_room": {"available": 1,', b"not json", b"\xff\xfe"]
)
async def test_malformed_json_is_worded_in_dutch(client, login, raw):  # type: ignore[no-untyped-def]
    headers = {**await login(f"staff-{ERASMUS}"), "Content-Type": "application/json"}
    nl, en, plain = await three(client, "PUT", CAPACITY, headers, content=raw)
    assert nl.status_code == 422, nl.text
    assert_same_but_words(nl, en, plain)
    assert [d["type"] for d in nl.json()["detail"]] == [d["type"] for d in en.json()["detail"]]
    assert "JSON" in nl.json()["message"]
    assert nl.json()["message"] != en.json()["message"]


async def test_available_above_staffed_names_the_figures_in_dutch(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    body = {"categories": {"delivery_room": {"available": 7, "staffed": 6}}}
    nl, en, plain = await three(client, "PUT", CAPACITY, staff, json=body)
    assert_same_but_words(nl, en, plain)
    assert en.json()["detail"] == [
        {
            "loc": ["body", "categories", "delivery_room", "available"],
            "msg": "available (7) may not exceed staffed (6)",
            "type": "value_error",
        }
    ]
    assert nl.json()["detail"][0]["msg"] == "vrij (7) mag niet hoger zijn dan bemand (6)"
    assert nl.json()["message"] == (
        "categories.delivery_room.available: vrij (7) mag niet hoger zijn dan bemand (6)"
    )


async def test_401_without_credentials_and_for_a_wrong_password(client):  # type: ignore[no-untyped-def]
    nl, en, plain = await three(client, "GET", "/api/v1/regions", {})
    assert nl.status_code == 401
    assert_same_but_words(nl, en, plain)
    assert en.json() == {"detail": "credentials required: a bearer token or an X-API-Key"}
    assert nl.json() == {"detail": "inloggegevens nodig: een bearer-token of een X-API-Key"}
    assert nl.headers["www-authenticate"] == "Bearer"
    form = {"username": "midwife", "password": "wrong"}
    nl, en, plain = await three(client, "POST", "/api/v1/auth/token", {}, data=form)
    assert nl.status_code == 401
    assert_same_but_words(nl, en, plain)
    assert en.json()["detail"] == "wrong username or password"
    assert nl.json()["detail"] == "onjuiste gebruikersnaam of wachtwoord"


async def test_403_for_another_hospitals_figures_and_a_missing_role(client, login):  # type: ignore[no-untyped-def]
    other = await login("staff-maasstad-ziekenhuis-rotterdam")
    body = {"categories": {"delivery_room": {"available": 1, "staffed": 4}}}
    nl, en, plain = await three(client, "PUT", CAPACITY, other, json=body)
    assert nl.status_code == 403
    assert_same_but_words(nl, en, plain)
    assert en.json()["detail"] == f"you may not change the figures of {ERASMUS!r}"
    assert nl.json()["detail"] == f"u mag de cijfers van {ERASMUS!r} niet wijzigen"
    midwife = await login("midwife")
    nl, en, plain = await three(client, "GET", "/api/v1/users", midwife)
    assert nl.status_code == 403
    assert_same_but_words(nl, en, plain)
    assert en.json()["detail"] == "this needs the role admin"
    assert nl.json()["detail"] == "hiervoor is de rol admin nodig"


async def test_404_for_an_unknown_region_and_an_unknown_endpoint(client, login):  # type: ignore[no-untyped-def]
    midwife = await login("midwife")
    nl, en, plain = await three(client, "GET", "/api/v1/regions/nowhere/capacity", midwife)
    assert nl.status_code == 404
    assert_same_but_words(nl, en, plain)
    assert en.json()["detail"] == "unknown region 'nowhere'"
    assert nl.json()["detail"] == "onbekende regio 'nowhere'"


async def test_409_when_the_change_conflicts_with_stored_data(app, client):  # type: ignore[no-untyped-def]
    async def clash() -> None:  # what a unique index answers to two writers racing
        raise IntegrityError("INSERT INTO facility", {}, Exception("UNIQUE constraint failed"))

    app.add_api_route("/api/v1/test-clash", clash, methods=["POST"])
    app.router.routes.insert(0, app.router.routes.pop())  # before the frontend's catch-all
    nl, en, plain = await three(client, "POST", "/api/v1/test-clash", {})
    assert nl.status_code == 409
    assert_same_but_words(nl, en, plain)
    assert en.json() == {"detail": "the change conflicts with stored data"}
    assert nl.json() == {"detail": "de wijziging botst met opgeslagen gegevens"}


async def test_an_http_exception_with_a_catalogued_detail_is_worded_too(app, client):  # type: ignore[no-untyped-def]
    async def gone() -> None:
        raise HTTPException(404, messages.UNKNOWN_REPORT(report=7), headers={"X-Why": "test"})

    app.add_api_route("/api/v1/test-gone", gone, methods=["GET"])
    app.router.routes.insert(0, app.router.routes.pop())  # before the frontend's catch-all
    nl, en, plain = await three(client, "GET", "/api/v1/test-gone", {})
    assert nl.status_code == 404
    assert_same_but_words(nl, en, plain)
    assert (en.json(), nl.json()) == (
        {"detail": "unknown report 7"},
        {"detail": "onbekend rapport 7"},
    )
    assert nl.headers["x-why"] == "test"


async def test_412_says_in_dutch_that_the_facility_changed(client, login):  # type: ignore[no-untyped-def]
    staff = await login(f"staff-{ERASMUS}")
    first = await put_figures(client, ERASMUS, {"nicu": {"available": 2, "staffed": 10}}, staff)
    seen = int(first.headers["ETag"].strip('"'))
    again = await put_figures(client, ERASMUS, {"nicu": {"available": 3, "staffed": 10}}, staff)
    assert again.status_code == 200
    body = {"categories": {"delivery_room": {"available": 1, "staffed": 4}}}
    nl, en, plain = await three(
        client, "PUT", CAPACITY, {**staff, "If-Match": f'"{seen}"'}, json=body
    )
    assert nl.status_code == 412
    assert_same_but_words(nl, en, plain)
    now = seen + 1
    assert en.json()["detail"] == (
        f"the facility changed since version {seen} (now {now}); nothing was saved"
    )
    dutch = f"de instelling is gewijzigd sinds versie {seen} (nu {now}); er is niets opgeslagen"
    assert nl.json()["detail"] == nl.json()["message"] == dutch
    assert nl.json()["facility"] == en.json()["facility"]
    assert nl.headers["etag"] == en.headers["etag"] == f'"{now}"'


async def test_429_lockout_is_worded_in_dutch_with_the_same_fields(client):  # type: ignore[no-untyped-def]
    form = {"username": "analyst", "password": "wrong"}
    for _ in range(5):
        assert (await client.post("/api/v1/auth/token", data=form)).status_code == 401
    nl, en, plain = await three(client, "POST", "/api/v1/auth/token", {}, data=form)
    assert nl.status_code == 429
    assert nl.json()["detail"].startswith(
        "te veel mislukte inlogpogingen voor dit account vanaf uw adres: hoogstens 5 per 15 minuten"
    )
    assert en.json()["detail"].startswith(
        "too many failed logins for this account from your address: at most 5 per 15 minutes"
    )
    assert nl.json()["message"] == nl.json()["detail"]
    for key in ("scope", "locked_until"):
        assert nl.json()[key] == en.json()[key] == plain.json()[key]
    assert nl.headers["content-language"] == "nl" and en.headers["content-language"] == "en"
    assert "retry-after" in nl.headers


async def test_413_body_too_large_is_worded_in_dutch(client, login):  # type: ignore[no-untyped-def]
    headers = {**await login(f"staff-{ERASMUS}"), "Content-Type": "application/json"}
    raw = b'{"pad": "' + b"x" * 70_000 + b'"}'
    nl, en, plain = await three(client, "PUT", CAPACITY, headers, content=raw)
    assert nl.status_code == en.status_code == 413
    assert (
        en.json()
        == plain.json()
        == {
            "detail": "request body larger than 64 KB",
            "message": "body: too large",
        }
    )
    assert nl.json() == {"detail": "verzoek groter dan 64 KB", "message": "body: te groot"}
    assert nl.headers["content-language"] == "nl"


async def test_concurrent_clients_each_get_their_own_language(api_server) -> None:  # type: ignore[no-untyped-def]
    """The language is the request's alone: 60 requests at once against a real server, Dutch
    and English mixed, each answered in its own (nothing is kept between requests)."""
    body = {"categories": {"delivery_room": {"available": -1, "staffed": 4}}}
    async with httpx.AsyncClient(base_url=api_server.url, timeout=30) as http:
        token = (
            await http.post("/api/v1/auth/token", data={"username": "admin", "password": "demo"})
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        langs = [NL if i % 2 else EN for i in range(60)]
        answers = await asyncio.gather(
            *(http.put(CAPACITY, json=body, headers={**auth, **lang}) for lang in langs)
        )
    for lang, answer in zip(langs, answers, strict=True):
        assert answer.status_code == 422, answer.text
        msg = answer.json()["detail"][0]["msg"]
        if lang is NL:
            assert answer.headers["content-language"] == "nl"
            assert msg == "Moet groter dan of gelijk aan 0 zijn"
        else:
            assert answer.headers["content-language"] == "en"
            assert msg == "Input should be greater than or equal to 0"
