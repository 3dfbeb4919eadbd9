"""The Redis client; the embedded Valkey (started when neither CAPACITY_REDIS_URL nor
CAPACITY_REDIS_SENTINELS is set) is in ``capacity.storage.embedded`` and re-exported here, the
client of a Sentinel-managed primary in ``capacity.storage.sentinel``."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from capacity.settings import Settings
from capacity.storage.embedded import EmbeddedValkey, ValkeyInUse
from capacity.storage.sentinel import (
    connection_options,
    create_sentinel_client,
    server_identity,
)

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
    """An asyncio client of ``url`` with our ``connection_options`` (short timeouts)."""
    return aioredis.from_url(url, **connection_options())


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
