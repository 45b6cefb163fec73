"""Every way of tampering with the stored log, and the finding ``verify`` names it by.

Each case edits the database directly, through a connection of its own, with the immutability
triggers dropped first where it needs them gone, as someone holding the owner's SQL prompt would.
``verify`` must then name exactly what was done: every finding's (position, stream, version,
kind) is asserted, not merely that there is one. Every case runs on SQLite and on PostgreSQL.

The cohort is two subjects whose events interleave in the log, so that no edit lands at the end
of the log by accident. After the accounts (the server's: opened, role, key; the coordinator's:
opened, role, site, training, key) it records, in this order:

    RP-101 v1  Screened           (the first record seals a checkpoint)
    RP-102 v1  Screened
    RP-101 v2  ConsentObtained
    RP-102 v2  ConsentObtained
    RP-101 v3  haemoglobin 7.2
    RP-102 v3  haemoglobin 7.9
    RP-101 v4  haemoglobin 7.9    (the same data as RP-102 v3)
    RP-102 v4  haemoglobin 8.1

The tests read positions from the receipts, never from this table.
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from domain.signed import stream_id
from infrastructure.application.commands import RevokeKey
from infrastructure.bootstrap import Store
from infrastructure.store.merkle_log import APPEND_ONLY_TABLES
from infrastructure.verification.verifier import ExternalCheckpoint, Finding
from signatures.keys import generate_private_key
from signatures.merkle import InMemoryTree
from tests.cli_stores import sealtrail
from tests.conftest import STUDY, Person, PersonFactory, consent, haemoglobin, screening
from tests.insider import Execute, connection, forged_record
from tests.integration.test_tamper_evidence import drop_triggers, table

Where = tuple[int | None, str | None, int | None, str]

RP101 = f"{STUDY}/RP-101"
RP102 = f"{STUDY}/RP-102"
LOG = (None, None, None)
"""Where a finding about the log as a whole is: no position, stream or version."""


# -- the store, and a connection of the attacker's own ---------------------------------------------


@dataclass
class Cohort:
    """The two subjects' log positions, and the coordinator who recorded them."""

    coordinator: Person
    positions: dict[tuple[str, int], int]

    def at(self, stream: str, version: int) -> int:
        """The log position of one event."""
        return self.positions[(stream, version)]


def cohort(store: Store, person_in: PersonFactory) -> Cohort:
    coordinator = person_in(store)
    records = [
        ("RP-101", "Screened", screening()),
        ("RP-102", "Screened", screening(sex="M", age=41)),
        ("RP-101", "ConsentObtained", consent()),
        ("RP-102", "ConsentObtained", consent()),
        ("RP-101", "BloodCountRecorded", haemoglobin("7.2")),
        ("RP-102", "BloodCountRecorded", haemoglobin("7.9")),
        ("RP-101", "BloodCountRecorded", haemoglobin("7.9")),
        ("RP-102", "BloodCountRecorded", haemoglobin("8.1")),
    ]
    positions: dict[tuple[str, int], int] = {}
    for subject, kind, data in records:
        receipt = coordinator.record(store, subject, kind, data)
        positions[(f"{STUDY}/{subject}", receipt["version"])] = receipt["position"]
    return Cohort(coordinator, positions)


def database(store: Store) -> AbstractContextManager[Execute]:
    """A connection of its own to the store's database, as an insider's
    (:func:`tests.insider.connection`); what it does is committed at the end."""
    return connection(store.settings.database_url)


def position_column(store: Store) -> str:
    """The events table's column that is the log position."""
    return "rowid" if store.settings.is_sqlite else "notification_id"


def row(store: Store, stream: str, version: int) -> str:
    """The WHERE condition selecting one stored event by its stream and version."""
    originator = stream_id(stream)
    literal = originator.hex if store.settings.is_sqlite else str(originator)
    return f"originator_id = '{literal}' AND originator_version = {version}"


def subject_id(store: Store, stream: str) -> Any:
    """A stream's id as the events table holds it."""
    originator = stream_id(stream)
    return originator.hex if store.settings.is_sqlite else originator


def stored_state(store: Store, stream: str, version: int) -> bytes:
    with database(store) as execute:
        ((state,),) = execute(
            f"SELECT state FROM {table(store)} WHERE {row(store, stream, version)}"
        )
    return bytes(state)


def set_state(store: Store, stream: str, version: int, state: bytes) -> None:
    with database(store) as execute:
        execute(
            f"UPDATE {table(store)} SET state = ? WHERE {row(store, stream, version)}", (state,)
        )


def insert_raw(store: Store, stored: StoredEvent) -> None:
    """INSERT a row into the events table, past the sealed store (no trigger refuses an insert)."""
    originator = stored.originator_id
    with database(store) as execute:
        execute(
            f"INSERT INTO {table(store)} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            (
                originator.hex if store.settings.is_sqlite else originator,
                stored.originator_version,
                stored.topic,
                stored.state,
            ),
        )


def copy_below_the_log(store: Store, stream: str, version: int, as_version: int) -> None:
    """INSERT a copy of one stored event as another version of its stream at log position -1,
    a position the store never assigns (no trigger refuses an insert)."""
    with database(store) as execute:
        ((originator, topic, state),) = execute(
            f"SELECT originator_id, topic, state FROM {table(store)} "
            f"WHERE {row(store, stream, version)}"
        )
        execute(
            f"INSERT INTO {table(store)} ({position_column(store)}, originator_id, "
            "originator_version, topic, state) VALUES (-1, ?, ?, ?, ?)",
            (originator, as_version, topic, state),
        )


def last_position(store: Store) -> int:
    position = store.app.recorder.max_notification_id()
    assert position is not None
    return position


def external(store: Store) -> ExternalCheckpoint:
    """``sealtrail checkpoint > outside.note``: a checkpoint of the log now, kept outside."""
    return ExternalCheckpoint(store.app.checkpoints.seal().note, "outside.note")


def forged_lab_result(store: Store, signer: Person, subject: str, value: str) -> StoredEvent:
    """A real event of the subject, signed by ``signer``, encoded as the store would keep it
    (:func:`tests.insider.forged_record`): the caller writes the row itself."""
    return forged_record(store, signer, subject, "BloodCountRecorded", haemoglobin(value))


def where(findings: list[Finding]) -> list[Where]:
    """Every finding as (position, stream, version, kind), sorted, duplicates kept."""
    return sorted(
        ((f.position, f.stream, f.version, f.kind) for f in findings),
        key=lambda w: (w[0] or 0, w[1] or "", w[2] or 0, w[3]),
    )


def findings_of(store: Store, outside: ExternalCheckpoint | None = None) -> list[Where]:
    return where(store.verifier(workers=1).verify(external=outside).findings)


# -- the cases -----------------------------------------------------------------------------------


@pytest.mark.requirement("P11-11.10a-1")
def test_a_store_nobody_touched_has_no_findings(store: Store, person_in: PersonFactory) -> None:
    cohort(store, person_in)
    outside = external(store)

    report = store.verifier().verify(external=outside)

    assert report.findings == []
    # the cohort's 8 records after the accounts: the server's (3 events), the coordinator's (5)
    assert report.events == 16


@pytest.mark.requirement("P11-11.10a-1")
def test_1_a_changed_payload_byte(store: Store, person_in: PersonFactory) -> None:
    c = cohort(store, person_in)
    drop_triggers(store)
    state = stored_state(store, RP101, 3)
    assert state.count(b'\\"value\\":\\"7.2\\"') == 1  # inside the author's signed body
    set_state(store, RP101, 3, state.replace(b'\\"value\\":\\"7.2\\"', b'\\"value\\":\\"8.2\\"'))

    assert findings_of(store) == [
        (c.at(RP101, 3), RP101, 3, "leaf-mismatch"),
        (c.at(RP101, 3), RP101, 3, "signature-invalid"),
        (c.at(RP101, 4), RP101, 4, "chain-broken"),
    ]


@pytest.mark.requirement("P11-11.70-1")
def test_2_a_signature_moved_to_another_event_of_the_same_subject(
    store: Store, person_in: PersonFactory
) -> None:
    """21 CFR 11.70: a valid signature of one record must not pass for another's."""
    c = cohort(store, person_in)
    drop_triggers(store)
    donor = json.loads(stored_state(store, RP101, 4))  # haemoglobin 7.9, the same author
    recipient = json.loads(stored_state(store, RP101, 3))  # haemoglobin 7.2
    recipient["authorship"] = donor["authorship"]
    set_state(store, RP101, 3, json.dumps(recipient).encode())

    assert findings_of(store) == [
        (c.at(RP101, 3), RP101, 3, "content-mismatch"),
        (c.at(RP101, 3), RP101, 3, "leaf-mismatch"),
        # It now hashes as the donor does; version 4 committed to the original version 3.
        (c.at(RP101, 4), RP101, 4, "chain-broken"),
    ]


def test_2_a_signature_moved_to_an_event_with_the_same_data_of_another_subject(
    store: Store, person_in: PersonFactory
) -> None:
    """The same author, kind and data (haemoglobin 7.9): only the subject differs."""
    c = cohort(store, person_in)
    drop_triggers(store)
    donor = json.loads(stored_state(store, RP102, 3))
    recipient = json.loads(stored_state(store, RP101, 4))
    recipient["authorship"] = donor["authorship"]
    set_state(store, RP101, 4, json.dumps(recipient).encode())

    assert findings_of(store) == [
        (c.at(RP101, 4), RP101, 4, "content-mismatch"),
        (c.at(RP101, 4), RP101, 4, "leaf-mismatch"),
    ]


@pytest.mark.requirement("P11-11.10a-1")
def test_3_an_event_deleted_mid_log(store: Store, person_in: PersonFactory) -> None:
    c = cohort(store, person_in)
    drop_triggers(store)
    with database(store) as execute:
        execute(f"DELETE FROM {table(store)} WHERE {row(store, RP101, 2)}")

    assert findings_of(store) == [
        # The Merkle log's leaf names the position; only its hash is left, so not the stream.
        (c.at(RP101, 2), None, None, "event-missing"),
        (c.at(RP101, 3), RP101, 3, "chain-broken"),
        (c.at(RP101, 3), RP101, 3, "version-gap"),
    ]


@pytest.mark.requirement("P11-11.10e-4")
def test_4_the_last_events_cut_off_with_their_leaves_nodes_and_checkpoints(
    store: Store, person_in: PersonFactory
) -> None:
    cohort(store, person_in)
    outside = external(store)
    size = last_position(store) - 3  # every event has a leaf, in log order
    drop_triggers(store, *APPEND_ONLY_TABLES)
    with database(store) as execute:
        execute(f"DELETE FROM {table(store)} WHERE {position_column(store)} > ?", (size,))
        execute("DELETE FROM merkle_leaves WHERE leaf_index >= ?", (size,))
        # Every node that covers a removed leaf: node (level, i) covers leaves i*2^level onwards.
        execute("DELETE FROM merkle_nodes WHERE ((node_index + 1) << level) > ?", (size,))
        execute("DELETE FROM checkpoints WHERE tree_size > ?", (size,))

    # What is left agrees with itself: only the checkpoint kept outside shows the cut.
    assert findings_of(store) == []
    assert findings_of(store, outside) == [(*LOG, "log-truncated")]


def test_5_two_events_of_different_subjects_swapped(store: Store, person_in: PersonFactory) -> None:
    c = cohort(store, person_in)
    drop_triggers(store)
    first, second = stored_state(store, RP101, 2), stored_state(store, RP102, 2)
    set_state(store, RP101, 2, second)
    set_state(store, RP102, 2, first)

    assert findings_of(store) == [
        (c.at(RP101, 2), RP101, 2, "chain-broken"),
        (c.at(RP101, 2), RP101, 2, "content-mismatch"),
        (c.at(RP101, 2), RP101, 2, "leaf-mismatch"),
        (c.at(RP102, 2), RP102, 2, "chain-broken"),
        (c.at(RP102, 2), RP102, 2, "content-mismatch"),
        (c.at(RP102, 2), RP102, 2, "leaf-mismatch"),
        (c.at(RP101, 3), RP101, 3, "chain-broken"),
        (c.at(RP102, 3), RP102, 3, "chain-broken"),
    ]


@pytest.mark.requirement("P11-11.10a-1")
def test_5_two_events_of_one_subject_swapped(store: Store, person_in: PersonFactory) -> None:
    c = cohort(store, person_in)
    drop_triggers(store)
    third, fourth = stored_state(store, RP102, 3), stored_state(store, RP102, 4)
    set_state(store, RP102, 3, fourth)
    set_state(store, RP102, 4, third)

    # Both are haemoglobin results, each still what its author signed, but each signed the
    # other's place: the order is what broke.
    assert findings_of(store) == [
        (c.at(RP102, 3), RP102, 3, "chain-broken"),
        (c.at(RP102, 3), RP102, 3, "event-replayed"),
        (c.at(RP102, 3), RP102, 3, "leaf-mismatch"),
        (c.at(RP102, 4), RP102, 4, "chain-broken"),
        (c.at(RP102, 4), RP102, 4, "event-replayed"),
        (c.at(RP102, 4), RP102, 4, "leaf-mismatch"),
    ]


def test_6_an_event_forged_with_an_unregistered_key(store: Store, person_in: PersonFactory) -> None:
    c = cohort(store, person_in)
    impostor = Person(
        c.coordinator.user_id,
        c.coordinator.printed_name,
        generate_private_key(),
        password="",
        store=store,
    )
    insert_raw(store, forged_lab_result(store, impostor, "RP-101", "6.1"))
    forged = last_position(store)

    assert findings_of(store) == [
        (forged, RP101, 5, "leaf-missing"),
        (forged, RP101, 5, "unknown-key"),
    ]


def test_7_an_event_signed_with_a_key_after_its_revocation(
    store: Store, person_in: PersonFactory
) -> None:
    c = cohort(store, person_in)
    # Revocations are stated to the second: revoke at the next whole second after the cohort
    # (its events stay valid) and record the forgery once that instant has passed.
    revoked_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    store.administration.revoke_key(
        RevokeKey(
            user_id=c.coordinator.user_id,
            key_id=c.coordinator.key_id,
            revoked_at=revoked_at,
            reason="laptop stolen",
        )
    )
    time.sleep(max(0.0, (revoked_at - datetime.now(UTC)).total_seconds()))
    insert_raw(store, forged_lab_result(store, c.coordinator, "RP-101", "6.1"))
    forged = last_position(store)

    assert findings_of(store) == [
        (forged, RP101, 5, "key-not-valid"),
        (forged, RP101, 5, "leaf-missing"),
    ]


@pytest.mark.requirement("P11-11.10e-4")
@pytest.mark.parametrize(
    "line",
    [pytest.param(1, id="size"), pytest.param(2, id="root")],
)
def test_8_a_checkpoint_note_edited(store: Store, person_in: PersonFactory, line: int) -> None:
    cohort(store, person_in)
    sealed = store.app.checkpoints.seal()
    drop_triggers(store, "checkpoints")
    lines = sealed.note.split("\n")
    # Line 1 is the tree size, line 2 the root: a smaller size, or the root of another tree.
    lines[line] = str(sealed.tree_size - 1) if line == 1 else lines[line][::-1]
    with database(store) as execute:
        execute(
            "UPDATE checkpoints SET note = ? WHERE tree_size = ?",
            ("\n".join(lines), sealed.tree_size),
        )

    assert findings_of(store) == [(*LOG, "checkpoint-signature-invalid")]


@pytest.mark.parametrize("column", ["root", "tree_size"])
def test_8_a_checkpoint_row_edited_beside_its_signed_note(
    store: Store, person_in: PersonFactory, column: str
) -> None:
    """``/v1/checkpoints/latest`` serves the row's size and root beside the note."""
    cohort(store, person_in)
    sealed = store.app.checkpoints.seal()
    drop_triggers(store, "checkpoints")
    value: Any = bytes(32) if column == "root" else sealed.tree_size + 100
    with database(store) as execute:
        execute(
            f"UPDATE checkpoints SET {column} = ? WHERE tree_size = ?", (value, sealed.tree_size)
        )

    assert findings_of(store) == [(*LOG, "checkpoint-row-mismatch")]


def test_9_a_whole_subject_removed(store: Store, person_in: PersonFactory) -> None:
    c = cohort(store, person_in)
    drop_triggers(store)
    with database(store) as execute:
        execute(f"DELETE FROM {table(store)} WHERE originator_id = ?", (subject_id(store, RP102),))

    assert findings_of(store) == [
        (c.at(RP102, version), None, None, "event-missing") for version in (1, 2, 3, 4)
    ]


@pytest.mark.requirement("P11-11.10e-4")
@pytest.mark.parametrize("recorded_after", [0, 4], ids=["then-nothing", "then-four-more"])
def test_9_a_whole_subject_removed_with_its_leaves_and_the_tree_rebuilt(
    store: Store, person_in: PersonFactory, recorded_after: int
) -> None:
    """The strongest attacker without the server's key: the store agrees with itself after."""
    c = cohort(store, person_in)
    outside = external(store)
    removed = {c.at(RP102, version) for version in (1, 2, 3, 4)}
    drop_triggers(store, *APPEND_ONLY_TABLES)
    with database(store) as execute:
        execute(f"DELETE FROM {table(store)} WHERE originator_id = ?", (subject_id(store, RP102),))
        leaves = execute("SELECT position, leaf_hash FROM merkle_leaves ORDER BY leaf_index")
        first_gone = min(index for index, (position, _) in enumerate(leaves) if position in removed)
        kept = [(position, bytes(hashed)) for position, hashed in leaves if position not in removed]
        execute("DELETE FROM merkle_leaves")
        execute("DELETE FROM merkle_nodes")
        tree = InMemoryTree()
        for index, (position, hashed) in enumerate(kept):
            tree.append_hash(hashed)
            execute(
                "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash) VALUES (?, ?, ?)",
                (index, position, hashed),
            )
        for (level, index), hashed in tree.nodes().items():
            execute(
                "INSERT INTO merkle_nodes (level, node_index, hash) VALUES (?, ?, ?)",
                (level, index, hashed),
            )
        # Nothing can be re-signed without the server's key: the checkpoints that no longer
        # match go (the one of size 5, from before RP-102, still does).
        execute("DELETE FROM checkpoints WHERE tree_size > ?", (first_gone,))
    for n in range(recorded_after):  # the site goes on recording, unaware
        c.coordinator.record(store, "RP-101", "BloodCountRecorded", haemoglobin(f"8.{n}"))

    assert findings_of(store) == []
    kind = "log-rewritten" if recorded_after >= len(removed) else "log-truncated"
    assert findings_of(store, outside) == [(*LOG, kind)]


def test_10_a_stored_interior_node_of_the_merkle_log_changed(
    store: Store, person_in: PersonFactory
) -> None:
    """Proofs are served from the stored nodes: one that is not the hash of its leaves is named.

    Nothing else shows it: the checkpoints are checked against the tree rebuilt from the events.
    """
    cohort(store, person_in)
    drop_triggers(store, "merkle_nodes")
    with database(store) as execute:
        # Level 2, index 1: the node over leaves 4 to 7 (the cohort's log has 16).
        ((stored,),) = execute("SELECT hash FROM merkle_nodes WHERE level = 2 AND node_index = 1")
        execute(
            "UPDATE merkle_nodes SET hash = ? WHERE level = 2 AND node_index = 1",
            (bytes(reversed(bytes(stored))),),
        )

    findings = store.verifier(workers=1).verify().findings
    assert where(findings) == [(*LOG, "tree-node-mismatch")]
    assert "(level 2, index 1)" in findings[0].detail


def test_11_two_leaves_swapped_with_the_nodes_rebuilt_are_named_by_sealtrail_verify(
    store: Store, person_in: PersonFactory
) -> None:
    """The leaves of two neighbouring events exchanged, hashes and all, and every node rebuilt
    over the new order: each leaf is still its event's and every node the hash of its leaves,
    so only the order of the positions the leaves name shows it (``log-reordered``)."""
    c = cohort(store, person_in)
    first, second = c.at(RP101, 3), c.at(RP102, 3)  # consecutive in the log
    drop_triggers(store, "merkle_leaves", "merkle_nodes")
    with database(store) as execute:
        leaves = execute("SELECT leaf_index, position, leaf_hash FROM merkle_leaves")
        index_of = {position: index for index, position, _ in leaves}
        assert index_of[second] == index_of[first] + 1
        hash_of = {position: bytes(hashed) for _, position, hashed in leaves}
        execute("DELETE FROM merkle_leaves WHERE position IN (?, ?)", (first, second))
        for position, index in ((first, index_of[second]), (second, index_of[first])):
            execute(
                "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash) VALUES (?, ?, ?)",
                (index, position, hash_of[position]),
            )
        execute("DELETE FROM merkle_nodes")
        tree = InMemoryTree()
        for _, _, hashed in sorted(
            execute("SELECT leaf_index, position, leaf_hash FROM merkle_leaves")
        ):
            tree.append_hash(bytes(hashed))
        for (level, index), hashed in tree.nodes().items():
            execute(
                "INSERT INTO merkle_nodes (level, node_index, hash) VALUES (?, ?, ?)",
                (level, index, hashed),
            )
    url = store.settings.database_url.render_as_string(hide_password=False)

    verified = sealtrail("verify", "--json", home=store.settings.home, url=url)

    assert verified.returncode == 1, verified.stdout + verified.stderr
    findings = json.loads(verified.stdout)["findings"]
    assert [(f["position"], f["stream"], f["version"], f["kind"]) for f in findings] == [
        (first, None, None, "log-reordered")
    ]
    assert f"names position {first} after {second}" in findings[0]["detail"]


def test_an_event_written_below_the_first_position_is_named(
    store: Store, person_in: PersonFactory
) -> None:
    """The store numbers the log from 1, and the application reads a subject by its stream
    whatever the position: a copy of RP-102's version 4 written at position -1 as its version
    5 is RP-102's newest record to the application, so the verify must read it too."""
    cohort(store, person_in)
    copy_below_the_log(store, RP102, 4, as_version=5)
    found = store.app.find_subject(RP102)
    assert found is not None and found.version == 5

    below = [finding for finding in findings_of(store) if finding[0] == -1]

    assert below == [
        (-1, RP102, 5, "chain-broken"),
        (-1, RP102, 5, "event-replayed"),
        (-1, RP102, 5, "leaf-missing"),
        (-1, RP102, 5, "version-gap"),
    ]
