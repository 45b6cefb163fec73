"""A packet carries its checkpoint's RFC 3161 time-stamp; ``packet verify`` checks it offline
against the reader's trusted authority and bounds every event's recording time by it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.evidence import EVENTS, TIMESTAMP
from infrastructure.packets.verify import verify_packet
from tests.conftest import PersonFactory, consent, screening
from tests.integration.test_timestamps import consent_recorded_ahead
from tests.packets.test_packet_cli import offline
from tests.tsa import LocalAuthority, running_authority, stamp_with


@pytest.fixture
def stamped_store(sqlite_store: Store, authority: LocalAuthority) -> Store:
    """A store whose checkpoints ``authority`` stamps (as SEALTRAIL_TSA_URL makes it), with the
    sponsor's account that signs packets."""
    open_sponsor_account(sqlite_store.administration, sqlite_store.settings)
    stamp_with(sqlite_store, authority)
    return sqlite_store


def packet_of(store: Store, person_in: PersonFactory) -> bytes:
    person = person_in(store)
    person.record(store, "RP-101", "Screened", screening())
    person.record(store, "RP-101", "ConsentObtained", consent())
    store.app.checkpoints.seal()
    return build_packet(store, documents=False)


def test_a_packet_carries_its_checkpoint_s_time_stamp_and_verifies_with_it(
    stamped_store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    data = packet_of(stamped_store, person_in)

    report = verify_packet(data, redraw_documents=False, trusted_authorities=[authority.root])

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert TIMESTAMP in archive.namelist()
    assert report.findings == []
    assert report.notes == []


def test_a_packet_s_time_stamp_by_an_authority_the_reader_does_not_trust_is_named(
    stamped_store: Store, person_in: PersonFactory, tmp_path: Path
) -> None:
    data = packet_of(stamped_store, person_in)

    with running_authority(tmp_path / "other", "another TSA") as other:
        report = verify_packet(data, redraw_documents=False, trusted_authorities=[other.root])

    assert [(f.kind, f.file) for f in report.findings] == [("timestamp-untrusted", TIMESTAMP)]


def test_a_packet_s_time_stamp_not_checked_is_said_as_a_note(
    stamped_store: Store, person_in: PersonFactory
) -> None:
    report = verify_packet(packet_of(stamped_store, person_in), redraw_documents=False)

    assert report.ok
    assert any("not checked" in note for note in report.notes), report.notes


def test_an_event_of_a_packet_recorded_after_its_checkpoint_s_stamp_is_named(
    stamped_store: Store,
    authority: LocalAuthority,
    person_in: PersonFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server whose clock ran 20 minutes ahead when it recorded the consent."""
    receipt = consent_recorded_ahead(stamped_store, person_in, monkeypatch)
    stamped_store.app.checkpoints.seal()

    report = verify_packet(
        build_packet(stamped_store, documents=False),
        redraw_documents=False,
        trusted_authorities=[authority.root],
    )

    assert [(f.kind, f.file, f.position, f.stream) for f in report.findings] == [
        ("recorded-time-out-of-bounds", EVENTS, receipt["position"], "NCT01297972/RP-101")
    ]
    assert report.findings[0].detail.startswith("ConsentObtained recorded at ")


def test_packet_verify_with_a_certificate_file_that_is_not_there_is_one_line_and_exit_2(
    tmp_path: Path,
) -> None:
    (tmp_path / "p.zip").write_bytes(b"PK")

    done = offline("packet", "verify", "p.zip", "--tsa-certs", "missing.pem", cwd=tmp_path)

    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "SEALTRAIL_TSA_CERTS" in done.stderr and "missing.pem" in done.stderr
