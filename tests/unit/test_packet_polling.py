"""The console's packet built in the background (``api/console/client.py``), against a real HTTP
server that answers as told: a build sent to another server is not followed (the person's token
stays with the server asked), an answer with no build to follow and a build never ending are
refusals, and ``Retry-After`` is kept within bounds.

tests/e2e/test_packet_builds_served.py fetches real builds from gunicorn."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api.console import client
from api.console.exits import REFUSED

TOKEN = {"Authorization": "Bearer secret-token"}


class Answering(ThreadingHTTPServer):
    """Answers every request with ``status`` and ``headers``; keeps the requests' Authorization."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status, self.headers = status, headers
        self.seen: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Answering

    def _answer(self) -> None:
        self.server.seen.append(self.headers.get("Authorization"))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.server.status)
        for name, value in self.server.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[list[Answering]]:
    servers: list[Answering] = []
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def started(servers: list[Answering], status: int, headers: dict[str, str]) -> Answering:
    server = Answering(status, headers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
    return server


def test_a_build_sent_to_another_server_is_not_followed(serve: list[Answering]) -> None:
    elsewhere = started(serve, 200, {})
    asked = started(serve, 202, {"Location": f"{elsewhere.url}/v1/packets/x"})

    with pytest.raises(client.ClientError, match="another server") as refused:
        client.fetch_packet(f"{asked.url}/v1/packets", {}, TOKEN)

    assert refused.value.exit_code == REFUSED
    assert elsewhere.seen == []


def test_an_answer_with_no_build_to_follow_is_refused(serve: list[Answering]) -> None:
    asked = started(serve, 202, {})

    with pytest.raises(client.ClientError, match="without a build to follow") as refused:
        client.fetch_packet(f"{asked.url}/v1/packets", {}, TOKEN)

    assert (refused.value.exit_code, refused.value.status) == (REFUSED, 202)


def test_a_build_never_ending_is_given_up(
    serve: list[Answering], monkeypatch: pytest.MonkeyPatch
) -> None:
    building = started(serve, 202, {"Retry-After": "1"})
    monkeypatch.setattr(client, "PACKET_TIMEOUT", 0.0)

    with pytest.raises(client.ClientError, match="not built within"):
        client.packet_when_built(f"{building.url}/v1/packets/x", TOKEN)

    assert building.seen == ["Bearer secret-token"]


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, 5.0), ("2", 2.0), ("0", 1.0), ("3600", 30.0), ("soon", 5.0)]
)
def test_retry_after_is_kept_between_one_and_thirty_seconds(
    value: str | None, seconds: float
) -> None:
    assert client._retry_after(value) == seconds
