"""Login limits per address hold for IPv6 clients, who each have a /64 of addresses.

Found by attacking the issue 11 work: the limits counted each IPv6 address on its own, and any
home connection or rented server has 2^64 of them, so every attempt could come from a new one
(the forged-address attack of issue 11.3, without forging anything): 25 wrong passwords from
one /64 got 25 x 401. An IPv6 client is counted by its /64. The addresses reach the server
as a trusted proxy's X-Forwarded-For (uvicorn trusts 127.0.0.1 by default). SQLite and
PostgreSQL (CAPACITY_TEST_DATABASE_URL).
"""

from __future__ import annotations

import httpx

from tests.auth.test_login_races import TOKEN, assert_locked_answer, client
from tests.servers import Server


async def attempt(http: httpx.AsyncClient, username: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return await http.post(
        TOKEN,
        data={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def test_an_ipv6_client_is_limited_by_its_64(api_server: Server) -> None:
    async with client(api_server) as http:
        statuses = [
            (await attempt(http, f"nobody-{i}", "guess", f"2001:db8:1:2::{i + 1:x}")).status_code
            for i in range(20)
        ]
        assert statuses == [401] * 20
        refused = await attempt(http, "nobody-21", "guess", "2001:db8:1:2:ffff::99")
        assert_locked_answer(refused, "address")
        # one account from one /64: five, whichever addresses in it
        for i in range(5):
            wrong = await attempt(http, "midwife", "wrong", f"2001:db8:9:9::{i + 1:x}")
            assert wrong.status_code == 401, wrong.text
        assert_locked_answer(
            await attempt(http, "midwife", "demo", "2001:db8:9:9::77"), "account_address"
        )
        # another /64 and IPv4 clients are not affected
        assert (await attempt(http, "midwife", "demo", "2001:db8:9:a::1")).status_code == 200
        assert (await attempt(http, "midwife", "demo", "192.0.2.7")).status_code == 200
