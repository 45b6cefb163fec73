"""The Merkle log: one leaf per event in log order, kept incrementally, proofs that verify."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from infrastructure.bootstrap import Store, open_store
from infrastructure.errors import ProofNotAvailable
from infrastructure.settings import Settings
from infrastructure.store.merkle_log import StoredTree, merkle_nodes
from signatures.checkpoint import verify_checkpoint
from signatures.merkle import InMemoryTree, leaf_hash, verify_consistency, verify_inclusion
from tests.conftest import (
    STUDY,
    Person,
    PersonFactory,
    consent,
    haemoglobin,
    make_settings,
    new_store,
    screening,
)


def screened_subject(store: Store, person: Person, labs: int) -> list[dict[str, Any]]:
    receipts = [
        person.record(store, "RP-101", "Screened", screening()),
        person.record(store, "RP-101", "ConsentObtained", consent()),
    ]
    return receipts + more_labs(store, person, labs)


def more_labs(store: Store, person: Person, labs: int) -> list[dict[str, Any]]:
    return [
        person.record(store, "RP-101", "BloodCountRecorded", haemoglobin(f"7.{n}"))
        for n in range(labs)
    ]


def tree_from_events(store: Store) -> InMemoryTree:
    tree = InMemoryTree()
    for notification in store.app.recorder.select_notifications(1, 10_000):
        event = store.app.mapper.to_domain_event(notification)
        tree.append(event.leaf_data(notification.id))
    return tree


def node_count(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(merkle_nodes)).scalar_one())


def test_every_event_gets_the_next_leaf_and_the_receipt_says_which(
    store: Store, person_in: PersonFactory
) -> None:
    receipts = screened_subject(store, person_in(store), labs=10)

    leaf_indexes = [receipt["leaf_index"] for receipt in receipts]
    assert leaf_indexes == list(range(leaf_indexes[0], leaf_indexes[0] + len(receipts)))
    with store.engine.connect() as connection:
        stored = StoredTree(connection)
        assert stored.size() == tree_from_events(store).size
        for receipt in receipts:
            assert stored.leaf_of_position(receipt["position"]) is not None


def test_the_stored_tree_is_the_rfc_6962_tree_of_the_events(
    store: Store, person_in: PersonFactory
) -> None:
    screened_subject(store, person_in(store), labs=10)
    recomputed = tree_from_events(store)

    with store.engine.connect() as connection:
        stored = StoredTree(connection)
        for (level, index), value in recomputed.nodes().items():
            assert stored.node(level, index) == value


@pytest.mark.requirement("URS-merkle-1")
def test_inclusion_and_consistency_proofs_verify_against_signed_checkpoints(
    store: Store, person_in: PersonFactory
) -> None:
    keeper = store.app.checkpoints
    coordinator = person_in(store)
    receipts = screened_subject(store, coordinator, labs=3)
    early = verify_checkpoint(keeper.seal().note, keeper.origin, store.app.server_key.public_key)
    receipts += more_labs(store, coordinator, 5)
    late = verify_checkpoint(keeper.seal().note, keeper.origin, store.app.server_key.public_key)

    verify_consistency(
        early.size, late.size, early.root, late.root, keeper.consistency(early.size, late.size)
    )
    subject = store.app.find_subject("NCT01297972/RP-101")
    assert subject is not None
    for receipt in receipts:
        proof = keeper.inclusion(receipt["position"], late.size)
        event = store.app.stored_record(subject.id, receipt["version"]).event
        assert proof.leaf_index == receipt["leaf_index"]
        assert proof.leaf_hash == leaf_hash(event.leaf_data(receipt["position"]))
        verify_inclusion(proof.leaf_hash, proof.leaf_index, late.size, proof.proof, late.root)


def test_an_append_writes_log_n_nodes_and_a_restarted_store_extends_the_stored_tree(
    tmp_path: Path, person_in: PersonFactory
) -> None:
    settings = make_settings(tmp_path)
    first = new_store(settings)
    coordinator = person_in(first)
    screened_subject(first, coordinator, labs=40)
    first.close()

    reopened = open_store(settings)
    try:
        before = node_count(reopened)
        receipt = more_labs(reopened, coordinator, 1)[0]
        written = node_count(reopened) - before

        # One leaf node, plus one parent for each trailing 1 bit of the leaf's index.
        trailing_ones = len(bin(receipt["leaf_index"])) - len(
            bin(receipt["leaf_index"]).rstrip("1")
        )
        assert written == 1 + trailing_ones
        assert written <= math.log2(receipt["leaf_index"] + 1) + 1
        with reopened.engine.connect() as connection:
            stored = StoredTree(connection)
            recomputed = tree_from_events(reopened)
            assert all(stored.node(*key) == value for key, value in recomputed.nodes().items())
    finally:
        reopened.close()


def test_a_checkpoint_is_sealed_automatically_every_n_events(
    tmp_path: Path, person_in: PersonFactory
) -> None:
    settings = Settings.from_environ(
        {
            "SEALTRAIL_HOME": str(tmp_path),
            "SEALTRAIL_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
            "SEALTRAIL_CHECKPOINT_EVERY": "5",
        }
    )
    store = new_store(settings)
    try:
        screened_subject(store, person_in(store), labs=12)
        sizes = [checkpoint.tree_size for checkpoint in store.app.checkpoints.all()]
        report = store.verifier().verify()
    finally:
        store.close()

    assert len(sizes) >= 3
    assert all(later - earlier >= 5 for earlier, later in itertools.pairwise(sizes))
    assert report.findings == []


def test_an_event_is_found_by_its_log_position_whatever_its_stream(
    store: Store, person_in: PersonFactory
) -> None:
    receipts = screened_subject(store, person_in(store), labs=1)

    for receipt in receipts:
        found = store.reads.event_at(receipt["position"])
        assert found.position == receipt["position"]
        assert found.event.stream == f"{STUDY}/RP-101"
        assert found.event.event_hash == receipt["event_hash"]
    first = store.reads.event_at(1)
    assert first.event.stream.startswith("accounts/")  # the store's own first account
    last = receipts[-1]["position"]
    for missing in (0, -1, last + 1, 2**63, 2**80):
        with pytest.raises(ProofNotAvailable, match=f"no event at log position {missing}"):
            store.reads.event_at(missing)
