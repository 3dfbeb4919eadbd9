"""One real server process per test module, on the session's Valkey and a fresh database.

Starting a server costs seconds, so the tests of a module share one and read ``seq`` relative
to the snapshot they received; tests that need their own Redis or two processes start them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from capacity.storage.redis import EmbeddedValkey
from tests.conftest import Databases
from tests.realtime.support import STARTUP, Server


@pytest.fixture(scope="module")
def server(
    databases: Databases, valkey: EmbeddedValkey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    redis.Redis.from_url(valkey.url).flushall()
    running = Server(
        database_url=databases.fresh(),
        redis_url=valkey.url,
        data_dir=tmp_path_factory.mktemp("server"),
        stream_replay="10",
        ws_queue_limit="32",
    ).start(STARTUP)
    yield running
    running.stop()
