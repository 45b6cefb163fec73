"""The bytes a checkpoint's time-stamp is over, pinned by docs/signing.md's vector: a request
for that signed note carries exactly that SHA-256 as its message imprint."""

from __future__ import annotations

import base64

from asn1crypto import tsp  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signatures.checkpoint import Checkpoint, parse_note, sign_checkpoint
from signatures.timestamps import STAMPED_EXTENSION, announces_stamp, timestamp_request

ORIGIN = "sealtrail.invalid/vector"
ROOT = "41smjBUiAU70EtKlT6lIOIYtRTYxYXsDB+XHfcvu/BE="
NOTE = (
    f"{ORIGIN}\n5\n{ROOT}\n\n— {ORIGIN} YNeDFUWu9XYmtOrZv+XMtBsHL6DSZKh53UHSnNYSMcE3RaRNZGQH9P"
    "QJT6Qq8hBZBmPgKkr10z6mpa9t/jestP4TnQk=\n"
)
IMPRINT = "d6e56437864686186d7b09825bf54e23cf9aae7a9d4b97be56c95a41c9887b53"
STAMPED_NOTE = (
    f"{ORIGIN}\n5\n{ROOT}\nrfc3161-timestamped\n\n— {ORIGIN} YNeDFY/blkDGkAXRsvTAwR71hq2rNtD+"
    "VCt3BLPieBYYJrtKJcUDuObuSR4wMwdcVyf/rf1didfF9lU9EL/EWEGlRgY=\n"
)
"""The same checkpoint sealed by a server that has it time-stamped: the extension line signed."""
STAMPED_IMPRINT = "93f5f4f06302942db0c4654f05a8b7b1d134a845cac396d9838f1c0f72fd46ff"


def test_the_vector_s_note_is_the_checkpoint_signed_with_the_documented_seed() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))

    assert sign_checkpoint(key, ORIGIN, Checkpoint(ORIGIN, 5, base64.b64decode(ROOT))) == NOTE


def test_a_request_for_the_vector_s_note_asks_for_its_sha_256_with_a_nonce_and_certificate() -> (
    None
):
    request_bytes, nonce = timestamp_request(NOTE)

    request = tsp.TimeStampReq.load(request_bytes)
    imprint = request["message_imprint"]
    assert imprint["hash_algorithm"]["algorithm"].dotted == "2.16.840.1.101.3.4.2.1"
    assert imprint["hashed_message"].native.hex() == IMPRINT
    assert request["nonce"].native == nonce
    assert request["cert_req"].native is True
    # A nonce per request: two requests for one note are told apart.
    assert timestamp_request(NOTE)[1] != nonce


def test_the_vector_of_a_checkpoint_to_be_stamped_carries_the_signed_extension_line() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    stamped = Checkpoint(ORIGIN, 5, base64.b64decode(ROOT), (STAMPED_EXTENSION,))

    assert sign_checkpoint(key, ORIGIN, stamped) == STAMPED_NOTE
    assert announces_stamp(parse_note(STAMPED_NOTE)[0])
    assert not announces_stamp(parse_note(NOTE)[0])
    request = tsp.TimeStampReq.load(timestamp_request(STAMPED_NOTE)[0])
    assert request["message_imprint"]["hashed_message"].native.hex() == STAMPED_IMPRINT
