"""Fixtures of the browser tests: a Valkey and a Chromium per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from capacity.storage.redis import EmbeddedValkey
from tests.frontend.test_browser import ARGS, CHROMIUM, sync_api


@pytest.fixture(scope="module")
def own_valkey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedValkey]:
    server = EmbeddedValkey(tmp_path_factory.mktemp("fe-valkey"), appendonly=False).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:  # type: ignore[type-arg]
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()
