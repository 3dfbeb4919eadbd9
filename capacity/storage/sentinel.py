"""Redis Sentinel (or Valkey's, ``valkey-server --sentinel``): a client that follows the primary.

The sentinels name the primary; redis-py's ``Sentinel.master_for`` asks them on every new
connection, and a connection to a server that was demoted (``READONLY``) is dropped and made
anew. Replication is asynchronous, so the new primary may lack the last changes the old one
took: the watcher (``capacity.main``) notices the other server and rebuilds from SQL.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def connection_options() -> dict[str, Any]:
    """How every client of ours talks to Redis: short timeouts, so an outage is noticed rather
    than waited out.

    A broken connection (Redis restarted) is retried on a fresh one; a timeout is not: Redis
    did not answer in time, and retrying would only multiply the wait (the retries of a
    pipeline's script check and of the pipeline nest, which made a write hang a minute).
    """
    return {
        "decode_responses": False,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "health_check_interval": 15,
        "retry": Retry(
            ExponentialBackoff(cap=0.5, base=0.05),
            retries=2,
            supported_errors=(RedisConnectionError,),
        ),
        "retry_on_error": [RedisConnectionError],
    }


class _PrimaryClient(aioredis.Redis):
    """The primary's client; closing it also closes the connections to the sentinels."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        pool = self.connection_pool
        if isinstance(pool, SentinelConnectionPool):
            await pool.sentinel_manager.aclose()


def create_sentinel_client(
    sentinels: list[tuple[str, int]],
    *,
    master: str,
    password: str | None,
    sentinel_password: str | None,
) -> aioredis.Redis:
    """A client of the primary the sentinels name, with our ``connection_options``.

    A sentinel that does not answer is skipped within a second; while none names a primary
    that is up (the failover window) every command fails at once with a ConnectionError.
    """
    sentinel = Sentinel(
        sentinels,
        sentinel_kwargs={
            "password": sentinel_password,
            "socket_connect_timeout": 1,
            "socket_timeout": 1,
        },
        password=password,
        **connection_options(),
    )
    client: aioredis.Redis = sentinel.master_for(master, redis_class=_PrimaryClient)
    return client


async def follow_primary(client: aioredis.Redis) -> None:
    """Ask the sentinels which server is the primary now; on a change the client's idle
    connections are closed, and busy ones when handed back, so the next command goes there.

    Without it, a connection to a primary that was demoted but stays up (a planned failover)
    keeps reading from it; a read on a replica never hears of the new primary's changes.
    """
    pool = client.connection_pool
    if isinstance(pool, SentinelConnectionPool):
        await pool.get_master_address()


async def server_identity(client: aioredis.Redis) -> tuple[Any, ...]:
    """Which server answers: its address as the sentinels name it (None without sentinels) and
    its ``run_id``. A failover or a restart changes it."""
    pool = client.connection_pool
    address = await pool.get_master_address() if isinstance(pool, SentinelConnectionPool) else None
    run_id = (await client.info("server")).get("run_id")
    return (address, run_id)
