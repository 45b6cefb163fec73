"""Packets carry the witnesses' cosignatures (``log/cosignatures.jsonl``), and
``packet verify --witness ... --quorum N`` checks them offline, as ``verify`` checks the store's."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from domain.account import Role
from infrastructure.application.witnessing import Witnessing
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.archive import write_zip
from infrastructure.packets.build import build_packet
from infrastructure.packets.evidence import COSIGNATURES, MANIFEST
from infrastructure.packets.verify import verify_packet
from infrastructure.store.merkle_log import cosignatures
from infrastructure.verification.witness_checks import WitnessPolicy
from signatures.checkpoint import Checkpoint
from signatures.cosignature import cosign, witness_key
from signatures.keys import key_id
from tests.cli_stores import sealtrail
from tests.conftest import Person, PersonFactory, consent, screening


@pytest.fixture
def cep(sqlite_store: Store, person_in: PersonFactory) -> Person:
    """The ethics committee's witness, and a log with a checkpoint it cosigned."""
    open_sponsor_account(sqlite_store.administration, sqlite_store.settings)
    coordinator = person_in(sqlite_store)
    coordinator.record(sqlite_store, "RP-101", "Screened", screening())
    coordinator.record(sqlite_store, "RP-101", "ConsentObtained", consent())
    cep = person_in(sqlite_store, "cep-witness", role=Role.WITNESS, sites=())
    sealed = sqlite_store.app.checkpoints.seal()
    checkpoint = Checkpoint(sqlite_store.app.checkpoints.origin, sealed.tree_size, sealed.root)
    line = cosign(cep.private_key, cep.user_id, checkpoint, int(time.time())).line()
    Witnessing(sqlite_store.app).receive(checkpoint.size, checkpoint.body(), line)
    return cep


def policy(cep: Person, quorum: int = 1) -> WitnessPolicy:
    return WitnessPolicy((witness_key(cep.user_id, cep.private_key),), quorum)


def kinds(packet: bytes, witnesses: WitnessPolicy | None) -> list[str]:
    return [
        f.kind for f in verify_packet(packet, redraw_documents=False, witnesses=witnesses).findings
    ]


def test_a_packet_carries_the_cosignatures_and_verifies_its_quorum_offline(
    sqlite_store: Store, cep: Person
) -> None:
    packet = build_packet(sqlite_store, documents=False)

    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        (line,) = archive.read(COSIGNATURES).decode().splitlines()
    assert json.loads(line)["witness"] == "cep-witness"
    assert kinds(packet, policy(cep)) == []
    assert kinds(packet, None) == []


def test_a_packet_built_after_more_events_still_vouched_for_by_its_witness(
    sqlite_store: Store, cep: Person, person_in: PersonFactory
) -> None:
    """The packet seals a checkpoint of the whole log; the witness cosigned an earlier one,
    recently: checked against the root of that size, rebuilt from the packet's leaves."""
    person_in(sqlite_store, "coord2").record(sqlite_store, "RP-102", "Screened", screening())

    packet = build_packet(sqlite_store, documents=False)

    assert kinds(packet, policy(cep)) == []
    assert kinds(packet, WitnessPolicy(policy(cep).trusted, 1, max_age=-1)) == [
        "cosignature-stale",
        "witness-quorum-not-met",
    ]


def test_a_packet_nobody_trusted_cosigned_fails_the_quorum(
    sqlite_store: Store, cep: Person, person_in: PersonFactory
) -> None:
    sponsor = person_in(sqlite_store, "sponsor-witness", role=Role.WITNESS, sites=())
    packet = build_packet(sqlite_store, documents=False)

    report = verify_packet(
        packet,
        redraw_documents=False,
        witnesses=WitnessPolicy((witness_key(sponsor.user_id, sponsor.private_key),), 1),
    )

    (finding,) = report.findings
    assert finding.kind == "witness-quorum-not-met"
    assert "sponsor-witness (no cosignature)" in finding.detail


def test_a_cosignature_changed_in_the_packet_is_named_forged(
    sqlite_store: Store, cep: Person
) -> None:
    packet = build_packet(sqlite_store, documents=False)
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
        zipped_at = datetime(*archive.getinfo(MANIFEST).date_time, tzinfo=UTC)
    kept = json.loads(files[COSIGNATURES])
    line = kept["cosignature"]
    kept["cosignature"] = line[:-8] + "AAAAAA=="
    files[COSIGNATURES] = (json.dumps(kept) + "\n").encode()

    found = kinds(write_zip(files, zipped_at), policy(cep))

    assert "cosignature-forged" in found and "witness-quorum-not-met" in found
    assert "file-altered" in found  # and the sponsor's manifest no longer covers the file


def test_a_cosignature_by_an_account_that_was_no_witness_is_named_in_the_packet(
    sqlite_store: Store, cep: Person, person_in: PersonFactory
) -> None:
    """A monitor's cosignature row, written into the store by hand, travels in the packet:
    packet verify asks the role it held then from the packet's own account events."""
    monitor = person_in(sqlite_store, "mon1", role=Role.MONITOR)
    sealed = sqlite_store.app.checkpoints.seal()
    checkpoint = Checkpoint(sqlite_store.app.checkpoints.origin, sealed.tree_size, sealed.root)
    line = cosign(monitor.private_key, "mon1", checkpoint, int(time.time())).line()
    with sqlite_store.engine.begin() as connection:
        connection.execute(
            insert(cosignatures).values(
                tree_size=checkpoint.size,
                witness="mon1",
                cosigned_at=int(time.time()),
                key_id=key_id(monitor.private_key.public_key()),
                line=line,
                checkpoint=checkpoint.body(),
                received_at=datetime.now(UTC),
            )
        )

    packet = build_packet(sqlite_store, documents=False)

    assert kinds(packet, None) == ["cosigner-not-a-witness"]


def test_packet_verify_takes_witness_keys_and_a_quorum_at_the_console(
    sqlite_store: Store, cep: Person, tmp_path: Path, person_in: PersonFactory
) -> None:
    path = tmp_path / "packet.zip"
    path.write_bytes(build_packet(sqlite_store, documents=False))
    vkey = witness_key(cep.user_id, cep.private_key).text()
    other = person_in(sqlite_store, "site-witness", role=Role.WITNESS, sites=())
    other_key = tmp_path / "site-witness.vkey"
    other_key.write_text(witness_key(other.user_id, other.private_key).text() + "\n")

    held = sealtrail(
        "packet", "verify", str(path), "--no-documents", "--witness", vkey, home=tmp_path
    )
    failed = sealtrail(
        "packet",
        "verify",
        str(path),
        "--no-documents",
        "--witness",
        vkey,
        "--witness",
        str(other_key),
        "--quorum",
        "2",
        home=tmp_path,
    )
    wrong = sealtrail(
        "packet", "verify", str(path), "--witness", "cep-witness+00+AAAA", home=tmp_path
    )
    too_many = sealtrail(
        "packet", "verify", str(path), "--witness", vkey, "--quorum", "2", home=tmp_path
    )

    assert held.returncode == 0, held.stdout + held.stderr
    assert failed.returncode == 1
    assert "witness-quorum-not-met" in failed.stdout and "site-witness" in failed.stdout
    for usage in (wrong, too_many):
        assert usage.returncode == 2
        assert len(usage.stderr.strip().splitlines()) == 1
