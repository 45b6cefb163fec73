"""The one error hierarchy of verification, in the manner of sigstore-python.

A verification function returns None when what it checks holds and raises one of these
otherwise; callers never receive a bare bool.
"""

from __future__ import annotations

from typing import Any


class WordedError(Exception):
    """An error whose message is an English template and its parameters: ``str(error)`` is the
    English the API and the console say (``"%(subject)s is already enrolled"`` filled in), and a
    way in that speaks another language words the same template its own way, with the same
    parameters (the pages: api/web/wording.py). Raise it with a literal template:
    ``AlreadyEnrolled("%(subject)s is already enrolled", subject=code)``. A message without
    parameters is its own template, taken as it is (a ``%`` in it is no placeholder)."""

    def __init__(self, template: str = "", /, **parameters: Any) -> None:
        self.template = template
        self.parameters = parameters
        super().__init__(template % parameters if parameters else template)


class VerificationError(WordedError):
    """Base class: something that was supposed to hold does not."""

    kind = "verification-failed"


class CanonicalFormError(VerificationError):
    """The value cannot be put in RFC 8785 canonical form (floats, NaN, huge integers...)."""

    kind = "not-canonical"


class SignatureInvalid(VerificationError):
    """The Ed25519 signature does not verify over the signed bytes with the given key."""

    kind = "signature-invalid"


class UnknownKey(VerificationError):
    """No key with this id is registered for the signer."""

    kind = "unknown-key"


class KeyNotValid(VerificationError):
    """The key exists but was not valid at the signing time (not yet valid or revoked)."""

    kind = "key-not-valid"


class KeyRevokedRetroactively(KeyNotValid):
    """The key was valid when the event was recorded, but a later rotation or revocation,
    stated as retroactive, disowned it from an earlier instant (a key found compromised)."""

    kind = "key-revoked-retroactively"


class ChainBroken(VerificationError):
    """An event does not commit to the hash of the event before it in its subject's stream."""

    kind = "chain-broken"


class ContentMismatch(VerificationError):
    """What the store holds differs from what the author signed."""

    kind = "content-mismatch"


class InclusionProofInvalid(VerificationError):
    """An RFC 9162 inclusion proof does not lead from the leaf hash to the tree's root."""

    kind = "inclusion-proof-invalid"


class ConsistencyProofInvalid(VerificationError):
    """An RFC 9162 consistency proof does not show the older tree to be a prefix of the newer."""

    kind = "consistency-proof-invalid"


class CheckpointMalformed(VerificationError):
    """A signed note or its checkpoint body does not follow C2SP signed-note / tlog-checkpoint."""

    kind = "checkpoint-malformed"


class CheckpointSignatureInvalid(VerificationError):
    """No valid signature by the expected key, or a signature by that key fails to verify."""

    kind = "checkpoint-signature-invalid"


class SigningTimeInvalid(VerificationError):
    """The signature claims a signing time the store cannot have seen it made at: after the
    store recorded the event, before the signer's key took effect, or (on the way in) longer
    before the server's time than the signing window allows."""

    kind = "signing-time-invalid"


class MeaningInvalid(VerificationError):
    """A signature's meaning that its kind of event cannot have: review, approval and
    responsibility belong to a signature over records (the signing ceremony) alone."""

    kind = "meaning-invalid"


class SignatureNotLinked(VerificationError):
    """An electronic signature over records names records that are not those it was made over
    (21 CFR 11.70): moved to other records, or to another subject's stream."""

    kind = "signature-not-linked"


class EventReplayed(VerificationError):
    """A copy of a signed event: stored at another version of its stream than its author signed,
    or (for a body that signs no version) a signature already in the log at another event."""

    kind = "event-replayed"


class KeyFormatError(VerificationError):
    """A key file or encoded key is not an Ed25519 key we can read."""

    kind = "key-format"


class CosignatureForged(VerificationError):
    """A witness's cosignature (C2SP tlog-cosignature) does not verify with the witness's key
    over the checkpoint it is attached to: made by someone else, or over other bytes."""

    kind = "cosignature-forged"


class CosignatureOtherOrigin(VerificationError):
    """A cosignature over a checkpoint of another log (its origin line is not this log's)."""

    kind = "cosignature-other-origin"


class CosignatureOtherCheckpoint(VerificationError):
    """A cosignature over a checkpoint of this log that is not the one it is presented with
    (another size or root than the log's checkpoint of that size)."""

    kind = "cosignature-other-checkpoint"


class UnknownWitnessKey(VerificationError):
    """A cosignature by a key that is neither registered in the log as a witness's key nor
    among the witness keys the verifier trusts."""

    kind = "unknown-witness-key"


class CosignerNotAWitness(VerificationError):
    """A cosignature by a key registered on an account that did not hold the witness's role
    when it says it cosigned: a row the server would have refused, written by hand."""

    kind = "cosigner-not-a-witness"


class CosignatureStale(VerificationError):
    """A trusted witness's newest cosignature is of a checkpoint older than the latest by more
    than the allowed age: it vouches for a log the latest checkpoint has outgrown."""

    kind = "cosignature-stale"


class WitnessQuorumNotMet(VerificationError):
    """Fewer of the trusted witnesses than the quorum cosigned the checkpoint."""

    kind = "witness-quorum-not-met"


class TimestampMalformed(VerificationError):
    """A stored RFC 3161 answer that cannot be read as a granted time-stamp response."""

    kind = "timestamp-malformed"


class TimestampNotOverCheckpoint(VerificationError):
    """An RFC 3161 token whose message imprint is not the hash of this checkpoint's signed note."""

    kind = "timestamp-wrong-checkpoint"


class TimestampUntrusted(VerificationError):
    """An RFC 3161 token not signed by a time-stamping authority the verifier trusts."""

    kind = "timestamp-untrusted"


class TimestampOutsideCertificateValidity(VerificationError):
    """An RFC 3161 token whose time lies outside its signing certificate's validity period."""

    kind = "timestamp-outside-certificate-validity"


class TimestampFailureUnsigned(VerificationError):
    """A time-stamp failure kept for a checkpoint that says it is time-stamped, with no
    statement of the failure signed by the server's key: a row anyone with the database can
    write, in the place of a token taken away."""

    kind = "timestamp-failure-unsigned"


class TimestampFailureForged(VerificationError):
    """A statement of a time-stamp failure that is not a well-formed signed statement, or whose
    signature by the server's key does not verify over it."""

    kind = "timestamp-failure-forged"


class TimestampFailureMismatch(VerificationError):
    """A statement of a time-stamp failure, signed by the server, that is not of the row it is
    kept in: another log's, another checkpoint's, or another time or reason than the row says."""

    kind = "timestamp-failure-mismatch"
