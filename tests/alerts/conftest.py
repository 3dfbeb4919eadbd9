"""An app with alerts wired to a real local SMTP server and webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from capacity.main import create_app
from capacity.settings import Settings
from tests.alerts.receivers import Mailbox, WebhookReceiver


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with Mailbox() as box:
        yield box


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def alert_settings(settings: Settings, mailbox: Mailbox) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mailbox.port,
            "alert_webhook_loopback_http": True,
            "alert_drain_seconds": 0.2,
            "alert_retry_seconds": 0.05,
        }
    )


@pytest.fixture
async def app(alert_settings: Settings) -> AsyncIterator:  # type: ignore[type-arg]
    application = create_app(alert_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
