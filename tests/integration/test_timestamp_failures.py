"""A time-stamp that failed is kept with the server's signed statement of it, and ``verify`` (and
``verify --since``) names a failure row that an insider with the database, not the server's key,
wrote or changed: one written in a token's place, another checkpoint's statement copied onto it,
its failure or its time edited. SQLite and PostgreSQL, a real authority on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, inspect, text, update

from infrastructure.bootstrap import Store, log_verifier, open_store
from infrastructure.store.checkpoints import SealedCheckpoint
from infrastructure.store.merkle_log import checkpoint_timestamps
from infrastructure.store.timestamps import timestamp_of
from signatures.stamp_failures import check_stamp_failure, stamp_failure
from signatures.timestamps import StampAttempt
from tests.conftest import PersonFactory, StoreTemplate, copy_of
from tests.integration.test_timestamps import (
    closed_port,
    kinds,
    record_some,
    store_stamped_by,
    verified,
    verified_since,
    with_authority,
)
from tests.tsa import LocalAuthority, stamp_with

BACKENDS = pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
SUBJECTS = (("RP-101", "coord1"), ("RP-102", "coord2"), ("RP-103", "coord3"))


@pytest.fixture
def template(backend: str, request: pytest.FixtureRequest) -> StoreTemplate:
    found: StoreTemplate = request.getfixturevalue(f"{backend}_template")
    return found


def down(authority: LocalAuthority) -> LocalAuthority:
    """The authority, unreachable (nothing listens on its port)."""
    return replace(authority, url=f"http://127.0.0.1:{closed_port()}/tsa")


def sealed_in_turn(
    store: Store, person_in: PersonFactory, authorities: list[LocalAuthority], first: int = 0
) -> list[SealedCheckpoint]:
    """A checkpoint sealed after each subject's records (from the ``first`` of SUBJECTS on),
    each stamped by its authority."""
    sealed = []
    for (subject, user_id), authority in zip(SUBJECTS[first:], authorities, strict=False):
        stamp_with(store, authority)
        record_some(store, person_in, subject, user_id)
        sealed.append(store.app.checkpoints.seal())
    return sealed


def kept(store: Store, size: int) -> StampAttempt:
    attempt = timestamp_of(store.engine, size)
    assert attempt is not None
    return attempt


def unprotect_timestamps(store: Store) -> None:
    """What an insider with owner rights does first: drop the table's triggers."""
    table = checkpoint_timestamps.name
    with store.engine.begin() as connection:
        if store.settings.is_sqlite:
            connection.execute(text(f"DROP TRIGGER {table}_refuse_update"))
            connection.execute(text(f"DROP TRIGGER {table}_refuse_delete"))
        else:
            connection.execute(text(f"DROP TRIGGER {table}_refuse_update_delete ON {table}"))


def replace_row(store: Store, size: int, **row: object) -> None:
    """The insider deletes the checkpoint's row and writes ``row`` in its place."""
    with store.engine.begin() as connection:
        connection.execute(
            delete(checkpoint_timestamps).where(checkpoint_timestamps.c.tree_size == size)
        )
        connection.execute(insert(checkpoint_timestamps).values(tree_size=size, **row))


@pytest.fixture
def stamped(template: StoreTemplate, tmp_path: Path, authority: LocalAuthority) -> Iterator[Store]:
    with store_stamped_by(template, tmp_path / "store", authority, authority.root_pem) as store:
        yield store


# -- what the store writes, its verify accepts ---------------------------------------------------


@pytest.mark.requirement("P11-11.10e-3")
@BACKENDS
def test_an_authority_that_is_down_leaves_a_failure_signed_by_the_server_and_verify_notes_it(
    stamped: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    first, failed = sealed_in_turn(stamped, person_in, [authority, down(authority)])

    attempt = kept(stamped, failed.tree_size)
    assert attempt.response is None and "could not be reached" in str(attempt.failure)
    assert attempt.failure_statement is not None
    checkpoints = stamped.app.checkpoints
    check_stamp_failure(
        attempt.failure_statement,
        stamp_failure(
            checkpoints.origin,
            failed.tree_size,
            failed.note,
            attempt.requested_at,
            str(attempt.failure),
        ),
        checkpoints.origin,
        stamped.app.server_key.public_key,
    )
    report = verified(stamped, authority.root_pem)
    since = verified_since(stamped, authority.root_pem, first.note)

    assert report.ok, report.findings
    assert since.ok, since.findings
    for notes in (report.notes, since.notes):
        assert any(
            f"size {failed.tree_size} is not time-stamped" in note
            and "(the server's signed statement)" in note
            for note in notes
        ), notes


# -- an insider's failure rows -------------------------------------------------------------------


@pytest.mark.requirement("P11-11.10e-3", "P11-11.10c-1")
@BACKENDS
def test_a_token_replaced_by_an_unsigned_failure_is_named_by_verify_and_verify_since(
    stamped: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    """The hole this closes: the row of the middle checkpoint's token deleted and "the
    authority was down" written in its place read as a note, and the bounds that token gave
    the events around it vanished."""
    first, middle, _last = sealed_in_turn(stamped, person_in, [authority] * 3)
    unprotect_timestamps(stamped)
    replace_row(
        stamped,
        middle.tree_size,
        requested_at=kept(stamped, middle.tree_size).requested_at,
        response=None,
        failure="http://tsa.example/ could not be reached: [Errno 111] Connection refused",
    )

    report = verified(stamped, authority.root_pem)
    since = verified_since(stamped, authority.root_pem, first.note)

    assert kinds(report) == ["timestamp-failure-unsigned"], report.findings
    assert report.findings[0].detail == (
        f"stored checkpoint of size {middle.tree_size}: a time-stamp failure is kept in the place "
        "of the token its signed note announces (rfc3161-timestamped): the failure is kept "
        "without a statement signed by the server"
    )
    assert since.findings == report.findings


@pytest.mark.requirement("P11-11.10e-3")
@BACKENDS
def test_another_checkpoint_s_signed_failure_copied_onto_a_token_s_row_is_named(
    stamped: Store, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    failed, stamped_one = sealed_in_turn(stamped, person_in, [down(authority), authority])
    genuine = kept(stamped, failed.tree_size)
    unprotect_timestamps(stamped)
    replace_row(
        stamped,
        stamped_one.tree_size,
        requested_at=genuine.requested_at,
        response=None,
        failure=genuine.failure,
        failure_statement=genuine.failure_statement,
    )

    report = verified(stamped, authority.root_pem)

    assert kinds(report) == ["timestamp-failure-mismatch"], report.findings
    detail = report.findings[0].detail
    assert detail.startswith(f"stored checkpoint of size {stamped_one.tree_size}: ")
    assert (
        f"the server's statement of the failure is of the checkpoint of size {failed.tree_size}, "
        f"not {stamped_one.tree_size}" in detail
    )


@pytest.mark.requirement("P11-11.10e-3")
@BACKENDS
@pytest.mark.parametrize(
    ("edit", "what"),
    [
        (
            {"failure": "the authority answered HTTP 503"},
            "the row 'the authority answered HTTP 503'",
        ),
        (
            {"requested_at": datetime(2026, 1, 1, tzinfo=UTC)},
            "the row at 2026-01-01T00:00:00.000000Z",
        ),
    ],
)
def test_a_signed_failure_whose_row_is_edited_is_named(
    stamped: Store,
    authority: LocalAuthority,
    person_in: PersonFactory,
    edit: dict[str, object],
    what: str,
) -> None:
    (failed,) = sealed_in_turn(stamped, person_in, [down(authority)])
    unprotect_timestamps(stamped)
    with stamped.engine.begin() as connection:
        connection.execute(
            update(checkpoint_timestamps)
            .where(checkpoint_timestamps.c.tree_size == failed.tree_size)
            .values(**edit)
        )

    report = verified(stamped, authority.root_pem)

    assert kinds(report) == ["timestamp-failure-mismatch"], report.findings
    assert report.findings[0].detail.startswith(f"stored checkpoint of size {failed.tree_size}: ")
    assert what in report.findings[0].detail


def test_a_failure_row_of_a_checkpoint_sealed_before_checkpoints_announced_stamps_stays_a_note(
    sqlite_template: StoreTemplate, tmp_path: Path, authority: LocalAuthority
) -> None:
    """An older server wrote failures unsigned and its checkpoints without the extension line:
    the note says the failure is the database's word alone."""
    with store_stamped_by(sqlite_template, tmp_path, None, None) as store:
        sealed = store.app.checkpoints.seal()
        with store.engine.begin() as connection:
            connection.execute(
                insert(checkpoint_timestamps).values(
                    tree_size=sealed.tree_size,
                    requested_at=datetime.now(UTC) - timedelta(days=1),
                    response=None,
                    failure="could not be reached",
                )
            )

        report = verified(store, authority.root_pem)

    assert report.ok, report.findings
    assert any(
        f"size {sealed.tree_size} is not time-stamped" in note
        and "unsigned: sealed by an older server" in note
        for note in report.notes
    ), report.notes


# -- a store made before failures were signed ----------------------------------------------------


@BACKENDS
def test_a_store_made_before_failures_were_signed_is_read_as_it_is_and_given_the_column(
    template: StoreTemplate, tmp_path: Path, authority: LocalAuthority, person_in: PersonFactory
) -> None:
    """verify reads an older store's table, which has no column for the statements, where it
    may not change it (a standby); opening the store adds the column, and its next failure is
    signed."""
    with copy_of(template, tmp_path) as settings:
        settings = with_authority(settings, authority, authority.root_pem)
        store = open_store(settings)
        try:
            sealed_in_turn(store, person_in, [authority])
            with store.engine.begin() as connection:
                connection.execute(
                    text(f"ALTER TABLE {checkpoint_timestamps.name} DROP COLUMN failure_statement")
                )
        finally:
            store.close()
        with log_verifier(replace(settings, tsa_url=None), workers=1) as verifier:
            older = verifier.verify()
        store = open_store(settings)
        try:
            columns = inspect(store.engine).get_columns(checkpoint_timestamps.name)
            _stamped, failed = sealed_in_turn(
                store, person_in, [authority, down(authority)], first=1
            )
            report = verified(store, authority.root_pem)
            statement = kept(store, failed.tree_size).failure_statement
        finally:
            store.close()

    assert older.ok, older.findings
    assert "failure_statement" in {column["name"] for column in columns}
    assert statement is not None
    assert report.ok, report.findings
