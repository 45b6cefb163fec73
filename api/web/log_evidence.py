"""What the /verify page shows and its script checks in the browser: the API's proof reads.

The latest signed checkpoint, a consistency proof between two sizes and an event's inclusion
proof hold no record's content: every role in force reads them (as ``/v1/checkpoints/...`` and
``/v1/events/<n>/proof``), and nothing is recorded. An event's content (its leaf's fields and
what its author signed, from which the browser computes the leaf itself) is given only to a
person who may read the event, as its history would be (a subject's records to those who read
the subject; the accounts' events and the store's logs to administrators and auditors), and is
recorded as a copy handed out; anyone else gets the leaf hash the server names.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import g

from api.store import get_store
from api.web.wording import worded
from domain.account import SYSTEM_USER
from domain.attribution import signer_of
from domain.disclosure import ACCOUNT_HISTORY, HISTORY, Scope
from domain.errors import NotPermitted, SubjectNotFound
from domain.permissions import check_may_read_accounts, check_may_read_log_evidence
from domain.permissions import readable_subject as readable_subject_of
from domain.signed import SignedAggregate
from domain.subject import Subject
from domain.wire import recorded_instant
from infrastructure.errors import ProofNotAvailable
from infrastructure.store.checkpoints import encode_hash
from infrastructure.views.study_reports import served_study
from signatures.checkpoint import parse_note, verify_checkpoint
from signatures.errors import VerificationError
from signatures.keys import public_key_to_text
from signatures.merkle import verify_consistency

Copy = tuple[str, Scope]
"""What a copy handed out is called in the disclosure log, and its scope."""


class CheckpointOfAnotherLog(VerificationError):
    """A checkpoint whose origin is not this log's."""

    kind = "checkpoint-of-another-log"


class LogTruncated(VerificationError):
    """A checkpoint of more events than the latest checkpoint holds."""

    kind = "log-truncated"


def latest_checkpoint() -> dict[str, Any] | None:
    """The newest signed checkpoint, when it was sealed (a datetime) and the key the server says
    signs it; None before the first is sealed."""
    check_may_read_log_evidence(g.account)
    app = get_store().app
    latest = app.checkpoints.latest()
    if latest is None:
        return None
    return {
        "origin": app.checkpoints.origin,
        "tree_size": latest.tree_size,
        "root": encode_hash(latest.root),
        "note": latest.note,
        "sealed_at": latest.created_at,
        "key_id": app.server_key.key_id,
        "public_key": public_key_to_text(app.server_key.public_key),
    }


def consistency(old_size: int, new_size: int) -> dict[str, Any]:
    """The RFC 6962 consistency proof between two tree sizes, hashes in base64.

    Raises:
        ProofNotAvailable: the sizes are not 0 <= from <= to <= the log's size.
    """
    check_may_read_log_evidence(g.account)
    proof = get_store().app.checkpoints.consistency(old_size, new_size)
    return {"from": old_size, "to": new_size, "proof": [encode_hash(h) for h in proof]}


def event_evidence(position: int, tree_size: int | None) -> tuple[dict[str, Any], Copy | None]:
    """The inclusion proof of the event at ``position`` in the tree of ``tree_size`` leaves (the
    log's size if None), with the event itself (``event``) for a person who may read it, and
    then the copy that answer is; ``event`` None and no copy otherwise.

    Raises:
        ProofNotAvailable: no such event, or the tree was never that size.
    """
    check_may_read_log_evidence(g.account)
    store = get_store()
    proof = store.app.checkpoints.inclusion(position, tree_size)
    evidence: dict[str, Any] = {
        "position": proof.position,
        "leaf_index": proof.leaf_index,
        "tree_size": proof.tree_size,
        "leaf_hash": encode_hash(proof.leaf_hash),
        "proof": [encode_hash(h) for h in proof.proof],
        "event": None,
    }
    event = store.reads.event_at(position).event
    copy = copy_of(event)
    if copy is not None:
        evidence["event"] = event_content(event)
    return evidence, copy


def copy_of(event: SignedAggregate.Event) -> Copy | None:
    """The copy an answer holding ``event`` is, if the signed-in person may read the event;
    None, saying nothing of the event, if not."""
    try:
        if isinstance(event, Subject.Event):
            subject = readable_subject_of(
                g.account, event.stream, get_store().app.find_subject, lambda found: found.site
            )
            return HISTORY, Scope(subject.study_id, subject=subject.subject_code)
        # An account's events, and the authentication and disclosure logs: personnel data.
        check_may_read_accounts(g.account)
        return ACCOUNT_HISTORY, Scope(served_study(None))
    except (NotPermitted, SubjectNotFound):
        return None


def event_content(event: SignedAggregate.Event) -> dict[str, Any]:
    """An event's leaf fields (signatures/log_leaf.py), the bytes its author signed with the
    signature, its chain link, and the public key registered under the key id it names."""
    signer = signer_of(event.authorship.body())
    return {
        "kind": event.kind(),
        "stream_id": event.originator_id.hex,
        "version": event.originator_version,
        "recorded_at": recorded_instant(event.recorded_at),
        "event_hash": event.event_hash,
        "previous_hash": event.previous_hash,
        "signed_body": event.authorship.signed_body,
        "signature": event.authorship.signature,
        "signer": {
            "user_id": signer.user_id,
            "printed_name": signer.printed_name,
            "key_id": signer.key_id,
            "signed_at": signer.signed_at,
            "meaning": signer.meaning,
        },
        "public_key": _registered_key(signer.user_id, signer.key_id),
    }


def _registered_key(user_id: str, key_id: str) -> str | None:
    """The public key the author's account registered under ``key_id`` (the server's own for
    what the server signs); None if there is none, which the browser then names."""
    app = get_store().app
    if user_id == SYSTEM_USER:
        server_key = app.server_key
        return public_key_to_text(server_key.public_key) if server_key.key_id == key_id else None
    account = app.find_account(user_id)
    key = None if account is None else account.keys.get(key_id)
    return None if key is None else key.public_key


def kept_checkpoint(note: str) -> dict[str, Any]:
    """What the server says of a checkpoint a person kept (shown, marked as not checked in the
    browser, to a browser without JavaScript): the checkpoint as read, the consistency proof
    from it to the latest checkpoint, and the first finding, if any, as the browser names it.

    Raises:
        CheckpointMalformed: the text is not a signed checkpoint.
        ProofNotAvailable: no checkpoint has been sealed yet.
    """
    claimed, _ = parse_note(note)
    latest = latest_checkpoint()
    if latest is None:
        raise ProofNotAvailable("no checkpoint has been sealed yet")
    said: dict[str, Any] = {
        "origin": claimed.origin,
        "tree_size": claimed.size,
        "root": encode_hash(claimed.root),
        "latest": latest,
        "proof": [],
        "finding": None,
    }
    app = get_store().app
    size, origin = latest["tree_size"], latest["origin"]
    try:
        if claimed.origin != origin:
            raise CheckpointOfAnotherLog(
                "this checkpoint is of another log (%(origin)s), not of this one (%(origin2)s)",
                origin=claimed.origin,
                origin2=origin,
            )
        verify_checkpoint(note, origin, app.server_key.public_key)
        if claimed.size > size:
            raise LogTruncated(
                "your checkpoint has %(size)s events, the latest checkpoint only "
                "%(size2)s: the log was cut short, or the server did not give its "
                "latest checkpoint",
                size=claimed.size,
                size2=size,
            )
        proof = app.checkpoints.consistency(claimed.size, size)
        said["proof"] = [encode_hash(h) for h in proof]
        latest_root = base64.b64decode(latest["root"])
        verify_consistency(claimed.size, size, claimed.root, latest_root, proof)
    except VerificationError as error:
        said["finding"] = {"kind": error.kind, "message": worded(error)}
    return said
