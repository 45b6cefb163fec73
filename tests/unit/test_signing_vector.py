"""A fixed key and a fixed event give a fixed signature and chain hash (docs/signing.md).

Anyone re-implementing the client or the verifier can check their code against these values.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signatures.authorship import sign_body, verify_signature
from signatures.canonical import canonicalize
from signatures.chain import GENESIS_HASH, event_hash
from signatures.keys import key_id, public_key_to_text

SEED = bytes(range(32))
PUBLIC_KEY = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
KEY_ID = "ed25519:56475aa75463474c0285df5dbf2bcab7"
BODY = {
    "study": "NCT01297972",
    "subject": "RP-101",
    "version": 1,
    "kind": "MscInfusionGiven",
    "data": {
        "infusion_number": 1,
        "dose": {"value": "2.7", "unit": "10^6 cells/kg"},
        "product_lot": "MSC-2011-014",
        "given_at": "2011-03-10T10:30:00Z",
    },
    "signer": {"user_id": "coord1", "printed_name": "Ana Souza"},
    "key_id": KEY_ID,
    "signed_at": "2011-03-10T10:35:00Z",
    "meaning": "authorship",
}
CANONICAL = (
    '{"data":{"dose":{"unit":"10^6 cells/kg","value":"2.7"},"given_at":"2011-03-10T10:30:00Z",'
    '"infusion_number":1,"product_lot":"MSC-2011-014"},'
    '"key_id":"ed25519:56475aa75463474c0285df5dbf2bcab7","kind":"MscInfusionGiven",'
    '"meaning":"authorship","signed_at":"2011-03-10T10:35:00Z",'
    '"signer":{"printed_name":"Ana Souza","user_id":"coord1"},'
    '"study":"NCT01297972","subject":"RP-101","version":1}'
)
SIGNATURE = (
    "Ec57KY/6P4DVguhwzaLmOz/GuqOwjusUENFW7Q7toi/s+FbU9W8Yuxqn05oOv83gjc7AXT0112R1Wty4mpAEAQ=="
)
GENESIS = "4e19a3421065723d5e334b9aadabe68d8f37438e8d9ee742d8b5b321528d3c71"
FIRST_EVENT_HASH = "11e8eae00058402452f93c2aeba702e45b042cbea77e5840559e1f4417d9e3e0"


@pytest.mark.requirement("P11-11.30-1")
def test_the_fixed_key_has_the_documented_public_key_and_id() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)

    assert public_key_to_text(key.public_key()) == PUBLIC_KEY
    assert key_id(key.public_key()) == KEY_ID


@pytest.mark.requirement("P11-11.30-1")
def test_the_fixed_body_has_the_documented_canonical_form_and_signature() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)

    signed_body, signature = sign_body(key, BODY)

    assert signed_body == CANONICAL
    assert signature == SIGNATURE
    verify_signature(key.public_key(), CANONICAL.encode(), SIGNATURE)


def test_the_chain_hash_follows_the_documented_layout() -> None:
    by_hand = hashlib.sha256(
        b"sealtrail/chain/v1\x00"
        + bytes.fromhex(GENESIS)
        + len(CANONICAL.encode()).to_bytes(8, "big")
        + CANONICAL.encode()
        + base64.b64decode(SIGNATURE)
    ).hexdigest()

    assert hashlib.sha256(b"sealtrail/chain/v1/genesis").hexdigest() == GENESIS == GENESIS_HASH
    assert event_hash(GENESIS, CANONICAL.encode(), SIGNATURE) == by_hand == FIRST_EVENT_HASH


def test_canonical_form_does_not_depend_on_key_order() -> None:
    reordered = dict(reversed(list(BODY.items())))

    assert canonicalize(reordered).decode() == CANONICAL
