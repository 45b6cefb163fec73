"""``sealtrail packet build``: the store's log and everything derived from it, in one signed zip.

1. The checkpoint: the latest, if it covers the whole log; else one is sealed now (the act of
   ``sealtrail checkpoint``). The packet holds exactly the events it covers.
2. The events are read in log order and their Merkle tree is rebuilt from them; its root must be
   the checkpoint's, or the store is not fit to be packed (``sealtrail verify`` says why).
3. Each event's line (as stored, as signed) and its inclusion proof; the server's key and the
   checkpoint's note; every derived file (:mod:`infrastructure.packets.contents`).
4. The manifest of every file's SHA-256, signed by the sponsor's key; the zip, reproducibly.

A site's own copy (``site``) keeps of the subjects only that site's, and of the people only those
who may act for it, and accounts for each event it leaves out by its leaf
(:mod:`infrastructure.packets.site_scope`); its manifest says which investigator had it built.

Nothing here writes to the log, so two builds with no event in between are byte-identical.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.utils import resolve_topic

from domain.account import SPONSOR_ACCOUNT, Account, account_stream
from domain.signed import SignedAggregate
from domain.subject import Subject
from domain.wire import recorded_instant
from infrastructure.bootstrap import Store
from infrastructure.documents.renderings import LogTie
from infrastructure.errors import PacketNotBuildable, PacketSignerInvalid
from infrastructure.identity.sponsor_key import load_sponsor_key
from infrastructure.packets import contents, evidence, site_scope
from infrastructure.packets.archive import (
    Manifest,
    ManifestSigner,
    PacketFile,
    SpooledFile,
    packet_file,
    write_zip,
)
from infrastructure.packets.signer import check_may_sign_packets
from infrastructure.packets.site_scope import SPONSOR, BuiltBy
from infrastructure.store.checkpoints import SealedCheckpoint
from infrastructure.store.cosignatures import stored_cosignatures
from infrastructure.store.timestamps import timestamp_of
from infrastructure.views.study_reports import served_study
from projections.odm import check_odm_schema
from signatures.authorship import sign_body
from signatures.checkpoint import parse_note
from signatures.errors import CheckpointMalformed
from signatures.keys import key_id, public_key_to_text
from signatures.merkle import InclusionProofs, InMemoryTree, leaf_hash
from signatures.stamp_failures import failure_record
from signatures.timestamps import STAMPING_TIMEOUT_SECONDS, StampAttempt, announces_stamp

PAGE = 500
STAMP_WAIT = timedelta(seconds=2 * STAMPING_TIMEOUT_SECONDS + 1)
"""How long after its sealing a checkpoint's attempt may still be under way: the authority's
timeout holds for connecting and again for reading its answer."""
STAMP_POLL_SECONDS = 0.1
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PacketSignatory:
    """Who signs the manifest: an account and the private half of one of its keys."""

    user_id: str
    private_key: Ed25519PrivateKey


def build_packet(
    store: Store,
    *,
    study: str | None = None,
    signatory: PacketSignatory | None = None,
    documents: bool = True,
    progress: Progress | None = None,
    site_copy: BuiltBy | None = None,
) -> bytes:
    """The packet of the store's log as it stands, signed by ``signatory`` (by default the
    sponsor's packet-signing key kept under ``SEALTRAIL_HOME``); with ``site_copy``, the copy
    of that site's subjects had built by that investigator (whose permission the caller
    checked).

    Raises:
        PacketNotBuildable: the log is empty, or its events do not give its checkpoint's root.
        PacketSignerInvalid: the signatory is not a sponsor (or, for a site copy, the site's
            investigator) with that key in force.
        UnknownStudy: the study is not served here.
    """
    note = progress or (lambda _: None)
    study_id = served_study(study)
    signatory = signatory or PacketSignatory(SPONSOR_ACCOUNT, load_sponsor_key(store.settings))
    site = None if site_copy is None else site_copy.site
    signer = _check_signatory(store, signatory, site)
    checkpoint = _covering_checkpoint(store)
    note("reading the log")
    log, files = _read_log(store, study_id, checkpoint, site)
    try:
        note("deriving datasets and reports")
        # Each derived file kept in files as it is written (a large one spooled to disk), so
        # that the finally below closes it whatever fails after it.
        contents.derive(log, partial(_kept, files), documents=documents, progress=note)
        # The events are not needed again, and the schema's check below holds the ODM file
        # parsed whole (about eight times its size): what they held is given back to it.
        origin = log.origin
        del log
        note("checking the ODM file against the ODM 1.3.2 schema")
        odm = files[contents.odm_path(study_id)]
        check_odm_schema(odm.read() if isinstance(odm, SpooledFile) else odm)
        del odm
        manifest = Manifest.of(
            files,
            study=study_id,
            origin=origin,
            tree_size=checkpoint.tree_size,
            root=base64.b64encode(checkpoint.root).decode("ascii"),
            sealed_at=recorded_instant(checkpoint.created_at),
            server_key_id=store.app.server_key.key_id,
            signer=signer,
            built_by=site_copy or BuiltBy(SPONSOR, signatory.user_id),
        )
        text, signature = sign_body(signatory.private_key, manifest.body())
        files[evidence.MANIFEST] = text.encode("utf-8")
        files[evidence.MANIFEST_SIGNATURE] = (signature + "\n").encode("ascii")
        return write_zip(files, checkpoint.created_at)
    finally:
        for content in files.values():
            if isinstance(content, SpooledFile):
                content.close()


def _kept(files: dict[str, PacketFile], path: str, written: contents.Written) -> None:
    """A derived file kept in ``files`` as it is written: a large one spooled to disk."""
    files[path] = packet_file(written())


def _check_signatory(store: Store, signatory: PacketSignatory, site: str | None) -> ManifestSigner:
    """The signatory's account must hold the key, in force now, and be the sponsor's (or, for
    a site copy, the site's investigator's)."""
    account = store.app.find_account(signatory.user_id)
    if account is None:
        raise PacketSignerInvalid("no account %(user_id)r", user_id=signatory.user_id)
    check_may_sign_packets(account, site)
    signing_key_id = key_id(signatory.private_key.public_key())
    key = account.keys.get(signing_key_id)
    if key is None:
        raise PacketSignerInvalid(
            "%(signing_key_id)s is not a key of %(user_id)s",
            signing_key_id=signing_key_id,
            user_id=account.user_id,
        )
    if not key.is_valid_at(datetime.now(UTC)):
        raise PacketSignerInvalid(
            "%(signing_key_id)s of %(user_id)s is not in force",
            signing_key_id=signing_key_id,
            user_id=account.user_id,
        )
    return ManifestSigner(account.user_id, account.printed_name, signing_key_id)


def _covering_checkpoint(store: Store) -> SealedCheckpoint:
    keeper = store.app.checkpoints
    last = store.app.recorder.max_notification_id()
    if not last:
        raise PacketNotBuildable("the log is empty: there is nothing to pack")
    latest = keeper.latest()
    if latest is not None and latest.tree_size >= keeper.leaf_index(last) + 1:
        return latest
    return keeper.seal()


def _notifications(
    store: Store, wanted: Callable[[str], bool] = lambda _: True
) -> Iterator[tuple[int, str, bytes, SignedAggregate.Event | None]]:
    """Every notification of the log, in order, a page at a time; its event decoded only if
    ``wanted`` (given its topic), else None."""
    start = 1
    while True:
        page = store.app.recorder.select_notifications(start, PAGE)
        for notification in page:
            if not wanted(notification.topic):
                yield notification.id, notification.topic, notification.state, None
                continue
            event = store.app.mapper.to_domain_event(notification)
            if not isinstance(event, SignedAggregate.Event):
                raise PacketNotBuildable(
                    "the event at position %(id)s is not signed: run sealtrail verify",
                    id=notification.id,
                )
            yield notification.id, notification.topic, notification.state, event
        if len(page) < PAGE:
            return
        start = page[-1].id + 1


def _signed(
    notifications: Iterator[tuple[int, str, bytes, SignedAggregate.Event | None]],
) -> Iterator[tuple[int, str, bytes, SignedAggregate.Event]]:
    for position, topic, state, event in notifications:
        assert event is not None  # every topic was wanted
        yield position, topic, state, event


def _judged_by_site(topic: str) -> bool:
    """Whether an event of this topic tells a site copy which streams it keeps: a subject's
    screening (its site) or any event of an account (which accounts there are, their sites)."""
    kind = resolve_topic(topic)
    return isinstance(kind, type) and issubclass(kind, Subject.Screened | Account.Event)


def _site_filter(store: Store, site: str | None, size: int) -> tuple[_SiteFilter, dict[int, bytes]]:
    """The filter of a site copy of ``site`` (of the whole log for the whole study's packet),
    and the digest of each event it was judged on as stored, by log position.

    Which people a site copy keeps depends on sites assigned after their accounts' opening,
    so the log is read twice: first for the screenings and accounts alone, decoding nothing
    else and holding nothing but those, then for the events themselves. Only the second
    reading is checked against the checkpoint (and its stored fields against their signed body
    by packet verify): the digests kept here let it check that the first read the same rows
    (:func:`_check_judged`)."""
    judged: dict[int, bytes] = {}
    if site is None:
        return _SiteFilter(None, ()), judged

    def screenings_and_accounts() -> Iterator[SignedAggregate.Event]:
        for position, topic, state, event in itertools.islice(
            _notifications(store, _judged_by_site), size
        ):
            if event is not None:
                judged[position] = _as_stored(topic, state)
                yield event

    return _SiteFilter(site, screenings_and_accounts()), judged


def _as_stored(topic: str, state: bytes) -> bytes:
    return hashlib.sha256(topic.encode("utf-8") + b"\0" + state).digest()


def _check_judged(
    judged: dict[int, bytes], position: int, event: SignedAggregate.Event, stored: bytes
) -> None:
    """A site copy's event that tells which streams it keeps must be the one its filter was
    judged on: else what the log said while the filter was made (another site assigned to an
    account, say) is not what the checkpoint covers, and the copy could keep what is not its
    site's."""
    was = judged.pop(position, None)
    if (was is not None or isinstance(event, Subject.Screened | Account.Event)) and was != stored:
        raise PacketNotBuildable(
            "the log changed while it was read, at position %(position)s: build the packet again",
            position=position,
        )


def _read_log(
    store: Store, study: str, checkpoint: SealedCheckpoint, site: str | None
) -> tuple[contents.PacketLog, dict[str, PacketFile]]:
    """The events the checkpoint covers, checked against it, and the evidence files (of a
    site copy: of the events it keeps, and the leaves of those it leaves out).

    The log is read a page at a time, and the evidence written to temporary files as it is
    read: what stays in memory is the Merkle tree (for the proofs) and the events the packet
    keeps (for the derived files), not the log (issue 21, point 4)."""
    size = checkpoint.tree_size
    kept, judged = _site_filter(store, site, size)
    tree = InMemoryTree()
    events: list[tuple[int, contents.LoggedEvent]] = []
    lines = SpooledFile()
    withheld = SpooledFile()
    for leaf_index, (position, topic, state, event) in enumerate(
        itertools.islice(_signed(_notifications(store)), size)
    ):
        tree.append_hash(leaf_hash(event.leaf_data(position)))
        if site is not None:
            _check_judged(judged, position, event, _as_stored(topic, state))
        if not kept(event):
            withheld.write_line(kept.withheld(leaf_index, position, event).line())
            continue
        events.append((leaf_index, (position, event)))
        lines.write_line(_event_line(leaf_index, position, topic, state, event))
    if tree.size != size or tree.root() != checkpoint.root:
        raise PacketNotBuildable(
            "the log's events do not give the root of its checkpoint of size "
            "%(size)s: run sealtrail verify",
            size=size,
        )
    proofs, paths = SpooledFile(), InclusionProofs(tree, size)
    for index, (position, _) in events:
        proofs.write_line(
            evidence.PacketProof(
                leaf_index=index,
                position=position,
                tree_size=size,
                leaf_hash=tree.node(0, index),
                proof=paths.of(index),
            ).line()
        )
    origin = store.app.checkpoints.origin
    server_key = public_key_to_text(store.app.server_key.public_key)
    log = contents.PacketLog(
        study=study,
        origin=origin,
        server_key=server_key,
        tie=LogTie(origin, size, checkpoint.root, checkpoint.note, checkpoint.created_at),
        events=[logged for _, logged in events],
        site=site,
    )
    files: dict[str, PacketFile] = {
        evidence.EVENTS: lines,
        evidence.PROOFS: proofs,
        evidence.CHECKPOINT: checkpoint.note.encode("utf-8"),
        evidence.SERVER_KEY: (server_key + "\n").encode("ascii"),
    }
    attempt = _stamp_attempt(store, checkpoint)
    if attempt is not None and attempt.response is not None:
        files[evidence.TIMESTAMP] = attempt.response
    elif attempt is not None:
        # The server's signed word that the authority failed travels in the token's place, so
        # that packet verify judges it as verify judges the row (a packet whose stamp did not
        # fail is unchanged by it).
        files[evidence.STAMP_FAILURE] = _jsonl([evidence.json_line(failure_record(attempt))])
    if site is not None:
        files[site_scope.WITHHELD] = withheld
    cosigned = [c for c in stored_cosignatures(store.app.checkpoints.engine) if c.tree_size <= size]
    if cosigned:
        # The witnesses' word travels with the log it vouches for; a packet built again after
        # another cosignature arrived differs by this file (and the manifest listing it).
        files[evidence.COSIGNATURES] = _jsonl(
            [
                evidence.json_line(
                    {
                        "tree_size": c.tree_size,
                        "witness": c.witness,
                        "checkpoint": c.checkpoint,
                        "cosignature": c.cosignature.line(),
                    }
                )
                for c in cosigned
            ]
        )
    return log, files


def _stamp_attempt(store: Store, checkpoint: SealedCheckpoint) -> StampAttempt | None:
    """The attempt to stamp the checkpoint. One whose note announces its stamp is asked of the
    authority right after it is kept, by the process that sealed it: a packet built meanwhile
    waits for that attempt (:data:`STAMP_WAIT` from the sealing) rather than go without, which
    packet verify would name (``timestamp-missing``)."""
    try:
        announced = announces_stamp(parse_note(checkpoint.note)[0])
    except CheckpointMalformed:  # not the server's note: packet verify names it
        announced = False
    while True:
        attempt = timestamp_of(store.engine, checkpoint.tree_size)
        if attempt is not None or not announced:
            return attempt
        if datetime.now(UTC) > checkpoint.created_at + STAMP_WAIT:
            return None
        time.sleep(STAMP_POLL_SECONDS)


def _event_line(
    leaf_index: int, position: int, topic: str, state: bytes, event: SignedAggregate.Event
) -> str:
    return evidence.PacketEvent(
        leaf_index=leaf_index,
        position=position,
        stream=event.stream,
        stream_id=event.originator_id.hex,
        version=event.originator_version,
        kind=event.kind(),
        topic=topic,
        recorded_at=recorded_instant(event.recorded_at),
        previous_hash=event.previous_hash,
        event_hash=event.event_hash,
        signed_body=event.authorship.signed_body,
        signature=event.authorship.signature,
        state=state.decode("utf-8"),
    ).line()


class _SiteFilter:
    """Which events a packet keeps: all of them, or for a site copy the site's subjects' (a
    subject's site is its screening's, the first event of its stream) and the streams of the
    people who may act for the site (:func:`site_scope.keeps_person`), judged on the whole
    log the copy covers, ``logged`` (its screenings and accounts suffice), since an account's
    sites come after its opening."""

    def __init__(self, site: str | None, logged: Iterable[SignedAggregate.Event]) -> None:
        self._site = site
        self._sites: dict[str, str] = {}
        self._sites_ever: dict[str, frozenset[str]] = {}
        for event in logged:
            if isinstance(event, Subject.Screened):
                self._sites[event.stream] = event.site
            elif isinstance(event, Account.Event):
                user_id = event.stream.removeprefix(account_stream(""))
                ever = self._sites_ever.get(user_id, frozenset())
                if isinstance(event, Account.SiteAssigned):
                    ever |= {event.site}
                self._sites_ever[user_id] = ever

    def __call__(self, event: SignedAggregate.Event) -> bool:
        if self._site is None:
            return True
        if isinstance(event, Subject.Event):
            return self._sites.get(event.stream) == self._site
        person = site_scope.person_of(event.stream)
        return person is None or site_scope.keeps_person(self._sites_ever, person, self._site)

    def withheld(
        self, leaf_index: int, position: int, event: SignedAggregate.Event
    ) -> site_scope.WithheldLeaf:
        site = event.site if isinstance(event, Subject.Screened) else None
        return site_scope.withheld_leaf(leaf_index, position, event, site)


def _jsonl(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")
