"""The shipped proxy pair, run for real: deploy/nginx.conf in front of a uvicorn that trusts
X-Forwarded-For exactly as docker-compose.yml configures it.

No Docker engine runs here, so the pair is rebuilt from the repository's own files: Debian's nginx
(`make nginx`) runs deploy/nginx.conf with only its addresses changed (the upstream is the test's
server, nginx listens on a free loopback port, and it connects to the app from 127.0.0.2, which
stands for the proxy's fixed address in compose). The server's FORWARDED_ALLOW_IPS is compose's
value with the proxy's compose address replaced by 127.0.0.2; any other value ("*", a CIDR) is
passed on unchanged. Clients are 127.0.0.1 (or 127.0.0.3); the forged addresses below are only
header values, never contacted.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from capacity.storage.redis import EmbeddedValkey
from tests import servers
from tests.conftest import Databases

ROOT = Path(__file__).resolve().parents[2]
PROXY = "127.0.0.2"  # the proxy's address as the app sees it (compose: x-proxy-address)
OTHER_CLIENT = "127.0.0.3"
TOKEN = "/api/v1/auth/token"
ADDRESS_LIMIT = 20  # CAPACITY_LOGIN_ADDRESS_FAILURES' default


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        message = "nginx missing: `make nginx` installs Debian's nginx for this test"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the proxy pair, never skip it
        pytest.skip(message)
    return found


def compose_trust() -> str:
    """FORWARDED_ALLOW_IPS of compose's app instances, in this test's addresses."""
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    values = {services[name]["environment"]["FORWARDED_ALLOW_IPS"] for name in ("app-1", "app-2")}
    assert len(values) == 1, values
    proxy_networks = services["proxy"].get("networks") or {}
    proxy_addresses = {
        n["ipv4_address"] for n in proxy_networks.values() if n and "ipv4_address" in n
    }
    trusted = [item.strip() for item in str(values.pop()).split(",")]
    return ",".join(PROXY if item in proxy_addresses else item for item in trusted)


def render(conf: str, *, upstream_port: int, listen_port: int, logs: Path) -> str:
    """deploy/nginx.conf with the test's addresses; nothing else changes."""
    conf, upstreams = re.subn(
        r"upstream capacity \{[^}]*\}",
        f"upstream capacity {{\n    server 127.0.0.1:{upstream_port};\n}}",
        conf,
    )
    conf, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen_port};", conf)
    conf, access = re.subn(r"access_log \S+", f"access_log {logs / 'access.log'}", conf)
    assert (upstreams, listens, access) == (1, 1, 1), "deploy/nginx.conf changed shape"
    return conf


@dataclass
class Pair:
    nginx: str  # base URL of the proxy
    app: str  # base URL of the app itself
    trust: str  # the app's FORWARDED_ALLOW_IPS
    redis_url: str


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen: {log.read_text()}")


@pytest.fixture(scope="module")
def pair(
    databases: Databases, valkey: EmbeddedValkey, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    nginx = _nginx()
    trust = compose_trust()
    tmp = tmp_path_factory.mktemp("proxy")
    server = servers.Server(
        database_url=databases.fresh(),
        redis_url=valkey.url,
        data_dir=tmp / "var",
        frontend_dir=str(tmp / "no-frontend"),
    )
    server.env["FORWARDED_ALLOW_IPS"] = trust
    listen = servers.free_port()
    conf = tmp / "nginx"
    for sub in ("logs", "temp"):
        (conf / sub).mkdir(parents=True)
        (conf / sub).chmod(0o777)  # nginx's workers drop root
    (conf / "capacity.conf").write_text(
        render(
            (ROOT / "deploy" / "nginx.conf").read_text(),
            upstream_port=server.port,
            listen_port=listen,
            logs=conf / "logs",
        )
    )
    temp = conf / "temp"
    (conf / "nginx.conf").write_text(
        f"""worker_processes 1;
pid {conf / "nginx.pid"};
error_log {conf / "logs" / "error.log"} warn;
events {{ worker_connections 128; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    # The proxy's own address towards the apps (compose gives it a fixed one).
    proxy_bind {PROXY};
    include {conf / "capacity.conf"};
}}
"""
    )
    log = conf / "logs" / "error.log"
    with servers.running([server]):
        command = [nginx, "-e", str(log), "-p", str(conf), "-c", str(conf / "nginx.conf")]
        process = subprocess.Popen(
            [*command, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(listen, process, log)
            yield Pair(f"http://127.0.0.1:{listen}", server.url, trust, valkey.url)
        finally:
            process.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture
def fresh_limits(pair: Pair) -> Pair:
    """Each test starts with no failed logins counted (cap:login:*, docs/operations.md)."""
    client = redis.Redis.from_url(pair.redis_url)
    for key in client.scan_iter("cap:login:*"):
        client.delete(key)
    client.close()
    return pair


def _client(base: str, source: str = "127.0.0.1") -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=base, transport=transport, timeout=10)


def _failed_logins(client: httpx.Client, forged: list[str | None]) -> list[int]:
    """One failed login per entry (each under a new, unknown account name, so only the
    per-address limit can stop them), sending that X-Forwarded-For."""
    statuses = []
    for i, address in enumerate(forged):
        headers = {"X-Forwarded-For": address} if address else {}
        response = client.post(
            TOKEN, data={"username": f"nobody-{i}", "password": "guess"}, headers=headers
        )
        statuses.append(response.status_code)
    return statuses


def _forged(count: int) -> list[str | None]:
    return [f"198.51.100.{i + 1}" for i in range(count)]  # documentation range, header only


def test_compose_trusts_only_the_proxy(pair: Pair) -> None:
    assert pair.trust == PROXY, f"FORWARDED_ALLOW_IPS must name the proxy only, not {pair.trust}"


def test_a_new_forged_address_per_attempt_is_still_one_address_through_nginx(
    fresh_limits: Pair,
) -> None:
    with _client(fresh_limits.nginx) as client:
        statuses = _failed_logins(client, _forged(30))
        assert statuses == [401] * ADDRESS_LIMIT + [429] * 10, statuses
        # this address is now locked out, even with the right password
        refused = client.post(TOKEN, data={"username": "admin", "password": "demo"})
        assert refused.status_code == 429 and "your address" in refused.json()["detail"]
    # ... but it is the real client's address the app counted, not the proxy's: another
    # client behind the same proxy still signs in.
    with _client(fresh_limits.nginx, OTHER_CLIENT) as other:
        assert other.post(TOKEN, data={"username": "admin", "password": "demo"}).status_code == 200


def test_metrics_are_not_opened_through_nginx_by_a_loopback_header(fresh_limits: Pair) -> None:
    with _client(fresh_limits.nginx) as client:
        for path in ("/metrics", "/metrics?format=text", "/metrics/"):
            response = client.get(path, headers={"X-Forwarded-For": "127.0.0.1"})
            assert response.status_code in (403, 404), (path, response.status_code)
        assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403
    # Even where the proxy passes a request on (its /metrics block lost), a forwarded request
    # is not a loopback caller: the proxy's address, relaying "127.0.0.1", gets 403.
    with _client(fresh_limits.app, PROXY) as as_proxy:
        relayed = as_proxy.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
        assert relayed.status_code == 403, relayed.text
    with _client(fresh_limits.app) as direct:  # a process on the host, asking directly
        assert direct.get("/metrics").status_code == 200


def test_a_forged_header_sent_straight_to_the_app_is_ignored(fresh_limits: Pair) -> None:
    """A caller that is not the proxy (here 127.0.0.1) is counted at its own address."""
    with _client(fresh_limits.app) as client:
        statuses = _failed_logins(client, _forged(30))
    assert statuses == [401] * ADDRESS_LIMIT + [429] * 10, statuses
    # The proxy itself is believed: what it relays is a client of its own.
    with _client(fresh_limits.app, PROXY) as as_proxy:
        relayed = as_proxy.post(
            TOKEN,
            data={"username": "admin", "password": "demo"},
            headers={"X-Forwarded-For": "198.51.100.200"},
        )
        assert relayed.status_code == 200, relayed.text
