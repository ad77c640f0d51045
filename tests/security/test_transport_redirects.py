"""Finding 9: a redirect never carries the API token to another host and never leaves https.

Two real HTTP servers: "Qualtrics" (the configured host) answers with a redirect, the other one records
every request it receives, headers included. requests strips only ``Authorization`` on a cross-host
redirect; Qualtrics' token travels in ``X-API-TOKEN``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qualtrics import QualtricsClient
from qualtrics.errors import InsecureTransport, QualtricsError
from qualtrics.transport import RetryPolicy

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

TOKEN = "a-real-looking-api-token-0123456789"
NO_RETRY = RetryPolicy(attempts=0, timeout=(2.0, 5.0))


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, redirect_to: str | None = None) -> None:
        self.redirect_to = redirect_to
        self.seen: list[dict[str, str]] = []
        super().__init__((host, 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()} | {"path": self.path})
        if self.server.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"meta": {"httpStatus": "401 - Unauthorized"}}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(server: Recorder) -> Recorder:
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def servers() -> Iterator[list[Recorder]]:
    started: list[Recorder] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def non_loopback_address() -> str | None:
    """This machine's address on its outward interface (no packet is sent), or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_api_token_is_not_forwarded_when_qualtrics_redirects_to_another_host(servers):
    other = serve(Recorder("127.0.0.1"))
    servers.append(other)
    # "localhost" and "127.0.0.1" are different hosts to requests' should_strip_auth (hostname compared).
    qualtrics = serve(Recorder("127.0.0.1", redirect_to=f"http://localhost:{other.server_address[1]}"))
    servers.append(qualtrics)
    client = QualtricsClient.with_api_token(f"http://127.0.0.1:{qualtrics.server_address[1]}", TOKEN,
                                            retry=NO_RETRY)
    with client, pytest.raises(QualtricsError):
        client.whoami()
    assert qualtrics.seen[0]["x-api-token"] == TOKEN, "the configured host gets the token"
    assert len(other.seen) == 1 and other.seen[0]["path"] == "/API/v3/whoami", "the redirect was followed"
    assert "x-api-token" not in other.seen[0], "the token must not reach the other host"
    assert TOKEN not in repr(other.seen)


def test_redirect_to_another_port_of_the_same_host_drops_the_token(servers):
    target = serve(Recorder("127.0.0.1"))
    servers.append(target)
    port = target.server_address[1]
    hop = serve(Recorder("127.0.0.1", redirect_to=f"http://127.0.0.1:{port}"))
    servers.append(hop)
    # Another port is another origin: requests keeps credentials only for the default-port http→https upgrade.
    client = QualtricsClient.with_api_token(f"http://127.0.0.1:{hop.server_address[1]}", TOKEN, retry=NO_RETRY)
    with client, pytest.raises(QualtricsError):
        client.whoami()
    assert "x-api-token" not in target.seen[0]


def test_redirect_to_plain_http_on_a_network_host_is_refused_before_connecting(servers):
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to stand in for a network host")
    outside = serve(Recorder("0.0.0.0"))
    servers.append(outside)
    qualtrics = serve(Recorder("127.0.0.1", redirect_to=f"http://{address}:{outside.server_address[1]}"))
    servers.append(qualtrics)
    client = QualtricsClient.with_api_token(f"http://127.0.0.1:{qualtrics.server_address[1]}", TOKEN,
                                            retry=NO_RETRY)
    with client, pytest.raises(InsecureTransport, match="https"):
        client.whoami()
    assert outside.seen == [], "no request (and no token) may go out over plain http"
