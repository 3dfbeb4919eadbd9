"""The Redis client; the embedded Valkey (started when neither CAPACITY_REDIS_URL nor
CAPACITY_REDIS_SENTINELS is set) is in ``capacity.storage.embedded`` and re-exported here, the
client of a Sentinel-managed primary in ``capacity.storage.sentinel``."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from capacity.settings import Settings
from capacity.storage.embedded import EmbeddedValkey, ValkeyInUse
from capacity.storage.sentinel import create_sentinel_client, server_identity

__all__ = [
    "REDIS_DOWN",
    "EmbeddedValkey",
    "ValkeyInUse",
    "client_for",
    "create_client",
    "server_identity",
]

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)


def create_client(url: str) -> aioredis.Redis:
    """An asyncio client with short timeouts, so an outage is noticed rather than waited out.

    A broken connection (Redis restarted) is retried on a fresh one; a timeout is not: Redis
    did not answer in time, and retrying would only multiply the wait (the retries of a
    pipeline's script check and of the pipeline nest, which made a write hang a minute).
    """
    return aioredis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
        retry=Retry(
            ExponentialBackoff(cap=0.5, base=0.05),
            retries=2,
            supported_errors=(RedisConnectionError,),
        ),
        retry_on_error=[RedisConnectionError],
    )


def client_for(settings: Settings, url: str | None = None) -> aioredis.Redis:
    """The client of the deployment's Redis: the primary the sentinels name, else ``url`` (the
    embedded Valkey's) or CAPACITY_REDIS_URL."""
    if settings.redis_sentinels:
        return create_sentinel_client(
            settings.sentinel_addresses,
            master=settings.redis_master,
            password=settings.redis_password,
            sentinel_password=settings.redis_sentinel_password,
        )
    target = url or settings.redis_url
    if target is None:
        raise ValueError("no Redis: neither CAPACITY_REDIS_URL nor CAPACITY_REDIS_SENTINELS")
    return create_client(target)
