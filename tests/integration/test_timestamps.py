"""RFC 3161 time-stamps of checkpoints, from a real authority on 127.0.0.1, kept and checked by
``verify``; and events' recording times between the checkpoints' stamped times."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DatabaseError

from api.schemas.submissions import submission_from
from domain.account import Role
from domain.wire import instant_to_wire
from infrastructure.application.commands import RecordEvent
from infrastructure.application.witnessing import Witnessing
from infrastructure.bootstrap import Store, open_store
from infrastructure.errors import ConfigurationError
from infrastructure.settings import Settings
from infrastructure.store.merkle_log import checkpoint_timestamps
from infrastructure.store.timestamps import timestamp_of
from infrastructure.verification.since import SinceCheck, SinceReport, read_kept_checkpoint
from infrastructure.verification.time_checks import STAMP_SLACK
from infrastructure.verification.verifier import VerificationReport
from infrastructure.verification.witness_checks import WitnessPolicy
from signatures.checkpoint import verify_checkpoint
from signatures.cosignature import cosign, witness_key
from signatures.timestamps import STAMPED_EXTENSION, check_timestamp
from tests.conftest import (
    STUDY,
    Person,
    PersonFactory,
    StoreTemplate,
    consent,
    copy_of,
    haemoglobin,
    next_version,
    screening,
)
from tests.tsa import LocalAuthority, running_authority, shift_server_clock


@contextmanager
def store_stamped_by(
    template: StoreTemplate, home: Path, authority: LocalAuthority | None, trusted: Path | None
) -> Iterator[Store]:
    """A copy of the template's store whose checkpoints ``authority`` stamps (trusting the
    certificates in ``trusted``)."""
    with copy_of(template, home) as settings:
        opened = open_store(with_authority(settings, authority, trusted))
        try:
            yield opened
        finally:
            opened.close()


def with_authority(
    settings: Settings, authority: LocalAuthority | None, trusted: Path | None
) -> Settings:
    return replace(
        settings,
        tsa_url=None if authority is None else authority.url,
        tsa_certificates=trusted,
    )


@pytest.fixture
def other_authority(tmp_path: Path) -> Iterator[LocalAuthority]:
    with running_authority(tmp_path / "other-tsa", "another TSA") as running:
        yield running


@pytest.fixture
def expired_authority(tmp_path: Path) -> Iterator[LocalAuthority]:
    """An authority that keeps stamping after its certificate expired (yesterday)."""
    now = datetime.now(UTC)
    with running_authority(
        tmp_path / "expired-tsa",
        "expired TSA",
        valid_from=now - timedelta(days=30),
        valid_until=now - timedelta(days=1),
    ) as running:
        yield running


@pytest.fixture
def stamped_store(
    sqlite_template: StoreTemplate, tmp_path: Path, authority: LocalAuthority
) -> Iterator[Store]:
    with store_stamped_by(sqlite_template, tmp_path / "store", authority, authority.root_pem) as s:
        yield s


def record_some(
    store: Store, person_in: PersonFactory, subject: str = "RP-101", user_id: str = "coord1"
) -> None:
    """A new person screens ``subject`` and records a blood count."""
    person = person_in(store, user_id)
    person.record(store, subject, "Screened", screening())
    person.record(store, subject, "ConsentObtained", consent())
    person.record(store, subject, "BloodCountRecorded", haemoglobin("7.1"))


def verified(store: Store, trusted: Path | None) -> VerificationReport:
    settings = replace(store.settings, tsa_url=None, tsa_certificates=trusted)
    verifier = store.verifier(workers=1)
    verifier._settings = settings  # the auditor's own trust, not the server's
    return verifier.verify()


def kinds(report: VerificationReport) -> list[str]:
    return [finding.kind for finding in report.findings]


def add_attempt(store: Store, tree_size: int, response: bytes | None) -> None:
    """An insider (or an older server that checked nothing) adds a time-stamp row; the table
    refuses changes, not inserts of a row that was never there."""
    with store.engine.begin() as connection:
        connection.execute(
            insert(checkpoint_timestamps).values(
                tree_size=tree_size,
                requested_at=datetime.now(UTC),
                response=response,
                failure=None,
            )
        )


# -- a clean store -------------------------------------------------------------------------------


@pytest.mark.requirement("P11-11.10e-3")
def test_a_sealed_checkpoint_is_stamped_by_the_authority_over_its_signed_note(
    stamped_store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    record_some(stamped_store, person_in)
    before = len(authority.stamped)

    sealed = stamped_store.app.checkpoints.seal()

    assert len(authority.stamped) == before + 1
    kept = timestamp_of(stamped_store.engine, sealed.tree_size)
    assert kept is not None and kept.failure is None and kept.response is not None
    stamped = check_timestamp(kept.response, sealed.note, [authority.root])
    assert abs(stamped.time - datetime.now(UTC)) < timedelta(minutes=1)
    assert stamped.authority == "CN=sealtrail test TSA"


@pytest.mark.requirement("P11-11.10e-3")
def test_a_clean_store_verifies_with_its_time_stamps_and_every_event_inside_them(
    stamped_store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    record_some(stamped_store, person_in)
    stamped_store.app.checkpoints.seal()
    record_some(stamped_store, person_in, "RP-102", "coord2")
    stamped_store.app.checkpoints.seal()

    report = verified(stamped_store, authority.root_pem)

    assert report.ok, report.findings
    assert not any("not checked" in note for note in report.notes), report.notes


def test_verify_says_as_a_note_that_a_store_without_an_authority_has_no_time_stamps(
    sqlite_template: StoreTemplate, tmp_path: Path, person_in: PersonFactory
) -> None:
    with store_stamped_by(sqlite_template, tmp_path, None, None) as store:
        record_some(store, person_in)
        store.app.checkpoints.seal()

        report = verified(store, None)

    assert report.ok
    assert any("carry no time-stamp" in note for note in report.notes), report.notes
    assert any("recording times not checked" in note for note in report.notes)


def test_a_url_without_certificates_to_trust_is_refused_at_start() -> None:
    with pytest.raises(ConfigurationError, match="SEALTRAIL_TSA_CERTS"):
        Settings.from_environ({"SEALTRAIL_TSA_URL": "http://127.0.0.1:1/tsa"})
    with pytest.raises(ConfigurationError, match="http"):
        Settings.from_environ({"SEALTRAIL_TSA_URL": "ftp://x", "SEALTRAIL_TSA_CERTS": "a.pem"})


# -- an authority that fails ---------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_authority_that_is_down_costs_the_time_stamp_never_the_checkpoint(
    sqlite_template: StoreTemplate,
    tmp_path: Path,
    authority: LocalAuthority,
    person_in: PersonFactory,
) -> None:
    down = replace(authority, url=f"http://127.0.0.1:{closed_port()}/tsa")
    with store_stamped_by(sqlite_template, tmp_path, down, authority.root_pem) as store:
        record_some(store, person_in)

        sealed = store.app.checkpoints.seal()

        assert store.app.checkpoints.at_size(sealed.tree_size) == sealed
        kept = timestamp_of(store.engine, sealed.tree_size)
        assert kept is not None and kept.response is None
        assert "could not be reached" in str(kept.failure)
        report = verified(store, authority.root_pem)
    assert report.ok, report.findings
    assert any(
        f"size {sealed.tree_size} is not time-stamped" in note and "could not be reached" in note
        for note in report.notes
    ), report.notes


def test_a_token_from_an_expired_certificate_is_refused_when_sealing_and_kept_as_a_failure(
    sqlite_template: StoreTemplate,
    tmp_path: Path,
    expired_authority: LocalAuthority,
    person_in: PersonFactory,
) -> None:
    trusted = expired_authority.root_pem
    with store_stamped_by(sqlite_template, tmp_path, expired_authority, trusted) as store:
        record_some(store, person_in)

        sealed = store.app.checkpoints.seal()

        kept = timestamp_of(store.engine, sealed.tree_size)
    assert kept is not None and kept.response is None
    assert "timestamp-outside-certificate-validity" in str(kept.failure)


# -- tokens that do not hold, each named ---------------------------------------------------------


def test_a_token_from_an_authority_the_auditor_does_not_trust_is_named(
    stamped_store: Store,
    other_authority: LocalAuthority,
    person_in: PersonFactory,
) -> None:
    record_some(stamped_store, person_in)
    sealed = stamped_store.app.checkpoints.seal()

    report = verified(stamped_store, other_authority.root_pem)

    # The first write sealed a checkpoint too: each token is named.
    assert set(kinds(report)) == {"timestamp-untrusted"}
    assert any(f"size {sealed.tree_size}:" in finding.detail for finding in report.findings)


def test_a_token_over_another_checkpoint_is_named(
    sqlite_template: StoreTemplate,
    tmp_path: Path,
    authority: LocalAuthority,
    person_in: PersonFactory,
) -> None:
    with copy_of(sqlite_template, tmp_path) as settings:
        store = open_store(settings)
        record_some(store, person_in)
        unstamped = store.app.checkpoints.seal()
        store.close()
        store = open_store(with_authority(settings, authority, authority.root_pem))
        try:
            record_some(store, person_in, "RP-102", "coord2")
            stamped = store.app.checkpoints.seal()
            token = timestamp_of(store.engine, stamped.tree_size)
            assert token is not None and token.response is not None
            add_attempt(store, unstamped.tree_size, token.response)

            report = verified(store, authority.root_pem)
        finally:
            store.close()

    assert kinds(report) == ["timestamp-wrong-checkpoint"]
    assert f"size {unstamped.tree_size}:" in report.findings[0].detail


def test_a_token_outside_its_certificates_validity_is_named(
    sqlite_template: StoreTemplate,
    tmp_path: Path,
    expired_authority: LocalAuthority,
    person_in: PersonFactory,
) -> None:
    with store_stamped_by(sqlite_template, tmp_path, None, None) as store:
        record_some(store, person_in)
        sealed = store.app.checkpoints.seal()
        answer, _ = expired_authority_answer(expired_authority, sealed.note)
        add_attempt(store, sealed.tree_size, answer)

        report = verified(store, expired_authority.root_pem)

    assert kinds(report) == ["timestamp-outside-certificate-validity"]
    assert "valid from" in report.findings[0].detail


def test_bytes_that_are_no_token_are_named(
    stamped_store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    with store_stamped_by_nothing(stamped_store) as store:
        record_some(store, person_in)
        sealed = store.app.checkpoints.seal()
        add_attempt(store, sealed.tree_size, b"\x00RP-50\n" * 9)

        report = verified(store, authority.root_pem)

    assert kinds(report) == ["timestamp-malformed"]


@contextmanager
def store_stamped_by_nothing(store: Store) -> Iterator[Store]:
    store.app.checkpoints.stamper = None
    yield store


def expired_authority_answer(authority: LocalAuthority, note: str) -> tuple[bytes, int]:
    """The authority's answer over ``note``, asked over HTTP as the store asks."""
    import urllib.request

    from signatures.timestamps import timestamp_request

    request, nonce = timestamp_request(note)
    with urllib.request.urlopen(
        urllib.request.Request(
            authority.url, data=request, headers={"Content-Type": "application/timestamp-query"}
        ),
        timeout=10,
    ) as reply:
        return reply.read(), nonce


@pytest.mark.requirement("P11-11.10e-3")
def test_a_time_stamp_row_deleted_by_an_insider_is_named(
    stamped_store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    """Found attacking verify: an insider dropped the table's trigger and deleted the middle
    checkpoint's row, widening the recording-time bounds around it; verify said only that it
    carried no time-stamp, as of a store never configured."""
    sizes = []
    for subject, user_id in (("RP-101", "coord1"), ("RP-102", "coord2"), ("RP-103", "coord3")):
        record_some(stamped_store, person_in, subject, user_id)
        sizes.append(stamped_store.app.checkpoints.seal().tree_size)
    with stamped_store.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER checkpoint_timestamps_refuse_delete"))
        connection.execute(
            checkpoint_timestamps.delete().where(checkpoint_timestamps.c.tree_size == sizes[1])
        )

    report = verified(stamped_store, authority.root_pem)

    assert kinds(report) == ["timestamp-missing"]
    assert f"size {sizes[1]} has no time-stamp attempt" in report.findings[0].detail


@pytest.mark.requirement("P11-11.10e-3", "P11-11.10c-1")
def test_every_time_stamp_row_deleted_by_an_insider_is_named_by_the_signed_notes(
    stamped_store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    """An insider with the database and not the server's key drops the trigger and deletes
    every row of the table, the first included: each checkpoint's signed note says it is
    time-stamped, so each is named, by verify and verify --since alike (it used to read as a
    store never stamped, a note)."""
    sizes = []
    for subject, user_id in (("RP-101", "coord1"), ("RP-102", "coord2"), ("RP-103", "coord3")):
        record_some(stamped_store, person_in, subject, user_id)
        sizes.append(stamped_store.app.checkpoints.seal())
    assert all(f"\n{STAMPED_EXTENSION}\n\n" in sealed.note for sealed in sizes)
    with stamped_store.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER checkpoint_timestamps_refuse_delete"))
        connection.execute(text("DELETE FROM checkpoint_timestamps"))

    report = verified(stamped_store, authority.root_pem)
    since = verified_since(stamped_store, authority.root_pem, sizes[0].note)

    every = stamped_store.app.checkpoints.all()  # the first write sealed one too
    assert kinds(report) == ["timestamp-missing"] * len(every)
    for finding, sealed in zip(report.findings, every, strict=True):
        assert finding.detail == (
            f"stored checkpoint of size {sealed.tree_size} has no time-stamp attempt, though its "
            f"signed note says it is time-stamped ({STAMPED_EXTENSION}): its token or recorded "
            "failure is gone"
        )
    # The kept checkpoint's and those sealed since.
    assert since.findings == report.findings[-len(sizes) :]
    assert not any("carry no time-stamp" in note for note in report.notes), report.notes


@pytest.mark.requirement("P11-11.10e-5")
def test_a_witness_cosigns_a_stamped_checkpoint_with_its_extension_line_and_it_vouches(
    stamped_store: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    """The extension line is part of the text a witness cosigns: the server takes the
    cosignature against its stored note, and verify --witness counts it."""
    record_some(stamped_store, person_in)
    sealed = stamped_store.app.checkpoints.seal()
    checkpoint = verify_checkpoint(
        sealed.note, stamped_store.app.checkpoints.origin, stamped_store.app.server_key.public_key
    )
    assert checkpoint.extensions == (STAMPED_EXTENSION,)
    cep = person_in(stamped_store, "cep-witness", role=Role.WITNESS, sites=())
    line = cosign(cep.private_key, cep.user_id, checkpoint, int(time.time())).line()

    Witnessing(stamped_store.app).receive(sealed.tree_size, checkpoint.body(), line)

    verifier = stamped_store.verifier(workers=1)
    verifier._settings = replace(stamped_store.settings, tsa_certificates=authority.root_pem)
    policy = WitnessPolicy((witness_key(cep.user_id, cep.private_key),), 1)
    assert verifier.verify(witnesses=policy).findings == []


def test_an_authority_down_after_stamping_is_a_note_not_a_finding(
    sqlite_template: StoreTemplate,
    tmp_path: Path,
    authority: LocalAuthority,
    person_in: PersonFactory,
) -> None:
    down = replace(authority, url=f"http://127.0.0.1:{closed_port()}/tsa")
    with copy_of(sqlite_template, tmp_path) as settings:
        store = open_store(with_authority(settings, authority, authority.root_pem))
        record_some(store, person_in)
        store.app.checkpoints.seal()
        store.close()
        store = open_store(with_authority(settings, down, authority.root_pem))
        try:
            record_some(store, person_in, "RP-102", "coord2")
            failed = store.app.checkpoints.seal()
            report = verified(store, authority.root_pem)
        finally:
            store.close()

    assert report.ok, report.findings
    assert any(f"size {failed.tree_size} is not time-stamped" in note for note in report.notes)


# -- the table keeps what it was given -----------------------------------------------------------


@pytest.mark.requirement("P11-11.10c-1")
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_kept_time_stamp_cannot_be_changed_or_removed(
    backend: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    authority: LocalAuthority,
    person_in: PersonFactory,
) -> None:
    template: StoreTemplate = request.getfixturevalue(f"{backend}_template")
    with store_stamped_by(template, tmp_path, authority, authority.root_pem) as store:
        record_some(store, person_in)
        store.app.checkpoints.seal()
        with store.engine.connect() as connection:
            before = connection.execute(select(checkpoint_timestamps)).all()
        for statement in (
            "UPDATE checkpoint_timestamps SET response = NULL",
            "DELETE FROM checkpoint_timestamps",
        ):
            with pytest.raises(DatabaseError, match="refused"), store.engine.begin() as c:
                c.execute(text(statement))
        with store.engine.connect() as connection:
            assert connection.execute(select(checkpoint_timestamps)).all() == before
        assert verified(store, authority.root_pem).ok


# -- recording times between the stamps ----------------------------------------------------------


@pytest.mark.requirement("P11-11.10e-3")
def test_an_event_recorded_by_a_server_whose_clock_was_set_back_is_named(
    stamped_store: Store,
    authority: LocalAuthority,
    person_in: PersonFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A late entry made to look timely: the server's clock set back, and the coordinator's
    signing time with it (the store refuses a signature made after the recording). Signatures
    cannot tell: the server writes its own clock's time into the event and its leaf, and signs
    the checkpoints after. The coordinator's key is older than the time written (the store
    refuses a key used before it was registered), so only the authority's clock can tell. The
    test waits for its key to be older than the stamping's slack (seconds, not the hours a
    real backdating would be)."""
    registered = datetime.now(UTC)
    person = person_in(stamped_store)
    time.sleep(STAMP_SLACK.total_seconds() + 5)
    person.record(stamped_store, "RP-101", "Screened", screening())
    before = stamped_store.app.checkpoints.seal()  # stamped by the authority's clock
    set_back = datetime.now(UTC) - registered - timedelta(seconds=1.5)
    shift_server_clock(monkeypatch, -set_back)
    signed_back = datetime.now(UTC) - set_back - timedelta(seconds=0.5)
    receipt = recorded_as_signed(stamped_store, person, "ConsentObtained", consent(), signed_back)
    monkeypatch.undo()
    stamped_store.app.checkpoints.seal()

    report = verified(stamped_store, authority.root_pem)

    assert kinds(report) == ["recorded-time-out-of-bounds"], report.findings
    (finding,) = report.findings
    assert (finding.position, finding.stream) == (receipt["position"], f"{STUDY}/RP-101")
    assert finding.detail.startswith("ConsentObtained recorded at ")
    assert f"after the checkpoint of size {before.tree_size}, time-stamped" in finding.detail


def recorded_as_signed(
    store: Store, person: Person, kind: str, data: dict[str, Any], signed_at: datetime
) -> dict[str, Any]:
    """RP-101's next event, signed by ``person`` with a device clock that says ``signed_at``."""
    body = person.body(
        "RP-101",
        kind,
        data,
        version=next_version(store, "RP-101"),
        signed_at=instant_to_wire(signed_at),
    )
    receipt: dict[str, Any] = store.records.record(
        RecordEvent(submission=submission_from(body, person.sign(body)), actor_id=person.user_id)
    )
    return receipt


def consent_recorded_ahead(
    store: Store, person_in: PersonFactory, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """RP-101 screened and sealed; its consent recorded by a server whose clock ran 20 minutes
    ahead; sealed again (the receipt of the consent)."""
    person = person_in(store)
    person.record(store, "RP-101", "Screened", screening())
    store.app.checkpoints.seal()
    shift_server_clock(monkeypatch, timedelta(minutes=20))
    receipt = person.record(store, "RP-101", "ConsentObtained", consent())
    monkeypatch.undo()
    return receipt


@pytest.mark.requirement("P11-11.10e-3")
def test_an_event_recorded_by_a_server_whose_clock_ran_ahead_is_named(
    stamped_store: Store,
    authority: LocalAuthority,
    person_in: PersonFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    receipt = consent_recorded_ahead(stamped_store, person_in, monkeypatch)
    covering = stamped_store.app.checkpoints.seal()

    report = verified(stamped_store, authority.root_pem)

    assert kinds(report) == ["recorded-time-out-of-bounds"], report.findings
    assert report.findings[0].position == receipt["position"]
    assert f"the checkpoint of size {covering.tree_size} covers it" in report.findings[0].detail


def test_verify_since_names_an_event_recorded_ahead_after_the_kept_checkpoint_as_verify_does(
    stamped_store: Store,
    authority: LocalAuthority,
    person_in: PersonFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    person = person_in(stamped_store)
    person.record(stamped_store, "RP-101", "Screened", screening())
    kept = stamped_store.app.checkpoints.seal()
    shift_server_clock(monkeypatch, timedelta(minutes=20))
    receipt = person.record(stamped_store, "RP-101", "ConsentObtained", consent())
    monkeypatch.undo()
    covering = stamped_store.app.checkpoints.seal()

    since = verified_since(stamped_store, authority.root_pem, kept.note)

    assert kinds(since) == ["recorded-time-out-of-bounds"], since.findings
    assert since.findings[0].position == receipt["position"]
    assert f"the checkpoint of size {covering.tree_size} covers it" in since.findings[0].detail
    assert since.findings == verified(stamped_store, authority.root_pem).findings


def test_verify_since_checks_the_time_stamps_of_the_checkpoints_sealed_after_the_kept_one(
    stamped_store: Store,
    authority: LocalAuthority,
    other_authority: LocalAuthority,
    person_in: PersonFactory,
) -> None:
    """Trusting another authority's root, the kept checkpoint's token and the newer one's are
    named (each bounds the events after the kept checkpoint)."""
    person = person_in(stamped_store)
    person.record(stamped_store, "RP-101", "Screened", screening())
    kept = stamped_store.app.checkpoints.seal()
    person.record(stamped_store, "RP-101", "ConsentObtained", consent())
    stamped_store.app.checkpoints.seal()

    since = verified_since(stamped_store, other_authority.root_pem, kept.note)

    assert kinds(since) == ["timestamp-untrusted", "timestamp-untrusted"], since.findings
    assert verified_since(stamped_store, authority.root_pem, kept.note).ok


def verified_since(store: Store, trusted: Path | None, kept_note: str) -> SinceReport:
    verifier = store.verifier(workers=1)
    verifier._settings = replace(store.settings, tsa_url=None, tsa_certificates=trusted)
    kept = read_kept_checkpoint(kept_note.encode(), verifier.origin, verifier.anchor_key)
    return SinceCheck(verifier, kept).run()
