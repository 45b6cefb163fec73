"""A real RFC 3161 time-stamping authority on 127.0.0.1 for tests: pyHanko's DummyTimeStamper
(RSA, signs every request it is sent) behind Python's own HTTP server, with a test CA.

Each authority has its own root; a store trusts an authority by the root's PEM file
(``SEALTRAIL_TSA_CERTS``). ``valid`` sets the TSA certificate's validity, ``clock`` the time
the authority stamps (a TSA whose certificate has expired keeps stamping the present).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import eventsourcing.domain
import pytest
from asn1crypto import keys as asn1_keys  # type: ignore[import-untyped]
from asn1crypto import tsp as asn1_tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from infrastructure.bootstrap import Store
from infrastructure.store.timestamps import CheckpointStamper, TimeStampingAuthority


@dataclass(frozen=True)
class LocalAuthority:
    """A running test TSA: where to send requests and the root to trust it by."""

    url: str
    root_pem: Path
    root: x509.Certificate
    stamped: list[int]
    """One entry per request answered."""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def make_chain(
    name: str, valid_from: datetime, valid_until: datetime
) -> tuple[x509.Certificate, x509.Certificate, rsa.RSAPrivateKey]:
    """A root and a TSA certificate it issues (critical EKU id-kp-timeStamping), the TSA's key."""
    now = datetime.now(UTC)
    root_key, tsa_key = _key(), _key()
    root = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{name} root"))
        .issuer_name(_name(f"{name} root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=3650))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(root_key, hashes.SHA256())
    )
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(root.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    return root, tsa, tsa_key


@contextmanager
def running_authority(
    folder: Path,
    name: str = "sealtrail test TSA",
    *,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Iterator[LocalAuthority]:
    """Serve a TSA on 127.0.0.1 (a free port) until the block ends."""
    now = datetime.now(UTC)
    root, tsa, tsa_key = make_chain(
        name, valid_from or now - timedelta(days=1), valid_until or now + timedelta(days=365)
    )
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
    )
    stamped: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                request = asn1_tsp.TimeStampReq.load(body)
                request.native  # noqa: B018 - parse it all now: a bad request is a 400
            except ValueError:
                self.send_error(400, "not a TimeStampReq")
                return
            stamper.fixed_dt = clock() if clock is not None else datetime.now(UTC)
            answer = stamper.request_tsa_response(request).dump()
            stamped.append(len(stamped) + 1)
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    folder.mkdir(parents=True, exist_ok=True)
    root_pem = folder / f"{name.replace(' ', '-')}-root.pem"
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    try:
        yield LocalAuthority(
            f"http://127.0.0.1:{server.server_address[1]}/tsa", root_pem, root, stamped
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def stamp_with(store: Store, authority: LocalAuthority) -> None:
    """The store stamps its checkpoints from now on, as ``SEALTRAIL_TSA_URL`` makes it."""
    store.app.checkpoints.stamper = CheckpointStamper(
        store.engine, TimeStampingAuthority(authority.url, [authority.root])
    )


def shift_server_clock(monkeypatch: pytest.MonkeyPatch, by: timedelta) -> None:
    """The server's clock, as it dates the events it records, ``by`` off (until undone): the
    clock eventsourcing reads for every new event's timestamp."""
    server_clock = eventsourcing.domain.datetime_now_with_tzinfo
    monkeypatch.setattr(
        eventsourcing.domain, "datetime_now_with_tzinfo", lambda: server_clock() + by
    )
