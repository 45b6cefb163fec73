"""Packets of real stores on SQLite and PostgreSQL, over the API and signed by a person.

The stores here hold a followed subject (a correction, a void, a serious adverse event), made
through the same signed write path as the API's.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sqlite3
import time
import zipfile
from datetime import UTC, datetime

import pytest

from domain.account import Role
from infrastructure.application.commands import RevokeKey
from infrastructure.bootstrap import Store
from infrastructure.errors import PacketNotBuildable, PacketSignerInvalid
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.archive import write_zip
from infrastructure.packets.build import PacketSignatory, build_packet
from infrastructure.packets.evidence import MANIFEST
from infrastructure.packets.verify import verify_packet
from projections.odm import check_odm_schema
from tests.access.conftest import make_person
from tests.conftest import (
    STUDY,
    PersonFactory,
    consent,
    eligibility,
    enrolment,
    haemoglobin,
    screening,
)
from tests.e2e.conftest import Site
from tests.integration.test_signature_linking import sign


def with_a_byte_flipped(packet: bytes, path: str) -> bytes:
    """The packet with one bit of one file changed, zipped again as the builder zips."""
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
        zipped_at = datetime(*archive.getinfo(MANIFEST).date_time, tzinfo=UTC)
    middle = len(files[path]) // 2
    files[path] = (
        files[path][:middle] + bytes([files[path][middle] ^ 1]) + files[path][middle + 1 :]
    )
    return write_zip(files, zipped_at)


def followed_subject(store: Store, person_in: PersonFactory) -> None:
    """A subject screened, consented, enrolled, a blood count corrected and one voided, an
    investigator's signature over records, a monitor's query, answered and closed, and the
    monitor's source verification of the eligibility assessment."""
    open_sponsor_account(store.administration, store.settings)
    investigator = person_in(store, "inv1", role=Role.INVESTIGATOR)
    investigator.record(store, "RP-01", "Screened", screening())
    investigator.record(store, "RP-01", "ConsentObtained", consent())
    investigator.record(store, "RP-01", "EligibilityAssessed", eligibility())
    investigator.record(store, "RP-01", "Enrolled", enrolment())
    investigator.record(store, "RP-01", "BloodCountRecorded", haemoglobin("72"))
    investigator.record(store, "RP-01", "BloodCountRecorded", haemoglobin("6.9"))
    investigator.record(
        store,
        "RP-01",
        "EntryCorrected",
        {
            "entry": 5,
            "entry_kind": "BloodCountRecorded",
            "changes": {
                "results": {
                    "old": {"haemoglobin": {"value": "72", "unit": "g/dL"}},
                    "new": {"haemoglobin": {"value": "7.2", "unit": "g/dL"}},
                }
            },
            "reason": "decimal point missed on entry",
        },
    )
    investigator.record(
        store,
        "RP-01",
        "EntryVoided",
        {"entry": 6, "entry_kind": "BloodCountRecorded", "reason": "entered twice"},
    )
    # The investigator reviews the eligibility and the corrected count (21 CFR 11.50).
    sign(store, investigator, "RP-01", 3, 5)
    monitor = person_in(store, "mon1", printed_name="Caio Reis", role=Role.MONITOR)
    question = {"entry": 5, "entry_kind": "BloodCountRecorded", "question": "Source says 7.2?"}
    monitor.record(store, "RP-01", "QueryRaised", {**question, "item": "results"})
    investigator.record(store, "RP-01", "QueryAnswered", {"query": 10, "answer": "Yes, corrected"})
    monitor.record(store, "RP-01", "QueryClosed", {"query": 10, "resolution": "Corrected"})
    # The monitor verifies the eligibility assessment against source, as it stands.
    subject = store.app.find_subject(f"{STUDY}/RP-01")
    assert subject is not None
    seen = {"entry": 3, "entry_kind": "EligibilityAssessed"}
    monitor.record(
        store, "RP-01", "SourceVerified", {**seen, "record_hash": subject.entries[3].record_hash}
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_store_on_each_backend_gives_a_reproducible_packet_that_verifies(
    store: Store, person_in: PersonFactory
) -> None:
    followed_subject(store, person_in)

    first = build_packet(store, documents=False)
    second = build_packet(store, documents=False)
    report = verify_packet(first)

    assert first == second
    assert report.findings == []
    assert report.events == report.tree_size == store.app.checkpoints.latest().tree_size
    # One byte of one file changed: named, whichever database the packet came from.
    altered = verify_packet(with_a_byte_flipped(first, "datasets/LB.csv"))
    assert not altered.ok
    assert {f.file for f in altered.findings if f.kind == "file-altered"} == {"datasets/LB.csv"}
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        odm = archive.read("odm/NCT01297972.odm.xml")
    check_odm_schema(odm)
    # The investigator's signature over entries 3 and 5: a Context transaction on each.
    assert odm.count(b'TransactionType="Context"') == 2
    assert b'SignatureOID="SD.review"' in odm


def test_the_packet_of_a_store_with_documents_verifies_them_drawn_again(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    followed_subject(sqlite_store, person_in)

    report = verify_packet(build_packet(sqlite_store))

    assert report.findings == []
    assert report.documents_redrawn and report.documents_in_packet


def test_a_sponsor_data_manager_signs_a_packet_with_a_personal_key(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    followed_subject(sqlite_store, person_in)
    manager = make_person(
        sqlite_store, "dm1", role=Role.SPONSOR_DATA_MANAGER, printed_name="Rita Dias"
    )

    data = build_packet(
        sqlite_store,
        signatory=PacketSignatory(manager.user_id, manager.private_key),
        documents=False,
    )
    report = verify_packet(data)

    assert report.findings == []
    assert report.signer is not None
    assert (report.signer.user_id, report.signer.printed_name) == ("dm1", "Rita Dias")


def test_an_investigator_may_not_sign_a_packet(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    followed_subject(sqlite_store, person_in)
    investigator = make_person(sqlite_store, "inv2", role=Role.INVESTIGATOR, sites=("RP",))

    with pytest.raises(PacketSignerInvalid, match="not a sponsor data manager"):
        build_packet(
            sqlite_store,
            signatory=PacketSignatory(investigator.user_id, investigator.private_key),
            documents=False,
        )


def test_a_revoked_key_may_not_sign_a_packet(sqlite_store: Store, person_in: PersonFactory) -> None:
    followed_subject(sqlite_store, person_in)
    manager = make_person(sqlite_store, "dm1", role=Role.SPONSOR_DATA_MANAGER)
    sqlite_store.administration.revoke_key(
        RevokeKey(user_id="dm1", key_id=manager.key_id, reason="laptop lost", revoked_at=None)
    )
    time.sleep(1.1)  # a revocation "now" takes effect at the next whole second

    with pytest.raises(PacketSignerInvalid, match="not in force"):
        build_packet(
            sqlite_store,
            signatory=PacketSignatory(manager.user_id, manager.private_key),
            documents=False,
        )


def test_a_sponsor_data_manager_gets_the_packet_over_the_api(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    followed_subject(sqlite_store, person_in)
    manager = make_person(sqlite_store, "dm1", role=Role.SPONSOR_DATA_MANAGER)
    site = Site(sqlite_store)

    response = site.client.post(
        "/v1/packets", json={"documents": False}, headers=site.auth(manager)
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/zip"
    data = response.get_data()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert response.headers["Repr-Digest"] == f"sha-256=:{digest}:"
    assert verify_packet(data).findings == []
    (handed_out,) = sqlite_store.disclosures.of("dm1")
    assert handed_out.sha256 == hashlib.sha256(data).hexdigest()
    assert handed_out.log_size == checkpoint_size(data)  # built from the log as it stood


def test_the_packet_endpoint_refuses_bad_requests_as_problems(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    followed_subject(sqlite_store, person_in)
    manager = make_person(sqlite_store, "dm1", role=Role.SPONSOR_DATA_MANAGER)
    coordinator = person_in(sqlite_store, "coord9", role=Role.SITE_COORDINATOR)
    site = Site(sqlite_store)

    anonymous = site.client.post("/v1/packets", json={})
    not_allowed = site.client.post("/v1/packets", json={}, headers=site.auth(coordinator))
    unknown_field = site.client.post(
        "/v1/packets", json={"format": "tar"}, headers=site.auth(manager)
    )
    unknown_study = site.client.post(
        "/v1/packets", json={"study": "NCT00000000"}, headers=site.auth(manager)
    )

    assert [r.status_code for r in (anonymous, not_allowed, unknown_field, unknown_study)] == [
        401,
        403,
        422,
        422,
    ]
    assert all(
        r.mimetype == "application/problem+json"
        for r in (anonymous, not_allowed, unknown_field, unknown_study)
    )
    assert "format" in str(unknown_field.get_json()["errors"])


def test_a_log_that_no_longer_gives_its_checkpoint_is_not_packed(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    followed_subject(sqlite_store, person_in)
    manager = make_person(sqlite_store, "dm1", role=Role.SPONSOR_DATA_MANAGER)
    an_event_taken_out(sqlite_store)
    site = Site(sqlite_store)

    with pytest.raises(PacketNotBuildable, match="do not give the root of its checkpoint"):
        build_packet(sqlite_store, documents=False)
    response = site.client.post(
        "/v1/packets", json={"documents": False}, headers=site.auth(manager)
    )

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Packet cannot be built"


def an_event_taken_out(store: Store) -> None:
    """A checkpoint sealed, then an event taken out of the SQLite log under it, as the owner of
    the file can: the trigger that refuses deletes dropped first."""
    store.app.checkpoints.seal()
    with sqlite3.connect(str(store.settings.database_url.database)) as connection:
        connection.execute("DROP TRIGGER stored_events_refuse_delete")
        connection.execute("DELETE FROM stored_events WHERE rowid = 5")


def checkpoint_size(packet: bytes) -> int:
    """The size of the log a packet's checkpoint covers (the note's second line)."""
    with zipfile.ZipFile(io.BytesIO(packet)) as archive:
        return int(archive.read("log/checkpoint.txt").decode().split("\n")[1])
