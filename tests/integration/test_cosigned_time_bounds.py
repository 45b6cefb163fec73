"""Events' recording times bounded by the times trusted witnesses cosigned the checkpoints
covering them (``verify --witness``): real Ed25519 keys, cosignatures received as the server's
endpoint receives them, a server clock set ahead while it records."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from domain.account import Role
from infrastructure.application.witnessing import Witnessing
from infrastructure.bootstrap import Store
from infrastructure.verification.witness_checks import WitnessPolicy
from signatures.checkpoint import Checkpoint
from signatures.cosignature import cosign, witness_key
from tests.conftest import Person, PersonFactory, consent, screening
from tests.tsa import shift_server_clock


def cosigns(store: Store, witness: Person) -> int:
    """``witness`` cosigns the newest checkpoint, sealed now, at its own (true) time."""
    sealed = store.app.checkpoints.seal()
    checkpoint = Checkpoint(store.app.checkpoints.origin, sealed.tree_size, sealed.root)
    line = cosign(witness.private_key, witness.user_id, checkpoint, int(time.time())).line()
    Witnessing(store.app).receive(sealed.tree_size, checkpoint.body(), line)
    return sealed.tree_size


def findings_trusting(store: Store, *witnesses: Person) -> list[tuple[int | None, str, str]]:
    keys = tuple(witness_key(w.user_id, w.private_key) for w in witnesses)
    report = store.verifier(workers=1).verify(witnesses=WitnessPolicy(keys, len(keys)))
    return [(f.position, f.kind, f.detail) for f in report.findings]


@pytest.fixture
def cep(sqlite_store: Store, person_in: PersonFactory) -> Person:
    return person_in(sqlite_store, "cep-witness", role=Role.WITNESS, sites=())


def consent_recorded_ahead(
    store: Store, person_in: PersonFactory, monkeypatch: pytest.MonkeyPatch
) -> int:
    """RP-101's consent recorded by a server whose clock ran 20 minutes ahead (its position)."""
    coordinator = person_in(store)
    coordinator.record(store, "RP-101", "Screened", screening())
    shift_server_clock(monkeypatch, timedelta(minutes=20))
    receipt = coordinator.record(store, "RP-101", "ConsentObtained", consent())
    monkeypatch.undo()
    return int(receipt["position"])


def test_an_event_recorded_after_a_trusted_witness_cosigned_its_checkpoint_is_named(
    sqlite_store: Store, cep: Person, person_in: PersonFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No time-stamping authority: the witness's clock alone tells that the consent, which the
    checkpoint it cosigned covers, cannot have been recorded 20 minutes after that."""
    position = consent_recorded_ahead(sqlite_store, person_in, monkeypatch)
    size = cosigns(sqlite_store, cep)

    ((at, kind, detail),) = findings_trusting(sqlite_store, cep)

    assert (at, kind) == (position, "recorded-time-out-of-bounds")
    assert detail.startswith("ConsentObtained recorded at ")
    assert f"the checkpoint of size {size} covers it and was cosigned " in detail
    assert detail.endswith(" by witness cep-witness")


def test_a_witness_the_auditor_does_not_name_bounds_nothing(
    sqlite_store: Store, cep: Person, person_in: PersonFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log registers both witnesses and both cosignatures verify; only the one the auditor
    names is evidence of time (the other may be the owner's own)."""
    sponsor = person_in(sqlite_store, "sponsor-witness", role=Role.WITNESS, sites=())
    cosigns(sqlite_store, sponsor)  # before the consent: it covers nothing recorded ahead
    position = consent_recorded_ahead(sqlite_store, person_in, monkeypatch)
    cosigns(sqlite_store, cep)

    assert findings_trusting(sqlite_store, sponsor) == []
    assert [(at, kind) for at, kind, _ in findings_trusting(sqlite_store, cep)] == [
        (position, "recorded-time-out-of-bounds")
    ]


def test_a_cosignature_bounds_no_event_after_its_checkpoint(
    sqlite_store: Store, cep: Person, person_in: PersonFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A witness may cosign long after the sealing: events recorded meanwhile, after the
    checkpoint, are not bounded from below by its time (a time-stamp, asked for as the
    checkpoint is sealed, would bound them)."""
    coordinator = person_in(sqlite_store)
    coordinator.record(sqlite_store, "RP-101", "Screened", screening())
    sealed = sqlite_store.app.checkpoints.seal()
    coordinator.record(sqlite_store, "RP-101", "ConsentObtained", consent())
    checkpoint = Checkpoint(sqlite_store.app.checkpoints.origin, sealed.tree_size, sealed.root)
    later = int(time.time()) + 60  # the witness cosigns a minute after the consent
    line = cosign(cep.private_key, cep.user_id, checkpoint, later).line()
    Witnessing(sqlite_store.app).receive(sealed.tree_size, checkpoint.body(), line)

    assert findings_trusting(sqlite_store, cep) == []
