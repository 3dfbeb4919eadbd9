"""One Settings object, read from CAPACITY_* environment variables and validated at start."""

from __future__ import annotations

import ipaddress
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from capacity import urls


class Mode(StrEnum):
    development = "development"
    production = "production"


class LogFormat(StrEnum):
    json = "json"
    text = "text"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAPACITY_", env_file=None, extra="ignore")

    mode: Mode = Mode.development
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    redis_sentinels: str | None = Field(
        None, description="Sentinels as host:port,host:port; the primary is the one they name"
    )
    redis_master: str = Field("capacity", min_length=1, description="The sentinels' master name")
    redis_password: str | None = Field(
        None, description="With sentinels: the password of the primary and its replicas"
    )
    redis_sentinel_password: str | None = Field(None, description="The sentinels' own password")
    secret_key: str | None = Field(None, min_length=32)
    token_lifetime_minutes: int = Field(8 * 60, ge=1, le=24 * 60)
    freshness_limit_minutes: int = Field(4 * 60, ge=1)
    green_min: int = Field(2, ge=1, description="Free beds from which a category shows green")
    orange_min: int = Field(1, ge=1, description="Free beds from which a category shows orange")
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    idempotency_ttl_seconds: int = Field(
        24 * 3600,
        ge=60,
        le=7 * 24 * 3600,
        description="How long a write's answer is kept for retries with the same Idempotency-Key",
    )
    idempotency_wait_seconds: float = Field(
        5.0,
        ge=0,
        le=60,
        description="How long a retry waits for the first request with its Idempotency-Key to "
        "finish before it is answered 409",
    )
    stream_replay: int = Field(1000, ge=10, description="Changes kept per region for resume")
    demo_data: bool = True
    auto_setup: bool = Field(
        True, description="Migrate and seed at start (the serve command does it once)"
    )
    expiry_interval_seconds: int = Field(30, ge=1, le=3600)
    # Minutes a ward has to answer a transfer request, unless its region sets its own
    transfer_deadline_minutes: int = Field(5, ge=1, le=60)
    # How often pending offers past their deadline are expired (seconds)
    transfer_expiry_interval_seconds: int = Field(10, ge=1, le=3600)
    scheduler: bool = Field(
        True, description="Run the scheduled jobs in this process (false: `capacity scheduler`)"
    )
    history_daily: bool = Field(
        True,
        description="Capacity over time reads finished days from capacity_daily (false: always "
        "from the history, for benchmarks)",
    )
    heavy_reads: int = Field(
        1,
        ge=1,
        le=64,
        description="Capacity-over-time answers computed at once per process; more wait their "
        "turn, so analysts cannot take every core from midwives' reads",
    )
    frontend_dir: Path = Path(__file__).resolve().parent.parent / "frontend"
    workers: int = Field(1, ge=1, le=64)
    ws_ping_seconds: float = Field(
        25.0, gt=0, le=30, description="Live stream: ping when idle this long"
    )
    ws_queue_limit: int = Field(
        2000, ge=8, description="Live streams (regions, offers): messages buffered per client"
    )
    login_account_failures: int = Field(
        5, ge=1, description="Failed logins per account from one address within the window"
    )
    login_address_failures: int = Field(
        20, ge=1, description="Failed logins per client address within the window before 429"
    )
    login_account_total_failures: int = Field(
        100, ge=1, description="Failed logins per account from all addresses within the window"
    )
    login_window_seconds: int = Field(15 * 60, ge=1, le=24 * 3600)
    cors_origins: str = Field(
        "", description="Comma-separated origins allowed by CORS; empty closes CORS"
    )
    metrics_token: str | None = Field(
        None, min_length=16, description="Bearer token for /metrics from non-loopback clients"
    )
    alerts: bool = Field(
        True, description="Evaluate alert subscriptions in this process (read the region streams)"
    )
    alert_drain_seconds: float = Field(
        5.0, gt=0, le=3600, description="How often the scheduler drains the alert outbox"
    )
    alert_attempts: int = Field(3, ge=1, le=10, description="Attempts per e-mail or webhook")
    alert_retry_seconds: float = Field(
        1.0, gt=0, le=600, description="Wait before the 2nd attempt; each next one waits 4x longer"
    )
    alert_webhook_loopback_http: bool = Field(
        False, description="Allow http://127.0.0.1 webhooks (tests only; otherwise https only)"
    )
    smtp_host: str | None = Field(None, description="SMTP server for e-mail alerts")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = Field("capacity@localhost", max_length=254)
    log_format: LogFormat | None = Field(
        None, description="json or text; default json in production, text in development"
    )

    @field_validator("database_url", "redis_url", mode="before")
    @classmethod
    def _url(cls, value: object, info: ValidationInfo) -> object:
        """The usual URL forms (sqlite://, postgres://, valkey://) as the drivers take them."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        return (
            urls.database_url(value) if info.field_name == "database_url" else urls.redis_url(value)
        )

    @field_validator("redis_sentinels", mode="before")
    @classmethod
    def _sentinels(cls, value: object) -> object:
        """host:port,host:port; written back in one form (spaces and empty items dropped)."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        return ",".join(
            f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            for host, port in parse_sentinels(value)
        )

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.orange_min > self.green_min:
            raise ValueError("CAPACITY_ORANGE_MIN may not exceed CAPACITY_GREEN_MIN")
        if self.redis_sentinels and self.redis_url:
            raise ValueError(
                "CAPACITY_REDIS_SENTINELS and CAPACITY_REDIS_URL are both set; set one: with "
                "sentinels the primary is the one they name (password: CAPACITY_REDIS_PASSWORD)"
            )
        if self.mode is Mode.production:
            if not self.secret_key:
                raise ValueError("CAPACITY_SECRET_KEY is required in production mode")
            if not self.database_url:
                raise ValueError("CAPACITY_DATABASE_URL is required in production mode")
            if self.redis_sentinels:
                if not self.redis_password or not self.redis_sentinel_password:
                    raise ValueError(
                        "CAPACITY_REDIS_PASSWORD and CAPACITY_REDIS_SENTINEL_PASSWORD are "
                        "required with CAPACITY_REDIS_SENTINELS in production mode: without "
                        "them, any process that reaches Redis or a sentinel can rewrite the "
                        "live picture or name another primary"
                    )
            elif not self.redis_url or not urls.redis_protected(self.redis_url):
                raise ValueError(
                    "CAPACITY_REDIS_URL with a password or TLS is required in production mode "
                    "(redis://:password@host:6379/0 or rediss://host:6380/0): without one, any "
                    "process that reaches Redis can rewrite the live picture"
                )
        elif not is_loopback(self.host):
            raise ValueError(
                f"CAPACITY_HOST: development mode refuses to bind to {self.host!r}: it creates "
                "demo accounts with the password 'demo'. Bind to 127.0.0.1 or set "
                "CAPACITY_MODE=production."
            )
        return self

    @property
    def external_redis(self) -> bool:
        """A Redis of the deployment (URL or sentinels); otherwise the embedded Valkey runs."""
        return bool(self.redis_url or self.redis_sentinels)

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return parse_sentinels(self.redis_sentinels or "")

    @property
    def valkey_dir(self) -> Path:
        """Where the embedded Valkey keeps its data (and the command line finds it running)."""
        return self.data_dir / "valkey"

    @property
    def development(self) -> bool:
        return self.mode is Mode.development

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def resolved_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return LogFormat.text if self.development else LogFormat.json

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'capacity.db').resolve()}"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, or in development one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def parse_sentinels(value: str) -> list[tuple[str, int]]:
    """``host:port,host:port`` (IPv6 as ``[::1]:26379``) as (host, port) pairs."""
    found = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{item!r} is not host:port; e.g. sentinel-1:26379,sentinel-2:26379")
        found.append((host, int(port)))
    if not found:
        raise ValueError("no sentinel given; e.g. sentinel-1:26379,sentinel-2:26379")
    return found


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def explain(exc: ValidationError) -> str:
    """Why the settings were refused, in one line naming each CAPACITY_ variable."""
    reasons = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        if error["loc"]:
            message = f"CAPACITY_{str(error['loc'][0]).upper()}: {message}"
        reasons.append(message)
    return "; ".join(reasons)
