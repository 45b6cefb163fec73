"""What the database refuses, and what ``verify`` finds when someone gets past it anyway.

Each tampering is done directly on the database, the way a person with a SQL prompt would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from infrastructure.bootstrap import Store, open_store
from infrastructure.verification.verifier import IN_FLIGHT, Finding
from tests.conftest import PersonFactory, consent, haemoglobin, screening

SQLITE_TABLE = "stored_events"
POSTGRES_TABLE = "sealtrail_events"
REFUSING_NOTHING = (
    "CREATE OR REPLACE FUNCTION sealtrail_refuse_change() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"
)
"""The triggers' function made by the database's owner to let every change through."""


def run_sql(store: Store, statement: str, params: Sequence[Any] = ()) -> None:
    """Execute one statement on the store's database through a connection of its own."""
    url = store.settings.database_url
    if store.settings.is_sqlite:
        with sqlite3.connect(str(url.database)) as connection:
            connection.execute(statement, params)
    else:
        conninfo = (
            f"host={url.host} port={url.port or 5432} user={url.username} dbname={url.database}"
        )
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(statement.replace("%", "%%").replace("?", "%s"), params)  # type: ignore[arg-type]


def replace_in_state(store: Store, old: str, new: str, condition: str) -> None:
    """Rewrite part of stored events' JSON state, as a person at a SQL prompt could."""
    if store.settings.is_sqlite:
        statement = "SET state = CAST(replace(CAST(state AS TEXT), ?, ?) AS BLOB)"
    else:
        statement = "SET state = convert_to(replace(convert_from(state, 'UTF8'), ?, ?), 'UTF8')"
    run_sql(store, f"UPDATE {table(store)} {statement} WHERE {condition}", (old, new))


def table(store: Store) -> str:
    return SQLITE_TABLE if store.settings.is_sqlite else POSTGRES_TABLE


def drop_triggers(store: Store, *others: str) -> None:
    """What an attacker with owner rights does first: unprotect the events table and ``others``.

    ``others`` are more protected tables (``merkle_leaves``, ``merkle_nodes``, ``checkpoints``).
    """
    for name in (table(store), *others):
        if store.settings.is_sqlite:
            run_sql(store, f"DROP TRIGGER {name}_refuse_update")
            run_sql(store, f"DROP TRIGGER {name}_refuse_delete")
        else:
            run_sql(store, f"DROP TRIGGER {name}_refuse_update_delete ON {name}")
            run_sql(store, f"DROP TRIGGER {name}_refuse_truncate ON {name}")


def subject_with_history(store: Store, person_in: PersonFactory) -> list[dict[str, Any]]:
    coordinator = person_in(store)
    return [
        coordinator.record(store, "RP-101", "Screened", screening()),
        coordinator.record(store, "RP-101", "ConsentObtained", consent()),
        coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin("7.2")),
        coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin("7.9")),
    ]


def where(findings: list[Finding]) -> set[tuple[int, str, int, str]]:
    return {(f.position, f.stream, f.version, f.kind) for f in findings}


@pytest.mark.requirement("P11-11.10c-1")
def test_the_database_refuses_to_update_a_stored_event(
    store: Store, person_in: PersonFactory
) -> None:
    receipts = subject_with_history(store, person_in)
    errors = (sqlite3.DatabaseError, psycopg.Error)

    with pytest.raises(errors, match="immutable"):
        run_sql(store, f"UPDATE {table(store)} SET topic = 'x'")
    with pytest.raises(errors, match="immutable"):
        run_sql(store, f"DELETE FROM {table(store)}")
    assert store.verifier().verify().findings == []
    assert len(store.reads.history("NCT01297972/RP-101")) == len(receipts)


def test_triggers_dropped_by_the_databases_owner_are_put_back_by_the_next_opening(
    store: Store, person_in: PersonFactory
) -> None:
    subject_with_history(store, person_in)
    drop_triggers(store, "merkle_leaves")
    if not store.settings.is_sqlite:  # of a third table, one trigger of its two
        run_sql(store, "DROP TRIGGER checkpoints_refuse_truncate ON checkpoints")
        # A decoy of the dropped trigger's name on a table of the owner's own, and a fourth
        # table's trigger disabled: neither may pass for the trigger it imitates.
        run_sql(store, "CREATE TABLE decoy (x int)")
        run_sql(
            store,
            "CREATE TRIGGER merkle_leaves_refuse_update_delete BEFORE UPDATE ON decoy "
            "FOR EACH ROW EXECUTE FUNCTION sealtrail_refuse_change()",
        )
        run_sql(store, "ALTER TABLE merkle_nodes DISABLE TRIGGER merkle_nodes_refuse_truncate")
    run_sql(store, f"UPDATE {table(store)} SET topic = topic")  # unprotected meanwhile

    open_store(store.settings).close()

    errors = (sqlite3.DatabaseError, psycopg.Error)
    for protected in (table(store), "merkle_leaves"):
        with pytest.raises(errors, match="immutable"):
            run_sql(
                store,
                f"UPDATE {protected} SET rowid = rowid"
                if store.settings.is_sqlite
                else f"DELETE FROM {protected}",
            )
    if not store.settings.is_sqlite:
        for truncated in ("checkpoints", "merkle_nodes"):
            with pytest.raises(psycopg.Error, match="immutable"):
                run_sql(store, f"TRUNCATE {truncated}")


@pytest.mark.requirement("P11-11.10c-1")
@pytest.mark.postgres
def test_triggers_neutered_by_the_databases_owner_are_made_again_by_the_next_opening(
    postgres_store: Store, person_in: PersonFactory
) -> None:
    store = postgres_store
    subject_with_history(store, person_in)
    # Each trigger still there by name, on its table, and enabled as far as a name check sees,
    # yet none refuses anything: made to fire only on a replica, given a condition never true,
    # limited to a column nobody updates; and the function they all call made to do nothing.
    run_sql(store, "ALTER TABLE merkle_nodes ENABLE REPLICA TRIGGER merkle_nodes_refuse_truncate")
    run_sql(
        store,
        f"CREATE OR REPLACE TRIGGER {POSTGRES_TABLE}_refuse_update_delete BEFORE UPDATE OR "
        f"DELETE ON {POSTGRES_TABLE} FOR EACH ROW WHEN (false) "
        "EXECUTE FUNCTION sealtrail_refuse_change()",
    )
    run_sql(
        store,
        "CREATE OR REPLACE TRIGGER merkle_leaves_refuse_update_delete BEFORE UPDATE OF "
        "leaf_hash OR DELETE ON merkle_leaves FOR EACH ROW "
        "EXECUTE FUNCTION sealtrail_refuse_change()",
    )
    run_sql(store, REFUSING_NOTHING)
    run_sql(store, "TRUNCATE checkpoints")  # unprotected meanwhile

    open_store(store.settings).close()

    for statement in (
        "TRUNCATE merkle_nodes",
        f"UPDATE {POSTGRES_TABLE} SET topic = topic",
        "UPDATE merkle_leaves SET position = position",
        "TRUNCATE checkpoints",
    ):
        with pytest.raises(psycopg.Error, match="immutable"):
            run_sql(store, statement)


@pytest.mark.requirement("P11-11.10c-1")
def test_a_sqlite_trigger_replaced_by_one_of_its_name_that_refuses_nothing_is_made_again(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    subject_with_history(sqlite_store, person_in)
    run_sql(sqlite_store, f"DROP TRIGGER {SQLITE_TABLE}_refuse_update")
    run_sql(
        sqlite_store,
        f"CREATE TRIGGER {SQLITE_TABLE}_refuse_update BEFORE UPDATE ON {SQLITE_TABLE} "
        "BEGIN SELECT 1; END",
    )
    run_sql(sqlite_store, f"UPDATE {SQLITE_TABLE} SET topic = topic")  # unprotected meanwhile

    open_store(sqlite_store.settings).close()

    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        run_sql(sqlite_store, f"UPDATE {SQLITE_TABLE} SET topic = topic")


def test_openings_at_once_of_a_sqlite_store_whose_triggers_were_neutered_all_open(
    sqlite_store: Store,
) -> None:
    # Workers restarted together after an owner's tampering each find the triggers wrong; each
    # must wait for the write lock, not fail on a read it took first (SQLite's stale snapshot).
    def neutered() -> None:
        for name in (SQLITE_TABLE, "merkle_leaves", "merkle_nodes", "checkpoints"):
            run_sql(sqlite_store, f"DROP TRIGGER {name}_refuse_update")
            run_sql(
                sqlite_store,
                f"CREATE TRIGGER {name}_refuse_update BEFORE UPDATE ON {name} BEGIN SELECT 1; END",
            )

    def opening(_: int) -> str:
        try:
            open_store(sqlite_store.settings).close()
        except Exception as error:  # what failed is the finding
            return repr(error)
        return "opened"

    failed: list[str] = []
    for _ in range(20):
        neutered()
        with ThreadPoolExecutor(6) as openings:
            failed += [done for done in openings.map(opening, range(6)) if done != "opened"]

    assert failed == []
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        run_sql(sqlite_store, "UPDATE merkle_nodes SET level = level")


@pytest.mark.requirement("P11-11.10c-1")
@pytest.mark.postgres
def test_the_triggers_function_made_to_do_nothing_is_made_again_by_the_next_opening(
    postgres_store: Store, person_in: PersonFactory
) -> None:
    # Every trigger as it was made; only the function they call changed.
    subject_with_history(postgres_store, person_in)
    run_sql(postgres_store, REFUSING_NOTHING)

    open_store(postgres_store.settings).close()

    with pytest.raises(psycopg.Error, match="immutable"):
        run_sql(postgres_store, f"DELETE FROM {POSTGRES_TABLE}")


@pytest.mark.requirement("P11-11.10c-1")
@pytest.mark.postgres
def test_postgresql_refuses_to_truncate_the_events_table(
    postgres_store: Store, person_in: PersonFactory
) -> None:
    subject_with_history(postgres_store, person_in)

    with pytest.raises(psycopg.Error, match="immutable"):
        run_sql(postgres_store, f"TRUNCATE {POSTGRES_TABLE}")
    assert len(postgres_store.reads.history("NCT01297972/RP-101")) == 4


@pytest.mark.requirement("P11-11.10a-1")
def test_a_changed_byte_in_a_signed_payload_is_named_by_verify(
    store: Store, person_in: PersonFactory
) -> None:
    receipts = subject_with_history(store, person_in)
    drop_triggers(store)
    third = receipts[2]
    # One byte: the haemoglobin value 7.2 becomes 8.2 inside the author's signed body.
    replace_in_state(
        store,
        '\\"value\\":\\"7.2\\"',
        '\\"value\\":\\"8.2\\"',
        "originator_version = 3 AND topic LIKE '%BloodCountRecorded'",
    )

    findings = store.verifier().verify().findings

    assert (third["position"], "NCT01297972/RP-101", 3, "signature-invalid") in where(findings)
    # The next event committed to the original hash, so the chain names it too.
    assert (receipts[3]["position"], "NCT01297972/RP-101", 4, "chain-broken") in where(findings)


@pytest.mark.requirement("P11-11.10a-1")
def test_a_changed_field_outside_the_signed_body_is_named_by_verify(
    store: Store, person_in: PersonFactory
) -> None:
    receipts = subject_with_history(store, person_in)
    drop_triggers(store)
    replace_in_state(
        store, '"age":34', '"age":35', "originator_version = 1 AND topic LIKE '%Screened'"
    )

    findings = store.verifier().verify().findings

    assert where(findings) == {
        (receipts[0]["position"], "NCT01297972/RP-101", 1, "content-mismatch")
    }


@pytest.mark.requirement("P11-11.10e-4")
def test_a_row_deleted_with_the_triggers_dropped_is_named_by_verify(
    store: Store, person_in: PersonFactory
) -> None:
    receipts = subject_with_history(store, person_in)
    drop_triggers(store)
    run_sql(
        store,
        f"DELETE FROM {table(store)} "
        "WHERE originator_version = 2 AND topic LIKE '%ConsentObtained'",
    )

    findings = store.verifier().verify().findings

    after = (receipts[2]["position"], "NCT01297972/RP-101", 3)
    assert (*after, "version-gap") in where(findings)
    assert (*after, "chain-broken") in where(findings)


def test_an_undecodable_row_is_a_finding_not_a_crash(
    store: Store, person_in: PersonFactory
) -> None:
    receipts = subject_with_history(store, person_in)
    drop_triggers(store)
    run_sql(
        store,
        f"UPDATE {table(store)} SET state = ? WHERE originator_version = 4 "
        "AND topic LIKE '%BloodCountRecorded'",
        (b"{not json",),
    )

    findings = store.verifier().verify().findings

    assert where(findings) == {(receipts[3]["position"], "NCT01297972/RP-101", 4, "undecodable")}


@pytest.mark.parametrize("range_size", [2, 1])
def test_verification_on_a_process_pool_finds_what_a_single_process_finds(
    store: Store, person_in: PersonFactory, range_size: int
) -> None:
    # More ranges than the pool is given at once (IN_FLIGHT a worker): each is sent as an
    # earlier one comes back, and all come back in log order.
    subject_with_history(store, person_in)
    drop_triggers(store)
    replace_in_state(
        store,
        '\\"value\\":\\"7.9\\"',
        '\\"value\\":\\"9.9\\"',
        "originator_version = 4 AND topic LIKE '%BloodCountRecorded'",
    )
    checked: list[int] = []

    alone = store.verifier(workers=1).verify()
    pooled = store.verifier(workers=2, range_size=range_size).verify(progress=checked.append)

    assert len(checked) == -(-pooled.events // range_size) > 2 * IN_FLIGHT
    assert sum(checked) == pooled.events
    assert pooled == alone
    assert {finding.kind for finding in pooled.findings} == {"signature-invalid", "leaf-mismatch"}
