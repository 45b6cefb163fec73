"""A copy of a signed event appended by an insider is named ``event-replayed`` (issue 15.1).

An insider with write access to the database and no key can append a copy of an event its
author signed at the end of that event's own stream, chained, with its Merkle leaf and nodes
(:mod:`tests.insider`). Every hash then agrees; what catches the copy is what the author signed:
the body's ``version``, the place in the stream the author meant. Events recorded before bodies
signed a version (the legacy store under ``tests/fixtures``) keep verifying, and a copy of one
of them is named by its signature occurring twice in the log.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from api.schemas.submissions import submission_from
from domain.account import Role
from domain.errors import VersionConflict, VersionNotSigned
from infrastructure.application.commands import RecordEvent
from infrastructure.bootstrap import Store
from infrastructure.packets.build import PacketSignatory, build_packet
from infrastructure.packets.verify import verify_packet
from tests.access.conftest import make_person
from tests.cli_stores import sealtrail
from tests.conftest import (
    STUDY,
    Person,
    PersonFactory,
    consent,
    haemoglobin,
    haemoglobin_correction,
    screening,
)
from tests.e2e.conftest import Site
from tests.insider import append_copy

RP101 = f"{STUDY}/RP-101"
RP102 = f"{STUDY}/RP-102"
LEGACY_STORE = Path(__file__).parent.parent / "fixtures" / "legacy-store"

CORRECTION = haemoglobin_correction()


def corrected_subject(store: Store, person_in: PersonFactory) -> Person:
    """RP-101: screened (v1), consent (v2), haemoglobin 7.2 (v3), corrected to 7.4 (v4)."""
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening())
    coordinator.record(store, "RP-101", "ConsentObtained", consent())
    coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin("7.2"))
    coordinator.record(store, "RP-101", "EntryCorrected", CORRECTION)
    return coordinator


def database_url(store: Store) -> str:
    return store.settings.database_url.render_as_string(hide_password=False)


def test_an_insider_s_copy_of_a_correction_is_named_by_verify_and_packet_verify(
    store: Store, person_in: PersonFactory
) -> None:
    corrected_subject(store, person_in)
    assert store.verifier(workers=1).verify().findings == []

    copy = append_copy(store.settings.database_url, RP101, 4)

    findings = store.verifier(workers=1).verify().findings
    assert [(f.position, f.stream, f.version, f.kind) for f in findings] == [
        (copy, RP101, 5, "event-replayed")
    ]
    verified = sealtrail("verify", home=store.settings.home, url=database_url(store))
    assert verified.returncode == 1, verified.stdout + verified.stderr
    assert f"position {copy}: {RP101} version 5: event-replayed" in verified.stdout

    # The sponsor's packet of the store as it now stands: the next checkpoint signs the copy.
    manager = make_person(store, "dm1", role=Role.SPONSOR_DATA_MANAGER, printed_name="Rita Dias")
    packet = build_packet(
        store, signatory=PacketSignatory(manager.user_id, manager.private_key), documents=False
    )
    report = verify_packet(packet)
    assert [(f.position, f.stream, f.version, f.kind) for f in report.findings] == [
        (copy, RP101, 5, "event-replayed")
    ]
    (store.settings.home / "packet.zip").write_bytes(packet)
    checked = sealtrail(
        "packet", "verify", str(store.settings.home / "packet.zip"), home=store.settings.home
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "event-replayed" in checked.stdout


@pytest.mark.requirement("P11-11.10f-2")
def test_a_body_whose_version_is_not_its_place_is_refused_on_the_way_in(
    store: Store, person_in: PersonFactory
) -> None:
    """The author signs the version the event will take; the store takes no other."""
    coordinator = corrected_subject(store, person_in)
    # Signed for version 4, which the correction already took: a stale body, or a copy.
    body = coordinator.body("RP-101", "BloodCountRecorded", haemoglobin("7.9"), version=4)

    with pytest.raises(VersionConflict, match="signed version 4"):
        store.records.record(
            RecordEvent(submission=submission_from(body, coordinator.sign(body)), actor_id="coord1")
        )

    assert [r.event.kind() for r in store.reads.history(RP101)][-1] == "EntryCorrected"
    assert len(store.reads.history(RP101)) == 4


def test_a_body_that_signs_no_version_is_refused(store: Store, person_in: PersonFactory) -> None:
    coordinator = corrected_subject(store, person_in)
    body = coordinator.body("RP-101", "BloodCountRecorded", haemoglobin("7.9"))
    del body["version"]

    with pytest.raises(VersionNotSigned):
        store.records.record(
            RecordEvent(submission=submission_from(body, coordinator.sign(body)), actor_id="coord1")
        )

    assert len(store.reads.history(RP101)) == 4


def legacy_home(tmp_path: Path) -> Path:
    """A copy of the store recorded before bodies signed their version."""
    home = tmp_path / "legacy"
    shutil.copytree(LEGACY_STORE, home)
    return home


def test_a_store_recorded_before_bodies_signed_their_version_still_verifies(
    tmp_path: Path,
) -> None:
    home = legacy_home(tmp_path)

    verified = sealtrail("verify", "--json", home=home)

    assert verified.returncode == 0, verified.stdout + verified.stderr
    report = json.loads(verified.stdout)
    assert report["events"] == 27 and report["findings"] == []


def test_a_copy_of_an_event_recorded_before_bodies_signed_their_version_is_named(
    tmp_path: Path,
) -> None:
    """The legacy body signs no version: the copy is named by its signature, seen twice."""
    home = legacy_home(tmp_path)
    url = f"sqlite:///{home / 'store.sqlite3'}"
    copy = append_copy(make_url(url), RP101, 4)  # RP-101's EntryCorrected, copied as version 6

    verified = sealtrail("verify", "--json", home=home)

    assert verified.returncode == 1, verified.stdout + verified.stderr
    findings = json.loads(verified.stdout)["findings"]
    assert [(f["position"], f["stream"], f["version"], f["kind"]) for f in findings] == [
        (copy, RP101, 6, "event-replayed")
    ]


@pytest.mark.requirement("P11-11.10f-2")
def test_over_http_a_body_without_its_version_is_422_and_a_stale_one_409(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = corrected_subject(store, person_in)
    site = Site(store)
    unsigned = coordinator.body("RP-101", "BloodCountRecorded", haemoglobin("7.9"))
    del unsigned["version"]
    stale = coordinator.body("RP-101", "BloodCountRecorded", haemoglobin("7.9"), version=3)

    missing = site.submit(coordinator, "BloodCountRecorded", {}, body=unsigned)
    conflict = site.submit(coordinator, "BloodCountRecorded", {}, body=stale)

    assert missing.status_code == 422, missing.get_data(as_text=True)
    assert missing.get_json()["type"] == "urn:sealtrail:problem:version-not-signed"
    assert conflict.status_code == 409, conflict.get_data(as_text=True)
    assert conflict.get_json()["title"] == "Version conflict"
    assert len(store.reads.history(RP101)) == 4
