"""Prometheus metrics, one registry per process (scraped at ``/metrics``).

The names are shared: the HTTP middleware, the realtime hub and the Redis watcher update these
objects; nothing else should define metrics of its own.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

WS_CLIENTS = Gauge(
    "capacity_ws_clients", "Websocket clients connected to this process", registry=REGISTRY
)
WS_CLOSED = Counter(
    "capacity_ws_closed_total",
    "Websocket connections closed by the server, by close code",
    ["code"],
    registry=REGISTRY,
)
FANOUT_LAG = Histogram(
    "capacity_fanout_lag_seconds",
    "From a change being accepted to its frame being queued for this process's clients",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
REDIS_RECONNECTS = Counter(
    "capacity_redis_reconnects_total",
    "Times a component found Redis unreachable and retried",
    ["component"],
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "capacity_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "capacity_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["route"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
STALE_FIGURES = Gauge(
    "capacity_stale_figures",
    "Category figures older than the region's freshness limit (refreshed at scrape time)",
    ["region"],
    registry=REGISTRY,
)
LOGIN_LOCKOUTS = Counter(
    "capacity_login_lockouts_total",
    "Logins refused with 429 because an account or address hit its failure limit",
    ["scope"],
    registry=REGISTRY,
)
