"""A packet whose checkpoint's time-stamp failed carries the failure with the server's signed
statement of it (``log/checkpoint-stamp-failure.json``), and ``packet verify`` judges it as
``verify`` judges the store's row: a statement that holds is a note; one missing, edited,
or copied from another checkpoint is named, by the kinds ``verify`` uses. The insider holds
the sponsor's key (and so signs the manifest again) or the database, never the server's key.
A real authority on 127.0.0.1, down where the test says so."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from sqlalchemy import update

from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import load_sponsor_key, open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.evidence import STAMP_FAILURE, TIMESTAMP, json_line
from infrastructure.packets.verify import PacketReport, verify_packet
from infrastructure.store.checkpoints import SealedCheckpoint
from infrastructure.store.merkle_log import checkpoint_timestamps
from infrastructure.store.timestamps import (
    CheckpointStamper,
    TimeStampingAuthority,
    timestamp_of,
)
from signatures.stamp_failures import failure_record
from signatures.timestamps import StampAttempt
from tests.conftest import PersonFactory, consent, haemoglobin, screening, store_asked_for
from tests.integration.test_timestamp_failures import down, unprotect_timestamps
from tests.packets.conftest import BuiltPacket, tampered
from tests.packets.test_packet_cli import offline
from tests.tsa import LocalAuthority, stamp_with


@pytest.fixture
def store(request: pytest.FixtureRequest) -> Store:
    """A store (SQLite unless the test asks) with the sponsor's account that signs packets."""
    opened = store_asked_for(request)
    open_sponsor_account(opened.administration, opened.settings)
    return opened


def sealed_after(
    store: Store,
    person_in: PersonFactory,
    authority: LocalAuthority,
    subject: str = "RP-101",
    user_id: str = "coord1",
) -> SealedCheckpoint:
    """A new person's records of a new subject, then a checkpoint stamped by ``authority``
    (down or not)."""
    person = person_in(store, user_id)
    stamp_with(store, authority)
    person.record(store, subject, "Screened", screening())
    person.record(store, subject, "ConsentObtained", consent())
    person.record(store, subject, "BloodCountRecorded", haemoglobin("7.1"))
    return store.app.checkpoints.seal()


def packet(store: Store) -> BuiltPacket:
    data = build_packet(store, documents=False)
    return BuiltPacket(data, Path(), load_sponsor_key(store.settings))


def kept(store: Store, size: int) -> StampAttempt:
    attempt = timestamp_of(store.engine, size)
    assert attempt is not None
    return attempt


def carried(record: Mapping[str, object]) -> bytes:
    """A failure as a packet carries it."""
    return (json_line(dict(record)) + "\n").encode("utf-8")


def carried_in(built: BuiltPacket) -> dict[str, str | None]:
    """The failure the packet carries."""
    record: dict[str, str | None] = json.loads(built.files()[STAMP_FAILURE])
    return record


def refiled(built: BuiltPacket, authority: LocalAuthority, **changed: str | None) -> PacketReport:
    """Packet verify's report on the packet whose failure's fields are ``changed`` by someone
    holding the sponsor's key, who signs the manifest again."""
    record = carried(carried_in(built) | changed)
    return verified(tampered(built, {STAMP_FAILURE: record}, resign=True), authority)


def verified(data: bytes, authority: LocalAuthority) -> PacketReport:
    return verify_packet(data, redraw_documents=False, trusted_authorities=[authority.root])


def found(report: PacketReport) -> list[tuple[str, str | None]]:
    return [(finding.kind, finding.file) for finding in report.findings]


@pytest.fixture
def failed(
    store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> tuple[SealedCheckpoint, BuiltPacket]:
    """A checkpoint whose authority was down, and the packet of it."""
    sealed = sealed_after(store, person_in, down(authority))
    return sealed, packet(store)


# -- what the store kept, the packet carries and packet verify accepts ----------------------------


@pytest.mark.requirement("P11-11.10e-3")
@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_packet_carries_its_checkpoint_s_signed_failure_and_verify_says_it_as_a_note(
    store: Store, authority: LocalAuthority, failed: tuple[SealedCheckpoint, BuiltPacket]
) -> None:
    sealed, built = failed

    report = verified(built.data, authority)

    files = built.files()
    assert TIMESTAMP not in files
    assert files[STAMP_FAILURE] == carried(failure_record(kept(store, sealed.tree_size)))
    assert json.loads(files[STAMP_FAILURE])["statement"].startswith(
        "sealtrail/time-stamp-failure/v1\n"
    )
    assert report.ok, report.findings
    assert any(
        f"the packet's checkpoint of size {sealed.tree_size} is not time-stamped" in note
        and "could not be reached" in note
        and "(the server's signed statement)" in note
        for note in report.notes
    ), report.notes


def test_a_packet_whose_stamp_held_carries_no_failure(
    store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    sealed_after(store, person_in, authority)

    files = packet(store).files()

    assert TIMESTAMP in files and STAMP_FAILURE not in files


class SlowAuthority(TimeStampingAuthority):
    """The authority on 127.0.0.1, answering a second late (a slow network)."""

    def stamp(self, note: str) -> bytes:
        time.sleep(1)
        return super().stamp(note)


def test_a_packet_built_while_its_checkpoint_is_being_stamped_waits_for_the_token(
    store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    """Another process sealed the checkpoint and is asking the authority: the packet does not
    go without the token (which packet verify would name ``timestamp-missing``)."""
    person = person_in(store, "coord1")
    person.record(store, "RP-101", "Screened", screening())  # the first write seals one
    store.app.checkpoints.stamper = CheckpointStamper(
        store.engine, SlowAuthority(authority.url, [authority.root])
    )
    person.record(store, "RP-101", "ConsentObtained", consent())
    size = store.app.checkpoints.head().size
    assert store.app.checkpoints.at_size(size) is None
    sealing = threading.Thread(target=store.app.checkpoints.seal)
    sealing.start()
    try:
        while store.app.checkpoints.at_size(size) is None:
            time.sleep(0.05)
        assert timestamp_of(store.engine, size) is None  # being stamped
        data = build_packet(store, documents=False)
    finally:
        sealing.join()

    assert TIMESTAMP in BuiltPacket(data, Path(), load_sponsor_key(store.settings)).files()
    report = verified(data, authority)
    assert report.ok, report.findings
    assert report.notes == []


# -- an insider with the sponsor's key edits the packet ------------------------------------------


@pytest.mark.requirement("P11-11.10e-3")
def test_an_edited_statement_in_the_packet_is_named_forged(
    authority: LocalAuthority, failed: tuple[SealedCheckpoint, BuiltPacket]
) -> None:
    _sealed, built = failed
    record = carried_in(built)
    # Another reason, in the statement itself and the record alike: the signature no longer
    # covers what the statement says.
    reason = "answered HTTP 503"
    failure, statement = (str(record[field]) for field in ("failure", "statement"))
    assert "could not be reached" in statement

    report = refiled(
        built,
        authority,
        failure=failure.replace("could not be reached", reason),
        statement=statement.replace("could not be reached", reason),
    )

    assert found(report) == [("timestamp-failure-forged", STAMP_FAILURE)]
    assert "does not verify" in report.findings[0].detail


@pytest.mark.requirement("P11-11.10e-3")
def test_a_statement_removed_from_the_packet_is_named_unsigned(
    authority: LocalAuthority, failed: tuple[SealedCheckpoint, BuiltPacket]
) -> None:
    sealed, built = failed

    report = refiled(built, authority, statement=None)

    assert found(report) == [("timestamp-failure-unsigned", STAMP_FAILURE)]
    assert report.findings[0].detail == (
        f"the packet's checkpoint of size {sealed.tree_size}: a time-stamp failure is kept in "
        "the place of the token its signed note announces (rfc3161-timestamped): the failure is "
        "kept without a statement signed by the server"
    )


@pytest.mark.requirement("P11-11.10e-3")
def test_a_failure_removed_from_the_packet_is_named_missing(
    authority: LocalAuthority, failed: tuple[SealedCheckpoint, BuiltPacket]
) -> None:
    sealed, built = failed

    report = verified(tampered(built, {STAMP_FAILURE: None}, resign=True), authority)

    assert found(report) == [("timestamp-missing", TIMESTAMP)]
    assert f"size {sealed.tree_size} has no time-stamp attempt" in report.findings[0].detail


@pytest.mark.requirement("P11-11.10e-3")
def test_a_failure_whose_reason_is_edited_in_the_packet_is_named_mismatch(
    authority: LocalAuthority, failed: tuple[SealedCheckpoint, BuiltPacket]
) -> None:
    _sealed, built = failed

    report = refiled(built, authority, failure="the authority answered HTTP 503")

    assert found(report) == [("timestamp-failure-mismatch", STAMP_FAILURE)]
    assert "the row 'the authority answered HTTP 503'" in report.findings[0].detail


@pytest.mark.requirement("P11-11.10e-3")
def test_another_checkpoint_s_statement_in_the_place_of_the_token_is_named_mismatch(
    store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    """The hole the statement closes, in a packet: its token taken out and an earlier
    checkpoint's genuine signed failure put in, which would take the token's bound away."""
    earlier = sealed_after(store, person_in, down(authority))
    later = sealed_after(store, person_in, authority, "RP-102", "coord2")
    built = packet(store)
    copied = carried(failure_record(kept(store, earlier.tree_size)))

    report = verified(
        tampered(built, {TIMESTAMP: None, STAMP_FAILURE: copied}, resign=True), authority
    )

    assert found(report) == [("timestamp-failure-mismatch", STAMP_FAILURE)]
    assert (
        f"the server's statement of the failure is of the checkpoint of size {earlier.tree_size}, "
        f"not {later.tree_size}" in report.findings[0].detail
    )


def test_a_failure_beside_the_packet_s_token_is_named_unexpected(
    store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    earlier = sealed_after(store, person_in, down(authority))
    sealed_after(store, person_in, authority, "RP-102", "coord2")
    copied = carried(failure_record(kept(store, earlier.tree_size)))

    report = verified(tampered(packet(store), {STAMP_FAILURE: copied}, resign=True), authority)

    assert found(report) == [("file-unexpected", STAMP_FAILURE)]
    assert "a checkpoint is stamped once" in report.findings[0].detail


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"not json\n", "Expecting value"),
        (b'{"failure":"x"}\n', "an object of failure, requested_at and statement"),
        (
            b'{"failure":"x","requested_at":"yesterday","statement":null}\n',
            "'yesterday' is not",
        ),
        (b"", "0 lines, not one"),
    ],
)
def test_a_failure_file_that_is_not_one_failure_is_named_malformed(
    authority: LocalAuthority,
    failed: tuple[SealedCheckpoint, BuiltPacket],
    content: bytes,
    said: str,
) -> None:
    _sealed, built = failed

    report = verified(tampered(built, {STAMP_FAILURE: content}, resign=True), authority)

    # Unread, the failure is as good as gone: the checkpoint announced its stamp.
    assert found(report) == [("line-malformed", STAMP_FAILURE), ("timestamp-missing", TIMESTAMP)]
    assert said in report.findings[0].detail


# -- an insider with the database, before the packet is built ------------------------------------


@pytest.mark.requirement("P11-11.10e-3")
def test_a_statement_removed_from_the_store_is_carried_unsigned_and_named(
    store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    sealed = sealed_after(store, person_in, down(authority))
    unprotect_timestamps(store)
    with store.engine.begin() as connection:
        connection.execute(
            update(checkpoint_timestamps)
            .where(checkpoint_timestamps.c.tree_size == sealed.tree_size)
            .values(failure_statement=None)
        )

    report = verified(packet(store).data, authority)

    assert found(report) == [("timestamp-failure-unsigned", STAMP_FAILURE)]


def test_packet_verify_names_a_forged_failure_on_the_console_and_exits_1(
    authority: LocalAuthority, failed: tuple[SealedCheckpoint, BuiltPacket], tmp_path: Path
) -> None:
    _sealed, built = failed
    statement = str(carried_in(built)["statement"]).replace("could not", "could NOT")
    forged = carried(carried_in(built) | {"statement": statement})
    (tmp_path / "p.zip").write_bytes(tampered(built, {STAMP_FAILURE: forged}, resign=True))

    done = offline("packet", "verify", "p.zip", "--no-documents", cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    assert f"{STAMP_FAILURE}: timestamp-failure-forged: " in done.stdout + done.stderr
