"""What ``verify --witness ... --quorum N`` names, case by case, on a store an insider changed.

Each cosignature row the insider writes (triggers dropped, or while the table had none) is one
the server would have refused on the way in; verify names each by its kind, and the quorum
names the checkpoint nobody trusted vouches for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert

from domain.account import Role
from infrastructure.application.commands import AttestTraining, GrantRole, RevokeKey, RevokeRole
from infrastructure.application.witnessing import Witnessing
from infrastructure.bootstrap import Store
from infrastructure.store.cosignatures import stored_cosignatures
from infrastructure.store.merkle_log import cosignatures
from infrastructure.verification.since import SinceCheck, read_kept_checkpoint
from infrastructure.verification.witness_checks import WitnessPolicy
from signatures.checkpoint import Checkpoint
from signatures.cosignature import cosign, witness_key
from signatures.errors import CosignerNotAWitness, KeyNotValid
from signatures.keys import key_id
from signatures.verifier_keys import VerifierKey
from tests.conftest import Person, PersonFactory, consent, screening


@dataclass
class Witnessed:
    store: Store
    cep: Person
    checkpoint: Checkpoint

    @property
    def vkey(self) -> VerifierKey:
        return witness_key(self.cep.user_id, self.cep.private_key)

    def kinds(self, quorum: int = 1, max_age: int = 3600, *keys: VerifierKey) -> list[str]:
        policy = WitnessPolicy(keys or (self.vkey,), quorum, max_age)
        report = self.store.verifier(workers=1).verify(witnesses=policy)
        return [finding.kind for finding in report.findings]

    def insert(self, size: int, text: str, line: str, witness: str = "cep-witness") -> None:
        with self.store.app.checkpoints.engine.begin() as connection:
            connection.execute(
                insert(cosignatures).values(
                    tree_size=size,
                    witness=witness,
                    cosigned_at=int(time.time()),
                    key_id=key_id(self.cep.private_key.public_key()),
                    line=line,
                    checkpoint=text,
                    received_at=datetime.now(UTC),
                )
            )


@pytest.fixture
def witnessed(sqlite_store: Store, person_in: PersonFactory) -> Witnessed:
    coordinator = person_in(sqlite_store)
    coordinator.record(sqlite_store, "RP-101", "Screened", screening())
    coordinator.record(sqlite_store, "RP-101", "ConsentObtained", consent())
    cep = person_in(sqlite_store, "cep-witness", role=Role.WITNESS, sites=())
    sealed = sqlite_store.app.checkpoints.seal()
    checkpoint = Checkpoint(sqlite_store.app.checkpoints.origin, sealed.tree_size, sealed.root)
    return Witnessed(sqlite_store, cep, checkpoint)


def cosigned(witnessed: Witnessed, checkpoint: Checkpoint | None = None, **at: int) -> str:
    made = cosign(
        witnessed.cep.private_key,
        witnessed.cep.user_id,
        checkpoint or witnessed.checkpoint,
        at.get("at", int(time.time())),
    )
    return made.line()


@pytest.mark.requirement("P11-11.10e-5")
def test_a_checkpoint_its_witness_cosigned_meets_the_quorum(witnessed: Witnessed) -> None:
    Witnessing(witnessed.store.app).receive(
        witnessed.checkpoint.size, witnessed.checkpoint.body(), cosigned(witnessed)
    )

    assert witnessed.kinds() == []


@pytest.mark.requirement("P11-11.10e-5")
def test_a_checkpoint_nobody_cosigned_fails_the_quorum_naming_it(witnessed: Witnessed) -> None:
    report = witnessed.store.verifier(workers=1).verify(
        witnesses=WitnessPolicy((witnessed.vkey,), 1)
    )

    (finding,) = report.findings
    assert finding.kind == "witness-quorum-not-met"
    assert f"checkpoint {witnessed.checkpoint.size} of " in finding.detail
    assert "cep-witness (no cosignature)" in finding.detail


@pytest.mark.requirement("P11-11.10e-5")
def test_a_forged_cosignature_is_named(witnessed: Witnessed) -> None:
    line = cosigned(witnessed, at=1_000)
    forged = line.replace(line.split(" ")[2], line.split(" ")[2][:-8] + "AAAAAA==")
    witnessed.insert(witnessed.checkpoint.size, witnessed.checkpoint.body(), forged)

    assert witnessed.kinds() == ["cosignature-forged", "witness-quorum-not-met"]


def test_a_cosignature_of_another_origin_is_named(witnessed: Witnessed) -> None:
    other = Checkpoint("another.example/log", witnessed.checkpoint.size, witnessed.checkpoint.root)
    witnessed.insert(other.size, other.body(), cosigned(witnessed, other))

    assert witnessed.kinds() == ["cosignature-other-origin", "witness-quorum-not-met"]


@pytest.mark.requirement("P11-11.10e-5")
def test_a_cosignature_of_another_checkpoint_is_named(witnessed: Witnessed) -> None:
    other = Checkpoint(witnessed.checkpoint.origin, witnessed.checkpoint.size, bytes(32))
    witnessed.insert(other.size, other.body(), cosigned(witnessed, other))

    assert witnessed.kinds() == ["cosignature-other-checkpoint", "witness-quorum-not-met"]


def test_a_cosignature_by_a_key_the_log_never_registered_is_named(witnessed: Witnessed) -> None:
    stranger = Ed25519PrivateKey.generate()
    line = cosign(stranger, "cep-witness", witnessed.checkpoint, int(time.time())).line()
    witnessed.insert(witnessed.checkpoint.size, witnessed.checkpoint.body(), line)

    # Trusted by the auditor, but not the key the log registers for that witness.
    trusted = witness_key("cep-witness", stranger)
    assert witnessed.kinds(1, 3600, trusted) == ["unknown-witness-key", "witness-quorum-not-met"]


def test_a_witness_that_cosigned_only_an_older_checkpoint_too_long_ago_is_stale(
    witnessed: Witnessed, person_in: PersonFactory
) -> None:
    Witnessing(witnessed.store.app).receive(
        witnessed.checkpoint.size, witnessed.checkpoint.body(), cosigned(witnessed)
    )
    time.sleep(2.1)  # cosignature times are whole seconds
    person_in(witnessed.store, "coord2").record(witnessed.store, "RP-102", "Screened", screening())
    witnessed.store.app.checkpoints.seal()

    assert witnessed.kinds(1, 1) == ["cosignature-stale", "witness-quorum-not-met"]
    assert witnessed.kinds(1, 3600) == []  # within the allowed age it still vouches


def test_a_quorum_of_two_names_the_missing_witness(
    witnessed: Witnessed, person_in: PersonFactory
) -> None:
    sponsor = person_in(witnessed.store, "sponsor-witness", role=Role.WITNESS, sites=())
    Witnessing(witnessed.store.app).receive(
        witnessed.checkpoint.size, witnessed.checkpoint.body(), cosigned(witnessed)
    )
    both = (witnessed.vkey, witness_key(sponsor.user_id, sponsor.private_key))

    report = witnessed.store.verifier(workers=1).verify(witnesses=WitnessPolicy(both, 2))

    (finding,) = report.findings
    assert finding.kind == "witness-quorum-not-met"
    assert (
        "by 1 of the 2" in finding.detail and "sponsor-witness (no cosignature)" in finding.detail
    )


def test_verify_without_witnesses_still_checks_every_stored_cosignature(
    witnessed: Witnessed,
) -> None:
    other = Checkpoint(witnessed.checkpoint.origin, witnessed.checkpoint.size, bytes(32))
    witnessed.insert(other.size, other.body(), cosigned(witnessed, other))

    report = witnessed.store.verifier(workers=1).verify()

    assert [finding.kind for finding in report.findings] == ["cosignature-other-checkpoint"]


def test_a_cosignature_made_after_its_key_was_revoked_is_named(witnessed: Witnessed) -> None:
    witnessed.store.administration.revoke_key(
        RevokeKey(
            user_id=witnessed.cep.user_id,
            key_id=key_id(witnessed.cep.private_key.public_key()),
            revoked_at=None,
            reason="the CEP's witness machine was stolen",
        )
    )
    time.sleep(1.1)  # a revocation asked for now takes effect at the next whole second
    witnessed.insert(witnessed.checkpoint.size, witnessed.checkpoint.body(), cosigned(witnessed))

    assert witnessed.kinds() == ["key-not-valid", "witness-quorum-not-met"]


@pytest.mark.parametrize("at", [1, 1_000_000_000])
def test_a_cosignature_dated_before_its_key_was_registered_is_refused_and_nothing_is_kept(
    witnessed: Witnessed, at: int
) -> None:
    """Found attacking the cosignature endpoint: the server checked the key valid now, verify
    checks it valid when the witness says it cosigned; a backdated line was kept, then named
    key-not-valid by the store's own verify."""
    with pytest.raises(KeyNotValid, match="was not valid at"):
        Witnessing(witnessed.store.app).receive(
            witnessed.checkpoint.size, witnessed.checkpoint.body(), cosigned(witnessed, at=at)
        )

    assert stored_cosignatures(witnessed.store.app.checkpoints.engine) == []
    assert witnessed.kinds() == ["witness-quorum-not-met"]


def test_a_cosignature_written_by_hand_by_an_account_that_is_no_witness_is_named(
    witnessed: Witnessed, person_in: PersonFactory
) -> None:
    """Found attacking verify: a monitor with the database file and its own registered key
    wrote a cosignature of the checkpoint by hand (the server answers such a post 403); verify
    checked the signature against the monitor's key and found nothing, with --witness or not."""
    monitor = person_in(witnessed.store, "mon1", role=Role.MONITOR)
    at = int(time.time())
    line = cosign(monitor.private_key, "mon1", witnessed.checkpoint, at).line()
    witnessed.insert(witnessed.checkpoint.size, witnessed.checkpoint.body(), line, "mon1")

    report = witnessed.store.verifier(workers=1).verify()

    (finding,) = report.findings
    assert finding.kind == "cosigner-not-a-witness"
    when = datetime.fromtimestamp(at, UTC).isoformat()
    assert f"mon1 did not hold the witness's role at {when}" in finding.detail
    assert f"checkpoint of size {witnessed.checkpoint.size}" in finding.detail
    trusted = witness_key("mon1", monitor.private_key)
    assert witnessed.kinds(1, 3600, trusted) == [
        "cosigner-not-a-witness",
        "witness-quorum-not-met",
    ]


def test_a_witness_whose_role_was_revoked_after_it_cosigned_still_vouches_for_then(
    witnessed: Witnessed,
) -> None:
    """The role is asked at the cosignature's time, from the role's history in the log, not
    as it stands now (a first fix asked it now, and named every honest cosignature of a
    witness that later left the trial)."""
    Witnessing(witnessed.store.app).receive(
        witnessed.checkpoint.size, witnessed.checkpoint.body(), cosigned(witnessed)
    )
    time.sleep(1.1)  # revoked in a later second than the one it cosigned in
    witnessed.store.administration.revoke_role(
        RevokeRole(user_id="cep-witness", role=Role.WITNESS, reason="the CEP's mandate ended")
    )

    assert witnessed.kinds() == []


def test_a_cosignature_dated_before_its_account_became_a_witness_is_named(
    witnessed: Witnessed, person_in: PersonFactory
) -> None:
    """A monitor made a witness later: its row dated while it was still a monitor is named."""
    monitor = person_in(witnessed.store, "mon1", role=Role.MONITOR)
    before = int(time.time())
    time.sleep(1.1)
    witnessed.store.administration.revoke_role(
        RevokeRole(user_id="mon1", role=Role.MONITOR, reason="now the sponsor's witness")
    )
    witnessed.store.administration.grant_role(GrantRole(user_id="mon1", role=Role.WITNESS))
    witnessed.store.administration.attest_training(
        AttestTraining(
            user_id="mon1", role=Role.WITNESS, course="Witnessing", completed_on=date(2026, 1, 5)
        )
    )
    line = cosign(monitor.private_key, "mon1", witnessed.checkpoint, before).line()
    size, body = witnessed.checkpoint.size, witnessed.checkpoint.body()

    # The server asks the same question on the way in, and keeps nothing.
    with pytest.raises(CosignerNotAWitness, match="mon1 did not hold the witness's role"):
        Witnessing(witnessed.store.app).receive(size, body, line)
    assert stored_cosignatures(witnessed.store.app.checkpoints.engine) == []
    witnessed.insert(size, body, line, "mon1")

    assert witnessed.kinds(1, 3600, witnessed.vkey) == [
        "cosigner-not-a-witness",
        "witness-quorum-not-met",
    ]


# -- verify --since --witness: the daily check requires the quorum the same way ------------------


def since_kinds(
    witnessed: Witnessed, kept_note: str, quorum: int = 1, max_age: int = 3600, *keys: VerifierKey
) -> tuple[list[str], str | None]:
    """``verify --since`` from ``kept_note`` with the witnesses ``keys`` (the CEP's by default):
    the kinds found, and the checkpoint it says to keep next."""
    verifier = witnessed.store.verifier(workers=1)
    kept = read_kept_checkpoint(kept_note.encode(), verifier.origin, verifier.anchor_key)
    policy = WitnessPolicy(keys or (witnessed.vkey,), quorum, max_age)
    report = SinceCheck(verifier, kept, policy).run()
    return [finding.kind for finding in report.findings], report.keep_next


def one_more_checkpoint(witnessed: Witnessed, person_in: PersonFactory, code: str) -> Checkpoint:
    person_in(witnessed.store, f"coord-{code.lower()}").record(
        witnessed.store, code, "Screened", screening()
    )
    sealed = witnessed.store.app.checkpoints.seal()
    return Checkpoint(witnessed.store.app.checkpoints.origin, sealed.tree_size, sealed.root)


def kept_note(witnessed: Witnessed) -> str:
    sealed = witnessed.store.app.checkpoints.at_size(witnessed.checkpoint.size)
    assert sealed is not None
    return sealed.note


@pytest.mark.requirement("P11-11.10e-5", "URS-verify-since-1")
def test_since_with_the_new_checkpoint_cosigned_meets_the_quorum_and_says_what_to_keep(
    witnessed: Witnessed, person_in: PersonFactory
) -> None:
    newer = one_more_checkpoint(witnessed, person_in, "RP-102")
    Witnessing(witnessed.store.app).receive(newer.size, newer.body(), cosigned(witnessed, newer))

    kinds, keep_next = since_kinds(witnessed, kept_note(witnessed))

    assert kinds == []
    latest = witnessed.store.app.checkpoints.latest()
    assert latest is not None and keep_next == latest.note


@pytest.mark.requirement("P11-11.10e-5", "URS-verify-since-1")
def test_since_with_the_new_checkpoint_nobody_cosigned_fails_the_quorum_naming_it(
    witnessed: Witnessed, person_in: PersonFactory
) -> None:
    newer = one_more_checkpoint(witnessed, person_in, "RP-102")

    verifier = witnessed.store.verifier(workers=1)
    kept = read_kept_checkpoint(kept_note(witnessed).encode(), verifier.origin, verifier.anchor_key)
    report = SinceCheck(verifier, kept, WitnessPolicy((witnessed.vkey,), 1)).run()

    (finding,) = report.findings
    assert finding.kind == "witness-quorum-not-met"
    assert f"checkpoint {newer.size} of " in finding.detail
    assert "cep-witness (no cosignature)" in finding.detail
    assert report.keep_next is None  # keep the old checkpoint


@pytest.mark.requirement("P11-11.10e-5", "URS-verify-since-1")
def test_since_counts_a_witness_whose_newest_cosignature_is_before_the_kept_checkpoint(
    witnessed: Witnessed, person_in: PersonFactory
) -> None:
    """The witness cosigned an earlier checkpoint than the kept one, and nothing since: as the
    full verify, it vouches within the allowed age and is stale past it."""
    Witnessing(witnessed.store.app).receive(
        witnessed.checkpoint.size, witnessed.checkpoint.body(), cosigned(witnessed)
    )
    one_more_checkpoint(witnessed, person_in, "RP-102")
    kept = witnessed.store.app.checkpoints.latest()
    assert kept is not None
    time.sleep(2.1)  # cosignature times are whole seconds
    one_more_checkpoint(witnessed, person_in, "RP-103")

    assert since_kinds(witnessed, kept.note, 1, 3600)[0] == witnessed.kinds(1, 3600) == []
    stale = ["cosignature-stale", "witness-quorum-not-met"]
    assert since_kinds(witnessed, kept.note, 1, 1)[0] == witnessed.kinds(1, 1) == stale


@pytest.mark.requirement("P11-11.10e-5", "URS-verify-since-1")
def test_since_names_a_cosignature_by_a_key_the_log_never_registered(
    witnessed: Witnessed, person_in: PersonFactory
) -> None:
    newer = one_more_checkpoint(witnessed, person_in, "RP-102")
    stranger = Ed25519PrivateKey.generate()
    line = cosign(stranger, "cep-witness", newer, int(time.time())).line()
    witnessed.insert(newer.size, newer.body(), line)
    trusted = witness_key("cep-witness", stranger)

    kinds, keep_next = since_kinds(witnessed, kept_note(witnessed), 1, 3600, trusted)

    assert kinds == ["unknown-witness-key", "witness-quorum-not-met"]
    assert keep_next is None
