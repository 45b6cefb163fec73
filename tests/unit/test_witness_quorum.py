"""The quorum of ``verify --witness``: witnesses, not keys, vouch (found attacking issue 20)."""

from __future__ import annotations

import pytest

from api.console.exits import UsageError
from api.console.witness_options import witness_policy
from signatures.checkpoint import Checkpoint
from signatures.cosignature import cosign, witness_key
from signatures.keys import generate_private_key
from signatures.witness_policy import Witnessed, check_quorum

ORIGIN = "sealtrail.example/quorum"
OLD = Checkpoint(ORIGIN, 10, bytes([1]) * 32)
LATEST = Checkpoint(ORIGIN, 12, bytes([2]) * 32)
SEALED_AT = 1_800_000_000


def test_one_witness_trusted_by_its_old_and_its_rotated_key_vouches_once() -> None:
    """An auditor trusts the CEP's witness by both keys it has held (before and after a
    rotation). Its cosignature of the older checkpoint by the old key and of the latest by the
    new one were two vouchers: a quorum of two met by one witness."""
    old_key, new_key = generate_private_key(), generate_private_key()
    witnessed = [
        Witnessed(
            witness_key("cep-witness", old_key),
            OLD,
            cosign(old_key, "cep-witness", OLD, SEALED_AT - 60),
        ),
        Witnessed(
            witness_key("cep-witness", new_key),
            LATEST,
            cosign(new_key, "cep-witness", LATEST, SEALED_AT),
        ),
    ]
    trusted = [witness_key("cep-witness", old_key), witness_key("cep-witness", new_key)]

    errors = check_quorum(LATEST, SEALED_AT, witnessed, trusted, quorum=2)

    (error,) = errors
    assert error.kind == "witness-quorum-not-met"
    assert "vouched for by 1 of the 2 witnesses required (cep-witness)" in str(error)


def test_two_witnesses_each_by_its_own_key_meet_a_quorum_of_two() -> None:
    cep, sponsor = generate_private_key(), generate_private_key()
    witnessed = [
        Witnessed(
            witness_key("cep-witness", cep), LATEST, cosign(cep, "cep-witness", LATEST, SEALED_AT)
        ),
        Witnessed(
            witness_key("sponsor", sponsor), OLD, cosign(sponsor, "sponsor", OLD, SEALED_AT - 60)
        ),
    ]
    trusted = [witness_key("cep-witness", cep), witness_key("sponsor", sponsor)]

    assert check_quorum(LATEST, SEALED_AT, witnessed, trusted, quorum=2) == []


def test_a_quorum_above_the_witnesses_named_is_a_usage_error_however_many_keys() -> None:
    cep = [witness_key("cep-witness", generate_private_key()).text() for _ in range(2)]

    with pytest.raises(UsageError, match="between 1 and the 1 witnesses given"):
        witness_policy(tuple(cep), 2, 3600)
    assert witness_policy(tuple(cep), 1, 3600) is not None
