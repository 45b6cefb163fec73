"""Witnesses' cosignatures over HTTP: kept when they verify with a key the log registers for a
witness, refused (problem+json, nothing kept) otherwise; served appended to the checkpoint."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from domain.account import Role
from infrastructure.application.commands import RevokeKey
from infrastructure.bootstrap import Store
from infrastructure.store.cosignatures import stored_cosignatures
from signatures.checkpoint import Checkpoint, verify_checkpoint
from signatures.cosignature import cosign, cosignatures_in, verify_cosignature, witness_key
from signatures.keys import key_id, public_key_from_text
from tests.conftest import Person, PersonFactory, consent, screening
from tests.e2e.conftest import Site

PROBLEM = "application/problem+json"


@pytest.fixture
def lite(sqlite_store: Store) -> Site:
    return Site(sqlite_store)


@pytest.fixture
def cep(lite: Site, person_in: PersonFactory) -> Iterator[Person]:
    """The ethics committee's witness: an account whose role is witness, with its own key; and
    a log with a checkpoint to cosign."""
    coordinator = person_in(lite.store)
    for kind, data in [("Screened", screening()), ("ConsentObtained", consent())]:
        assert lite.submit(coordinator, kind, data).status_code == 201
    lite.store.app.checkpoints.seal()
    yield person_in(lite.store, "cep-witness", printed_name="CEP", role=Role.WITNESS, sites=())


def latest(site: Site) -> Checkpoint:
    body = site.client.get("/v1/checkpoints/latest").get_json()
    server = site.client.get("/v1/server-key").get_json()
    return verify_checkpoint(
        body["note"], body["origin"], public_key_from_text(server["public_key"])
    )


def post(site: Site, size: int, checkpoint: Checkpoint, line: str) -> object:
    return site.client.post(
        f"/v1/checkpoints/{size}/cosignatures",
        json={"checkpoint": checkpoint.body(), "cosignature": line},
    )


def test_a_witness_s_cosignature_is_kept_and_served_appended_to_the_checkpoint(
    lite: Site, cep: Person
) -> None:
    checkpoint = latest(lite)
    cosignature = cosign(cep.private_key, cep.user_id, checkpoint, int(time.time()))

    response = post(lite, checkpoint.size, checkpoint, cosignature.line())

    assert response.status_code == 201, response.get_data(as_text=True)  # type: ignore[attr-defined]
    served = lite.client.get("/v1/checkpoints/latest").get_json()
    _, found = cosignatures_in(served["note"])
    assert found == [cosignature]
    verify_cosignature(found[0], checkpoint, witness_key(cep.user_id, cep.private_key))
    assert served["cosignatures"][0]["witness"] == cep.user_id
    assert served["cosignatures"][0]["key_id"] == key_id(cep.private_key.public_key())


def refused(site: Site, response: object, status: int, kind: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.mimetype == PROBLEM  # type: ignore[attr-defined]
    assert response.get_json()["type"] == f"urn:sealtrail:problem:{kind}"  # type: ignore[attr-defined]
    assert stored_cosignatures(site.store.app.checkpoints.engine) == []


def test_a_forged_cosignature_is_refused_and_nothing_is_kept(lite: Site, cep: Person) -> None:
    checkpoint = latest(lite)
    made = cosign(cep.private_key, cep.user_id, checkpoint, int(time.time()))
    forged = made.__class__(made.name, made.key_id, made.timestamp - 60, made.signature)

    refused(lite, post(lite, checkpoint.size, checkpoint, forged.line()), 422, "cosignature-forged")


def test_a_cosignature_of_another_origin_is_refused(lite: Site, cep: Person) -> None:
    checkpoint = latest(lite)
    other = Checkpoint("another.example/log", checkpoint.size, checkpoint.root)
    line = cosign(cep.private_key, cep.user_id, other, int(time.time())).line()

    refused(lite, post(lite, checkpoint.size, other, line), 422, "cosignature-other-origin")


def test_a_cosignature_of_another_checkpoint_of_this_log_is_refused(
    lite: Site, cep: Person
) -> None:
    checkpoint = latest(lite)
    other = Checkpoint(checkpoint.origin, checkpoint.size, bytes(32))
    line = cosign(cep.private_key, cep.user_id, other, int(time.time())).line()

    refused(lite, post(lite, checkpoint.size, other, line), 422, "cosignature-other-checkpoint")


@pytest.mark.parametrize("name", ["cep-witness", "nobody", "witness.example.org/w1"])
def test_a_cosignature_by_a_key_the_log_does_not_register_is_refused(
    lite: Site, cep: Person, name: str
) -> None:
    checkpoint = latest(lite)
    line = cosign(Ed25519PrivateKey.generate(), name, checkpoint, int(time.time())).line()

    refused(lite, post(lite, checkpoint.size, checkpoint, line), 422, "unknown-witness-key")


def test_a_cosignature_by_a_revoked_witness_key_is_refused(lite: Site, cep: Person) -> None:
    lite.store.administration.revoke_key(
        RevokeKey(
            user_id=cep.user_id,
            key_id=key_id(cep.private_key.public_key()),
            revoked_at=None,
            reason="the CEP's witness machine was replaced",
        )
    )
    time.sleep(1.1)  # a revocation asked for now takes effect at the next whole second
    checkpoint = latest(lite)
    line = cosign(cep.private_key, cep.user_id, checkpoint, int(time.time())).line()

    refused(lite, post(lite, checkpoint.size, checkpoint, line), 422, "key-not-valid")


def test_a_cosignature_by_someone_who_is_not_a_witness_is_refused(
    lite: Site, cep: Person, person_in: PersonFactory
) -> None:
    monitor = person_in(lite.store, "mon1", role=Role.MONITOR)
    checkpoint = latest(lite)
    line = cosign(monitor.private_key, monitor.user_id, checkpoint, int(time.time())).line()

    refused(lite, post(lite, checkpoint.size, checkpoint, line), 403, "not-permitted")


@pytest.mark.parametrize(
    ("size", "body", "status"),
    [
        (999, None, 404),
        (1, {"checkpoint": "x", "cosignature": "y"}, 422),
        (1, {"checkpoint": "a\n1\nAAAA\n", "cosignature": "— cep-witness AAAA"}, 422),
        (1, {"cosignature": "— cep-witness AAAA"}, 422),
        (1, {"checkpoint": "x", "cosignature": "y", "more": 1}, 422),
        (1, {"checkpoint": "a\x00\n1\nAAAA\n", "cosignature": "— cep-witness AAAA"}, 422),
        (1, {"checkpoint": "a\n1\nAAAA\n", "cosignature": "— cep-witness AAAA\n"}, 422),
    ],
)
def test_a_malformed_cosignature_request_is_a_problem_and_keeps_nothing(
    lite: Site, cep: Person, size: int, body: dict[str, object] | None, status: int
) -> None:
    checkpoint = latest(lite)
    if body is None:
        body = {
            "checkpoint": checkpoint.body(),
            "cosignature": cosign(cep.private_key, cep.user_id, checkpoint, 1).line(),
        }
    response = lite.client.post(f"/v1/checkpoints/{size}/cosignatures", json=body)

    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert stored_cosignatures(lite.store.app.checkpoints.engine) == []


@pytest.mark.postgres
def test_postgresql_keeps_cosignatures_append_only(
    postgres_store: Store, person_in: PersonFactory
) -> None:
    site = Site(postgres_store)
    coordinator = person_in(postgres_store)
    assert site.submit(coordinator, "Screened", screening()).status_code == 201
    postgres_store.app.checkpoints.seal()
    witness = person_in(postgres_store, "sponsor-witness", role=Role.WITNESS, sites=())
    checkpoint = latest(site)
    line = cosign(witness.private_key, witness.user_id, checkpoint, int(time.time())).line()

    assert post(site, checkpoint.size, checkpoint, line).status_code == 201  # type: ignore[attr-defined]

    engine = postgres_store.app.checkpoints.engine
    assert [kept.witness for kept in stored_cosignatures(engine)] == ["sponsor-witness"]
    for statement in ("DELETE FROM cosignatures", "UPDATE cosignatures SET line = 'x'"):
        with pytest.raises(Exception, match="refused"), engine.begin() as connection:
            connection.execute(text(statement))
    assert len(stored_cosignatures(engine)) == 1


@pytest.mark.parametrize("size", [2**63, 2**64])
def test_a_cosignature_posted_at_a_size_past_64_bits_is_a_404_and_keeps_nothing(
    lite: Site, cep: Person, size: int
) -> None:
    """Found attacking the cosignature endpoint: a well-formed cosignature posted at a size past
    64 bits sent the size to the database, which overflowed (a 500)."""
    checkpoint = latest(lite)
    line = cosign(cep.private_key, cep.user_id, checkpoint, int(time.time())).line()

    refused(lite, post(lite, size, checkpoint, line), 404, "proof-not-available")
