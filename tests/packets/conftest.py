"""Packets of the demonstration cohort, built once per test run, and a way to tamper.

The packets are built by ``sealtrail packet build`` on a copy of the demonstration store, as a
sponsor does; the tampering helpers rewrite the zip the way someone holding only the packet
(or, worse, the sponsor's key too) could.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infrastructure.identity.sponsor_key import PRIVATE_KEY_FILE
from infrastructure.packets.archive import Manifest, sha256, write_zip
from infrastructure.packets.evidence import MANIFEST, MANIFEST_SIGNATURE
from signatures.authorship import sign_body
from signatures.keys import private_key_from_pem
from tests.cli_stores import data_manager_at, sealtrail
from tests.shared_templates import made_once


@dataclass(frozen=True)
class BuiltPacket:
    """A packet's bytes, the store it came from and the sponsor's key that signed it."""

    data: bytes
    home: Path
    sponsor_key: Ed25519PrivateKey

    def files(self) -> dict[str, bytes]:
        """Every file of the packet by path."""
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}


def build(home: Path, *args: str, url: str | None = None) -> bytes:
    """``sealtrail packet build`` in ``home`` (on the database ``url``); the zip's bytes."""
    out = home / "packet.zip"
    done = sealtrail(
        "packet",
        "build",
        "--out",
        str(out),
        *args,
        home=home,
        url=url,
        extra_env=data_manager_at(home, url),
    )
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


@pytest.fixture(scope="session")
def demo_packet(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltPacket:
    """The demonstration cohort's packet without its PDFs (fast to verify), once per test run
    (:func:`tests.shared_templates.made_once`); its store is only read.

    Built from a SQLite store: what these tests tamper with is the packet, a file the verifier
    reads with no database at all. That a PostgreSQL store gives a packet that verifies, and
    whose altered file is named, is tests/packets/test_packet_store.py's per-backend test.
    """

    def build_one(folder: Path) -> None:
        shutil.copytree(demo_template, folder / "home")
        (folder / "packet.zip").write_bytes(packet_of(folder / "home").data)

    made = made_once(tmp_path_factory, "demo-packet", build_one)
    key = private_key_from_pem((made / "home" / "keys" / PRIVATE_KEY_FILE).read_bytes())
    return BuiltPacket((made / "packet.zip").read_bytes(), made / "home", key)


def packet_of(home: Path, url: str | None = None) -> BuiltPacket:
    data = build(home, "--no-documents", url=url)
    key = private_key_from_pem((home / "keys" / PRIVATE_KEY_FILE).read_bytes())
    return BuiltPacket(data, home, key)


Edit = Callable[[bytes], bytes] | bytes | None


def tampered(
    packet: BuiltPacket,
    edits: Mapping[str, Edit],
    *,
    resign: bool = False,
) -> bytes:
    """The packet with files changed (bytes or a function of the old bytes), added or removed
    (None); with ``resign``, the manifest rewritten for the new files and signed again with the
    sponsor's key, as only someone holding that key could."""
    files = packet.files()
    for path, edit in edits.items():
        if edit is None:
            files.pop(path, None)
        elif isinstance(edit, bytes):
            files[path] = edit
        else:
            files[path] = edit(files[path])
    if resign:
        old = Manifest.parse(files[MANIFEST])
        others = {p: c for p, c in files.items() if p not in (MANIFEST, MANIFEST_SIGNATURE)}
        # The same description of the packet, over the files as they now are.
        manifest = replace(
            old,
            files={path: sha256(content) for path, content in others.items()},
            sizes={path: len(content) for path, content in others.items()},
        )
        text, signature = sign_body(packet.sponsor_key, manifest.body())
        files[MANIFEST] = text.encode("utf-8")
        files[MANIFEST_SIGNATURE] = (signature + "\n").encode("ascii")
    manifest_text = packet.files()[MANIFEST]
    sealed = json.loads(manifest_text)["log"]["checkpoint"]["sealed_at"]
    return write_zip(files, datetime.fromisoformat(sealed.replace("Z", "+00:00")))
