"""``sealtrail packet verify``: check a submission packet with nothing but the packet.

No database and no server: everything is read from the zip, and everything derived is derived
again here by the very functions that built it. In order:

1. the zip (each entry readable, no name twice or outside the folder);
2. the manifest: every listed file present with its SHA-256 and size, no file unlisted;
3. the checkpoint: its signed note verifies with the packet's server key under the manifest's
   origin, and says the size and root the manifest says;
4. every event: its line agrees with its stored state; it is what its author signed, with the
   key valid when the store recorded it (:func:`domain.attribution.attribute`, the check the
   store ran on the way in); its signer was authorised to sign it, as the packet's own account
   events say their account stood then (:class:`domain.authority.AuthorityLedger`); each
   subject's versions are in sequence and each event commits to the one before; its leaf, as
   recomputed, is proved by its inclusion proof to be leaf ``leaf_index`` of the checkpoint's
   tree; leaves run 0 .. size-1 with none missing;
5. every derived file (datasets, ODM, audit trail, CONEP reports, keys) equals what the events
   give, byte for byte;
6. the manifest's signature, by the sponsor's key as the packet's own account events register
   it;
7. of a site's own copy, its scope (:mod:`infrastructure.packets.site_scope`): the leaves it
   withholds and the events it holds rebuild the checkpoint's root, every subject it holds is
   the site's and every one it withholds is stated to be another site's, no stream or person
   is held in part, and it is built by the site's investigator.

Every problem is a :class:`PacketFinding` naming the file and, for an event, its log position,
subject and version; nothing stops at the first.

Memory grows with the log, not with what the zip unpacks to. The zip is read an entry at a time
(:class:`~infrastructure.packets.archive.PacketZip`): each file's SHA-256 and size as it
inflates, a MiB at a time; then a file is read again only where it is checked: the event lines
and the inclusion proofs a line at a time, and a derived file whose digest is not that of what
the events give, a line at a time to name where it first differs. Held whole are:

- the zip's own bytes (the caller's);
- the manifest, its signature, the server key and the checkpoint, one at a time: each is
  checked as a whole (the manifest is one JSON document, and its exact bytes are what is
  signed), and a packet's are small;
- the events decoded (each line, once compared with its event, kept only as where it stands)
  and the proofs read: every derived file is computed from all the events, and an event's
  proof is found by its leaf;
- the audit trail's rows, made once for its CSV and its JSON (whose head counts them).

The derived files are not held: ``contents.derive`` hands each over as it is written (the ODM
and the audit trail a chunk at a time) and its digest is compared with the packet's; only one
that differs is written again whole, to name the line where it first differs. So a file the
events do not give costs a chunk however large it is, and the decoded events are most of the
peak (docs/benchmarks-packet.md: 718 MiB for 100,010 events).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from cryptography import x509

from domain.account import Account, RegisteredKey, server_anchor
from domain.attribution import attribute
from domain.authority import AuthorityLedger
from domain.errors import KeyCustodyViolated, SignerNotAuthorised
from domain.permissions import check_logged_key_custody
from domain.signed import SignedAggregate
from domain.wire import RECORDED_FORMAT, recorded_instant
from infrastructure.documents.renderings import LogTie
from infrastructure.errors import PacketMalformed, PacketSignerInvalid
from infrastructure.packets import contents, site_scope
from infrastructure.packets.archive import (
    Digest,
    Manifest,
    ManifestSigner,
    PacketZip,
    sha256,
)
from infrastructure.packets.evidence import (
    CHECKPOINT,
    COSIGNATURES,
    EVENTS,
    MANIFEST,
    MANIFEST_SIGNATURE,
    PROOFS,
    SERVER_KEY,
    STAMP_FAILURE,
    TIMESTAMP,
    PacketEvent,
    PacketProof,
)
from infrastructure.packets.signer import check_may_sign_packets
from infrastructure.packets.site_scope import WITHHELD, BuiltBy, WithheldLeaf, check_scope
from infrastructure.store.transcodings import domain_mapper
from infrastructure.verification import log_checks
from infrastructure.verification.log_checks import EventFacts
from infrastructure.verification.time_checks import check_recording_times, check_timestamps
from infrastructure.verification.witness_checks import WitnessPolicy, check_kept_cosignature
from projections.odm import odm_document
from projections.odm.admin import EARLIER_LEGAL_REASONS
from signatures.authorship import verify_signature
from signatures.checkpoint import Checkpoint, verify_checkpoint
from signatures.errors import (
    TimestampFailureForged,
    TimestampFailureMismatch,
    TimestampFailureUnsigned,
    VerificationError,
)
from signatures.keys import key_id, public_key_from_text
from signatures.merkle import InMemoryTree, leaf_hash, root, verify_inclusion
from signatures.stamp_failures import failure_of_record
from signatures.timestamps import STAMPED_EXTENSION, StampAttempt
from signatures.verifier_keys import NOTE_SIGNATURE, VerifierKey
from signatures.witness_policy import Witnessed, check_quorum

EVIDENCE = frozenset({EVENTS, PROOFS, CHECKPOINT, SERVER_KEY, COSIGNATURES})
OPTIONAL_EVIDENCE = frozenset({TIMESTAMP, STAMP_FAILURE})
"""Evidence a packet carries when the store has it: the checkpoint's time-stamp, or the failure
kept in its place."""
STAMP_FAILURE_KINDS = frozenset(
    error.kind
    for error in (TimestampFailureUnsigned, TimestampFailureForged, TimestampFailureMismatch)
)
"""The findings about a failure carried in the token's place: they name its file."""
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PacketFinding:
    """One thing in a packet that does not hold: which file, which event, what."""

    kind: str
    file: str | None
    detail: str
    position: int | None = None
    stream: str | None = None
    version: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The finding as JSON."""
        return asdict(self)

    def __str__(self) -> str:
        where = [self.file or "packet"]
        if self.position is not None:
            where.append(f"position {self.position}")
        if self.stream is not None:
            where.append(f"{self.stream} version {self.version}")
        return f"{': '.join(where)}: {self.kind}: {self.detail}"


@dataclass
class PacketReport:
    """What was checked and what was found."""

    study: str | None = None
    site: str | None = None
    tree_size: int | None = None
    root: str | None = None
    server_key_id: str | None = None
    signer: ManifestSigner | None = None
    files: int = 0
    events: int = 0
    documents_redrawn: bool = False
    documents_in_packet: bool = False
    findings: list[PacketFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What was not checked, and why: not findings."""

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "ok": self.ok,
            "study": self.study,
            "site": self.site,
            "tree_size": self.tree_size,
            "root": self.root,
            "server_key_id": self.server_key_id,
            "signer": None if self.signer is None else asdict(self.signer),
            "files": self.files,
            "events": self.events,
            "documents_redrawn": self.documents_redrawn,
            "documents_in_packet": self.documents_in_packet,
            "findings": [finding.as_dict() for finding in self.findings],
            "notes": self.notes,
        }


def verify_packet(
    data: bytes,
    *,
    redraw_documents: bool = True,
    trusted_server_key: str | None = None,
    trusted_authorities: Sequence[x509.Certificate] | None = None,
    progress: Progress | None = None,
    witnesses: WitnessPolicy | None = None,
) -> PacketReport:
    """Check a packet's bytes; see the module docstring for what is checked.

    Args:
        data: the zip.
        redraw_documents: draw the PDFs again and compare them too (the slow part); without,
            they are checked by their manifest digest only.
        trusted_server_key: the log's server key as the reader knows it from elsewhere (its
            ``ed25519:...`` key id or public key text); the packet's own must be it.
        trusted_authorities: the certificates the checkpoint's time-stamp must chain to (the
            reader's ``SEALTRAIL_TSA_CERTS``); None: a time-stamp is not checked (a note says so).
        progress: told what is being checked, for a terminal.
        witnesses: the witnesses the reader trusts and how many must vouch for the packet's
            checkpoint (docs/witnesses.md); every cosignature the packet carries is checked
            whether or not this is given.
    """
    note = progress or (lambda _: None)
    report = PacketReport()
    try:
        packet = PacketZip(data)
    except PacketMalformed as error:
        report.findings.append(PacketFinding("packet-unreadable", None, str(error)))
        return report
    with packet:
        report.files = len(packet.files) + len(packet.unreadable)
        report.findings += [
            PacketFinding("file-unreadable", name, f"the zip entry cannot be read: {why}")
            for name, why in sorted(packet.unreadable.items())
        ]
        note("manifest")
        manifest = _manifest(packet, report)
        anchor = _server_key(packet, manifest, trusted_server_key, report)
        checkpoint = _checkpoint(packet, manifest, anchor, report)
        withheld = _withheld(packet, manifest, report)
        note("events")
        checked = _EventCheck(packet, anchor, checkpoint, report, withheld).run()
        report.events = len(checked.events)
        if manifest is not None and checkpoint is not None:
            note("witnesses")
            _check_witnesses(packet, manifest, checkpoint[0], checked, witnesses, report)
        if checkpoint is not None and anchor is not None:
            _check_timestamp(
                packet, checkpoint, anchor, checked.events, trusted_authorities, report
            )
        if manifest is not None and anchor is not None and checkpoint is not None:
            note("derived files")
            log = _check_derived(
                packet, manifest, anchor, checkpoint, checked.events, redraw_documents, report, note
            )
            _check_manifest_signature(packet, manifest, checked.accounts, report)
            if log is not None and manifest.built_by is not None and withheld is not None:
                _check_scope(log, manifest.built_by, withheld, checked.accounts, report)
    return report


def _withheld(
    packet: PacketZip, manifest: Manifest | None, report: PacketReport
) -> list[WithheldLeaf] | None:
    """A site copy's withheld leaves (None for a study's packet, which withholds none)."""
    if manifest is None or manifest.site is None:
        return None
    report.site = manifest.site
    if WITHHELD not in packet.files:
        report.findings.append(PacketFinding("file-missing", WITHHELD, "the packet has none"))
        return []
    leaves: list[WithheldLeaf] = []
    for number, text in enumerate(_text_lines(packet, WITHHELD), start=1):
        try:
            leaves.append(WithheldLeaf.from_line(text, number))
        except PacketMalformed as error:
            report.findings.append(PacketFinding("line-malformed", WITHHELD, str(error)))
    return leaves


def _check_scope(
    log: contents.PacketLog,
    built_by: BuiltBy,
    withheld: list[WithheldLeaf],
    accounts: Mapping[str, Account],
    report: PacketReport,
) -> None:
    try:
        subjects = {f"{log.study}/{code}": s for code, s in log.subjects().items()}
    except Exception:  # the check of the derived files named it ("derived-unbuildable")
        return

    def find(kind: str, detail: str, position: int | None, stream: str | None) -> None:
        report.findings.append(
            PacketFinding(kind, WITHHELD, detail, position=position, stream=stream)
        )

    held = {event.stream for _, event in log.events}
    check_scope(log.study, built_by, withheld, subjects, held, accounts, find)


# -- manifest, server key, checkpoint -------------------------------------------------------------


def _manifest(packet: PacketZip, report: PacketReport) -> Manifest | None:
    if MANIFEST not in packet.files:
        report.findings.append(PacketFinding("manifest-missing", MANIFEST, "the packet has none"))
        return None
    try:
        manifest = Manifest.parse(packet.read(MANIFEST))
    except PacketMalformed as error:
        report.findings.append(PacketFinding("manifest-malformed", MANIFEST, str(error)))
        return None
    report.study, report.signer = manifest.study, manifest.signer
    report.tree_size, report.root = manifest.tree_size, manifest.root
    report.server_key_id = manifest.server_key_id
    for path in sorted(manifest.files):
        found = packet.files.get(path)
        if found is None:
            report.findings.append(
                PacketFinding("file-missing", path, "listed in the manifest, not in the packet")
            )
        elif found.sha256 != manifest.files[path] or found.size != manifest.sizes[path]:
            report.findings.append(
                PacketFinding(
                    "file-altered",
                    path,
                    f"its SHA-256 is {found.sha256}, the manifest says {manifest.files[path]}",
                )
            )
    for path in sorted(set(packet.files) - set(manifest.files) - {MANIFEST, MANIFEST_SIGNATURE}):
        report.findings.append(
            PacketFinding("file-unlisted", path, "in the packet, not in the manifest")
        )
    return manifest


def _server_key(
    packet: PacketZip,
    manifest: Manifest | None,
    trusted: str | None,
    report: PacketReport,
) -> RegisteredKey | None:
    try:
        text = packet.read(SERVER_KEY).decode("ascii").strip()
        anchor = server_anchor(text)
    except KeyError:
        report.findings.append(PacketFinding("file-missing", SERVER_KEY, "the packet has none"))
        return None
    except (UnicodeDecodeError, VerificationError) as error:
        report.findings.append(PacketFinding("server-key-invalid", SERVER_KEY, str(error)))
        return None
    if manifest is not None and anchor.key_id != manifest.server_key_id:
        report.findings.append(
            PacketFinding(
                "server-key-mismatch",
                SERVER_KEY,
                f"the key is {anchor.key_id}, the manifest names {manifest.server_key_id}",
            )
        )
    if trusted is not None and trusted.strip() not in (anchor.key_id, anchor.public_key):
        report.findings.append(
            PacketFinding(
                "server-key-untrusted",
                SERVER_KEY,
                f"the packet's log is signed by {anchor.key_id}, not by the key you trust",
            )
        )
    return anchor


def _checkpoint(
    packet: PacketZip,
    manifest: Manifest | None,
    anchor: RegisteredKey | None,
    report: PacketReport,
) -> tuple[Checkpoint, str] | None:
    if CHECKPOINT not in packet.files:
        report.findings.append(PacketFinding("file-missing", CHECKPOINT, "the packet has none"))
        return None
    if manifest is None or anchor is None:
        return None
    note = packet.read(CHECKPOINT)
    try:
        checkpoint = verify_checkpoint(
            note, manifest.origin, public_key_from_text(anchor.public_key)
        )
    except VerificationError as error:
        report.findings.append(PacketFinding("checkpoint-invalid", CHECKPOINT, str(error)))
        return None
    root = base64.b64encode(checkpoint.root).decode("ascii")
    if (checkpoint.size, root) != (manifest.tree_size, manifest.root):
        report.findings.append(
            PacketFinding(
                "checkpoint-mismatch",
                CHECKPOINT,
                f"the note signs size {checkpoint.size}, root {root}; the manifest says size "
                f"{manifest.tree_size}, root {manifest.root}",
            )
        )
    return checkpoint, note.decode("utf-8")


# -- the witnesses -------------------------------------------------------------------------------


def _check_witnesses(
    packet: PacketZip,
    manifest: Manifest,
    checkpoint: Checkpoint,
    checked: _CheckedEvents,
    policy: WitnessPolicy | None,
    report: PacketReport,
) -> None:
    """Each cosignature the packet carries, as ``verify`` checks the store's, against the
    checkpoint of its size rebuilt from the packet's leaves; then the reader's quorum."""
    tree = InMemoryTree()
    for _, hashed in checked.leaves:
        tree.append_hash(hashed)

    def log_checkpoint(size: int, cosigned_text: str) -> Checkpoint | None:
        """The log's checkpoint of ``size``: an earlier one's note is not in the packet, so it
        is rebuilt from the leaves, with the one extension line the store signs
        (STAMPED_EXTENSION) when the text cosigned carries it."""
        if size == checkpoint.size:
            return checkpoint
        if not 0 < size < checkpoint.size or tree.size != checkpoint.size:
            return None
        stamped = f"\n{STAMPED_EXTENSION}\n" in cosigned_text
        extensions = (STAMPED_EXTENSION,) if stamped else ()
        return Checkpoint(checkpoint.origin, size, root(tree, size), extensions)

    witnessed: list[Witnessed] = []
    lines = _text_lines(packet, COSIGNATURES) if COSIGNATURES in packet.files else iter(())
    for number, text in enumerate(lines, start=1):
        try:
            kept = json.loads(text)
            size, witness = int(kept["tree_size"]), str(kept["witness"])
            found = check_kept_cosignature(
                witness,
                str(kept["cosignature"]),
                str(kept["checkpoint"]),
                log_checkpoint(size, str(kept["checkpoint"])),
                checkpoint.origin,
                checked.accounts,
                checked.ledger,
            )
        except (ValueError, KeyError, TypeError) as error:
            report.findings.append(
                PacketFinding("line-malformed", COSIGNATURES, f"line {number}: {error!r}")
            )
            continue
        except VerificationError as error:
            report.findings.append(
                PacketFinding(error.kind, COSIGNATURES, f"line {number}: {error}")
            )
            continue
        witnessed.append(found)
    if policy is None or not policy.trusted:
        return
    try:
        sealed = datetime.strptime(manifest.sealed_at, RECORDED_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        report.findings.append(
            PacketFinding("manifest-malformed", MANIFEST, f"sealed_at {manifest.sealed_at!r}")
        )
        return
    sealed_at = int(sealed.timestamp())
    for failed in check_quorum(
        checkpoint, sealed_at, witnessed, policy.trusted, policy.quorum, policy.max_age
    ):
        report.findings.append(PacketFinding(failed.kind, COSIGNATURES, str(failed)))


def _check_timestamp(
    packet: PacketZip,
    checkpoint: tuple[Checkpoint, str],
    anchor: RegisteredKey,
    events: Sequence[contents.LoggedEvent],
    trusted: Sequence[x509.Certificate] | None,
    report: PacketReport,
) -> None:
    """The checkpoint's time-stamp, or the failure carried in its place, judged as ``verify``
    judges the store's (:func:`check_timestamps`), offline; and every event recorded before
    the token's time."""
    tied, note = checkpoint
    attempts = {}
    if TIMESTAMP in packet.files:
        token = packet.read(TIMESTAMP)
        attempts[tied.size] = StampAttempt(tied.size, datetime.now(UTC), token, None)
    if STAMP_FAILURE in packet.files:
        failed = _stamp_failure(packet, tied.size, report)
        if failed is not None and tied.size in attempts:
            report.findings.append(
                PacketFinding(
                    "file-unexpected",
                    STAMP_FAILURE,
                    f"the packet carries the token of its checkpoint too ({TIMESTAMP}): a "
                    "checkpoint is stamped once, so the store keeps a token or a failure",
                )
            )
        elif failed is not None:
            attempts[tied.size] = failed
    log_key = VerifierKey(tied.origin, NOTE_SIGNATURE, public_key_from_text(anchor.public_key))
    time = check_timestamps(
        {tied.size: note}, attempts, trusted, where="the packet's checkpoint", log_key=log_key
    )
    report.notes += time.notes
    report.findings += [
        PacketFinding(
            finding.kind,
            STAMP_FAILURE if finding.kind in STAMP_FAILURE_KINDS else TIMESTAMP,
            finding.detail,
        )
        for finding in time.findings
    ]
    facts = [
        EventFacts(
            position,
            event.originator_id,
            event.originator_version,
            event.stream,
            recorded_at=event.recorded_at,
            kind=event.kind(),
        )
        for position, event in events
    ]
    report.findings += on_events(check_recording_times(facts, time.stamped), facts)


def _stamp_failure(packet: PacketZip, size: int, report: PacketReport) -> StampAttempt | None:
    """The failure the packet carries for its checkpoint of ``size``, as the store's row."""
    lines = list(_text_lines(packet, STAMP_FAILURE))
    try:
        if len(lines) != 1:
            raise ValueError(f"{len(lines)} lines, not one")
        return failure_of_record(json.loads(lines[0]), size)
    except ValueError as error:  # not one line, not JSON, not a failure's fields
        report.findings.append(PacketFinding("line-malformed", STAMP_FAILURE, str(error)))
        return None


def on_events(findings: list[log_checks.Finding], facts: list[EventFacts]) -> list[PacketFinding]:
    """Findings about events, as the packet's: in ``log/events.jsonl``, streams by name."""
    return [
        PacketFinding(
            finding.kind,
            EVENTS,
            finding.detail,
            position=finding.position,
            stream=finding.stream,
            version=finding.version,
        )
        for finding in log_checks.named(findings, facts)
    ]


# -- the events ----------------------------------------------------------------------------------


@dataclass
class _CheckedEvents:
    events: list[contents.LoggedEvent]
    accounts: dict[str, Account]
    leaves: list[tuple[int, bytes]]
    """(leaf index, leaf hash) of every leaf the packet gives: its events' and withheld ones."""
    ledger: AuthorityLedger
    """Each account as each of its events left it: whose role was whose when."""


class _EventCheck:
    """Every event line: decoded, attributed, chained, and proved into the checkpoint."""

    def __init__(
        self,
        packet: PacketZip,
        anchor: RegisteredKey | None,
        checkpoint: tuple[Checkpoint, str] | None,
        report: PacketReport,
        withheld: list[WithheldLeaf] | None = None,
    ) -> None:
        self._packet = packet
        self._anchor = anchor
        self._checkpoint = checkpoint[0] if checkpoint else None
        self._report = report
        self._withheld = withheld
        self._leaves: list[tuple[int, bytes]] = []  # (leaf index, leaf hash) of each event
        self._ledger = AuthorityLedger()

    def _find(self, kind: str, detail: str, line: PacketEvent | _Placed | None = None) -> None:
        self._report.findings.append(
            PacketFinding(
                kind,
                EVENTS,
                detail,
                position=None if line is None else line.position,
                stream=None if line is None else line.stream,
                version=None if line is None else line.version,
            )
        )

    def run(self) -> _CheckedEvents:
        mapper = domain_mapper()
        start = len(self._report.findings)
        malformed: list[PacketFinding] = []  # the lines that do not parse, reported first
        decoded: list[_Decoded] = []
        folded: dict[UUID, Account] = {}
        by_user: dict[str, Account] = {}  # the accounts as they stood just before each event
        for line in self._lines(malformed):
            event: SignedAggregate.Event | None
            try:
                event = line.decode(mapper)
            except PacketMalformed as error:
                self._find("undecodable", str(error), line)
                decoded.append(_Decoded(_Placed.of(line), None, "", ()))
                continue
            # Compared now, so that the line's stored state and signed body, read again into
            # the event, are not held beside it for the whole log: the peak of a
            # verification was the lines and the events together.
            chained = event.event_hash
            decoded.append(
                _Decoded(_Placed.of(line), event, chained, _mismatches(line, event, chained))
            )
            self._ledger.record_screening(event)
            if isinstance(event, Account.Event):
                before = folded.get(event.originator_id)
                try:
                    check_logged_key_custody(event, before, by_user)
                except KeyCustodyViolated as error:
                    self._find(error.kind, str(error), line)
                try:
                    after = event.mutate(before)
                except Exception as error:  # an account event that does not apply is a finding
                    self._find("undecodable", f"the account event does not apply: {error}", line)
                    continue
                folded[event.originator_id] = after
                by_user[after.user_id] = after
                self._ledger.record_account(line.position, after)
        self._report.findings[start:start] = malformed
        accounts = {account.user_id: account for account in folded.values()}
        proofs = self._proofs()
        facts: list[EventFacts] = []
        events: list[contents.LoggedEvent] = []
        for each in decoded:
            facts.append(self._check(each, accounts, proofs))
            if each.event is not None:
                events.append((each.line.position, each.event))
        self._check_leaves([each.line for each in decoded], proofs)
        self._check_withheld_root()
        self._report.findings += on_events(log_checks.check_streams(facts), facts)
        withheld = [(leaf.leaf_index, leaf.leaf()) for leaf in self._withheld or []]
        return _CheckedEvents(events, accounts, sorted(self._leaves + withheld), self._ledger)

    def _lines(self, malformed: list[PacketFinding]) -> Iterator[PacketEvent]:
        """The event lines, read one at a time; each that does not parse is told in
        ``malformed``."""
        if EVENTS not in self._packet.files:
            self._find("file-missing", "the packet has no events")
            return
        for number, text in enumerate(_text_lines(self._packet, EVENTS), start=1):
            try:
                yield PacketEvent.from_line(text, number)
            except PacketMalformed as error:
                malformed.append(PacketFinding("line-malformed", EVENTS, str(error)))

    def _proofs(self) -> dict[int, PacketProof]:
        if PROOFS not in self._packet.files:
            self._report.findings.append(
                PacketFinding("file-missing", PROOFS, "the packet has no inclusion proofs")
            )
            return {}
        proofs: dict[int, PacketProof] = {}
        for number, text in enumerate(_text_lines(self._packet, PROOFS), start=1):
            try:
                proof = PacketProof.from_line(text, number)
            except PacketMalformed as error:
                self._report.findings.append(PacketFinding("line-malformed", PROOFS, str(error)))
                continue
            proofs[proof.leaf_index] = proof
        return proofs

    def _check(
        self,
        decoded: _Decoded,
        accounts: dict[str, Account],
        proofs: Mapping[int, PacketProof],
    ) -> EventFacts:
        line, event, chained = decoded.line, decoded.event, decoded.chained
        try:
            originator = UUID(hex=line.stream_id)
        except ValueError:
            self._find("line-malformed", f"stream_id {line.stream_id!r} is not a UUID", line)
            originator = UUID(int=0)
        if event is None:
            return EventFacts(line.position, originator, line.version)
        for mismatch in decoded.mismatches:
            self._find("line-mismatch", mismatch, line)
        body = log_checks.signed_body(event)
        if self._anchor is not None:
            try:
                attribute(event, accounts.get, self._anchor, body)
                if body is not None:
                    self._ledger.check(event, line.position, body)
            except (VerificationError, SignerNotAuthorised) as error:
                self._find(error.kind, str(error), line)
        hashed = leaf_hash(event.leaf_data(line.position))
        self._leaves.append((line.leaf_index, hashed))
        self._check_proof(line, hashed, proofs.get(line.leaf_index))
        return EventFacts(
            line.position,
            event.originator_id,
            event.originator_version,
            event.stream if log_checks.is_named(event.stream, event.originator_id) else None,
            event.previous_hash,
            chained,
            hashed,
            *log_checks.record_facts(event),
            unplaced_signature=log_checks.unplaced_signature(event, body),
            recorded_at=event.recorded_at,
            kind=event.kind(),
        )

    def _check_proof(self, line: _Placed, hashed: bytes, proof: PacketProof | None) -> None:
        if proof is None:
            self._find("inclusion-proof-missing", f"no proof of leaf {line.leaf_index}", line)
            return
        if self._checkpoint is None:
            return
        if proof.position != line.position or proof.leaf_hash != hashed:
            self._find(
                "leaf-mismatch",
                f"the proof of leaf {line.leaf_index} is of another event (position "
                f"{proof.position}) or another leaf hash than this event gives",
                line,
            )
        try:
            verify_inclusion(
                hashed,
                line.leaf_index,
                self._checkpoint.size,
                proof.proof,
                self._checkpoint.root,
            )
        except VerificationError as error:
            self._find(error.kind, f"leaf {line.leaf_index}: {error}", line)

    def _check_leaves(self, lines: list[_Placed], proofs: Mapping[int, PacketProof]) -> None:
        """Leaves 0 .. size-1, each once, positions rising: nothing removed, added or moved."""
        size = self._checkpoint.size if self._checkpoint is not None else None
        seen = [line.leaf_index for line in lines]
        withheld = [leaf.leaf_index for leaf in self._withheld or []]
        for index in sorted(set(seen) & set(withheld)):
            self._find("leaf-twice", f"leaf {index} is both an event and a withheld leaf")
        seen += withheld
        expected = range(size if size is not None else len(seen))
        for index in sorted(set(expected) - set(seen)):
            proof = proofs.get(index)
            self._report.findings.append(
                PacketFinding(
                    "event-missing",
                    EVENTS,
                    f"leaf {index} of the checkpoint's tree has no event in the packet",
                    position=None if proof is None else proof.position,
                )
            )
        for index in sorted(set(seen) - set(expected)):
            self._find("event-unexpected", f"leaf {index} is beyond the checkpoint's tree")
        previous: _Placed | None = None
        for line in lines:
            if previous is not None and (
                line.leaf_index <= previous.leaf_index or line.position <= previous.position
            ):
                self._find(
                    "log-reordered",
                    f"leaf {line.leaf_index} at position {line.position} comes after leaf "
                    f"{previous.leaf_index} at position {previous.position}",
                    line,
                )
            previous = line

    def _check_withheld_root(self) -> None:
        """A site copy's events and withheld leaves, together, are the checkpoint's whole tree:
        a withheld leaf that is not the log's (another position, stream or time) is found."""
        if self._withheld is None or self._checkpoint is None:
            return
        leaves = self._leaves + [(leaf.leaf_index, leaf.leaf()) for leaf in self._withheld]
        root = site_scope.tree_root(leaves)
        if root is not None and root != self._checkpoint.root:
            self._report.findings.append(
                PacketFinding(
                    "withheld-leaves-mismatch",
                    WITHHELD,
                    "the events and the withheld leaves do not give the checkpoint's root",
                )
            )


def _text_lines(packet: PacketZip, name: str) -> Iterator[str]:
    """A JSON-lines file's lines, read a line at a time: the very lines
    ``content.decode("utf-8", "replace").splitlines()`` gives of the whole file.

    The file is split at its bytes' line breaks, each line decoded and split again: a line
    break of UTF-8 text other than those (U+2028, NEL...) is split where it stands, and the
    last line, left with no break, yields no empty line after it as a whole file's would not.
    """
    for line in packet.lines(name, keepends=True):
        yield from line.decode("utf-8", "replace").splitlines()


class _Placed(NamedTuple):
    """Where an event line stands, all that the checks after the first pass and their
    findings need of it: its state, signed body and signature are carried again by the
    event it decodes to, and are not held for the whole log beside it."""

    leaf_index: int
    position: int
    stream: str
    stream_id: str
    version: int

    @classmethod
    def of(cls, line: PacketEvent) -> _Placed:
        return cls(line.leaf_index, line.position, line.stream, line.stream_id, line.version)


class _Decoded(NamedTuple):
    """An event line as the first pass leaves it for the checks that need every account."""

    line: _Placed
    event: SignedAggregate.Event | None
    """The event its state decodes to; None: it does not (a finding already says so)."""
    chained: str
    """The event's chain hash ("" where it does not decode)."""
    mismatches: tuple[str, ...]
    """How the line's fields differ from the event's, each as its finding tells it."""


def _mismatches(line: PacketEvent, event: SignedAggregate.Event, chained: str) -> tuple[str, ...]:
    """Each field of the line that is not what the decoded event says (``chained``: its chain
    hash)."""
    expected = _line_fields(event, chained, recorded_instant(event.recorded_at))
    return tuple(
        f"the line's {name} is {getattr(line, name)!r}; the stored event's is {value!r}"
        for name, value in expected.items()
        if getattr(line, name) != value
    )


def _line_fields(event: SignedAggregate.Event, chained: str, recorded: str) -> dict[str, Any]:
    """What each field of an event's line must say, from the stored event itself (``chained``
    is its chain hash, ``recorded`` its recording time as the leaf writes it)."""
    return {
        "stream": event.stream,
        "stream_id": event.originator_id.hex,
        "version": event.originator_version,
        "kind": event.kind(),
        "recorded_at": recorded,
        "previous_hash": event.previous_hash,
        "event_hash": chained,
        "signed_body": event.authorship.signed_body,
        "signature": event.authorship.signature,
    }


# -- derived files and the manifest's signature --------------------------------------------------


def _check_derived(
    packet: PacketZip,
    manifest: Manifest,
    anchor: RegisteredKey,
    checkpoint: tuple[Checkpoint, str],
    events: list[contents.LoggedEvent],
    redraw_documents: bool,
    report: PacketReport,
    progress: Progress,
) -> contents.PacketLog | None:
    """Draw every derived file again from the events and compare the bytes; the packet's log,
    unless its manifest cannot say when it was sealed."""
    try:
        sealed_at = datetime.strptime(manifest.sealed_at, RECORDED_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        report.findings.append(
            PacketFinding(
                "manifest-malformed", MANIFEST, f"sealed_at {manifest.sealed_at!r} is not a time"
            )
        )
        return None
    has_documents = any(path.endswith(".pdf") for path in manifest.files)
    redraw = has_documents and redraw_documents
    report.documents_redrawn = redraw
    report.documents_in_packet = has_documents
    log = contents.PacketLog(
        study=manifest.study,
        origin=manifest.origin,
        server_key=anchor.public_key,
        tie=LogTie(
            manifest.origin, checkpoint[0].size, checkpoint[0].root, checkpoint[1], sealed_at
        ),
        events=events,
        site=manifest.site,
    )

    def difference(path: str, written: contents.Written) -> str | None:
        """Where the packet's file first differs from the file made (None: it does not, or
        is absent), found as soon as it is made: the derived files are never all held, and
        the largest are digested as they are written, a chunk at a time."""
        found = packet.files.get(path)
        if found is None:
            # Written all the same: a file the events cannot give must stop the derivation
            # (derived-unbuildable), not be said to be given and absent.
            for _ in written():
                pass
            return None
        if found == Digest.of(written()):
            return None
        if path == contents.odm_path(log.study) and _earlier_odm(log, found):
            return EARLIER_ODM_WORDING  # a note, not a finding: no difference to look for
        # Only now is the file made held whole (written again), and the packet's file,
        # digested as the zip was opened, read again, a line at a time.
        return _first_difference(packet.lines(path), b"".join(written()))

    try:
        given = contents.derive(
            log, difference, documents=has_documents, draw=redraw, progress=progress
        )
    except Exception as error:  # the events do not give the files: name it, do not crash
        report.findings.append(
            PacketFinding("derived-unbuildable", None, f"the events give no packet: {error!r}")
        )
        return log
    derived = given.files
    evidence = EVIDENCE | OPTIONAL_EVIDENCE
    if manifest.site is not None:
        evidence |= {WITHHELD}
    listed = set(manifest.files) - evidence
    for path in sorted(set(derived) | given.documents | listed):
        if path in given.documents and not redraw:
            # Not drawn again: its bytes are checked by the manifest's digest alone, but it
            # must be there (and a PDF the events do not give is unexpected, below).
            if path not in packet.files and path not in listed:
                report.findings.append(
                    PacketFinding(
                        "derived-missing", path, "the events give this file; it is absent"
                    )
                )
            continue
        if path not in derived:
            report.findings.append(
                PacketFinding("file-unexpected", path, "the events give no such file")
            )
        elif path not in packet.files:
            report.findings.append(
                PacketFinding("derived-missing", path, "the events give this file; it is absent")
            )
        elif derived[path] == EARLIER_ODM_WORDING:
            report.notes.append(f"{path}: {EARLIER_ODM_WORDING}")
        elif derived[path] is not None:
            report.findings.append(
                PacketFinding(
                    "derived-mismatch",
                    path,
                    f"does not agree with the events: {derived[path]}",
                )
            )
    return log


EARLIER_ODM_WORDING = (
    "its signature definitions' LegalReason is an earlier version's wording (it claimed a"
    " 21 CFR 11.100(c) certification the store never records); the rest of the file is as"
    " the events give it"
)
"""What verifying a packet published before the ODM's rewording notes of its ODM file."""


def _earlier_odm(log: contents.PacketLog, found: Digest) -> bool:
    """Whether the packet's ODM file is what the events give with an earlier version's
    ``LegalReason``: a packet published before its rewording (issue 22, point 8)."""
    return any(
        found == Digest(sha256(odm), len(odm))
        for odm in (
            odm_document(
                log.events, study=log.study, created_at=log.tie.sealed_at, legal_reason=wording
            )
            for wording in EARLIER_LEGAL_REASONS
        )
    )


def _first_difference(found: Iterable[bytes], expected: bytes) -> str:
    """Where a file (its lines, as ``bytes.splitlines`` gives them) first differs from what the
    events give: its line and both versions, or how many lines each has."""
    expected_lines = expected.splitlines()
    count = 0
    for count, a in enumerate(found, start=1):
        if count > len(expected_lines):
            continue  # only counted
        b = expected_lines[count - 1]
        if a != b:
            return _differing_line(count, a, b)
    return f"it has {count} lines; the events give {len(expected_lines)}"


def _differing_line(number: int, found: bytes, expected: bytes) -> str:
    """How line ``number`` of a file that differs from what the events give is told: both
    versions, unless either is too long to quote in a finding."""
    if len(found) < 400 and len(expected) < 400:
        return f"line {number} is {_excerpt(found)}; the events give {_excerpt(expected)}"
    return f"line {number} differs"


def _excerpt(line: bytes) -> str:
    return repr(line.decode("utf-8", "replace"))


def _check_manifest_signature(
    packet: PacketZip,
    manifest: Manifest,
    accounts: Mapping[str, Account],
    report: PacketReport,
) -> None:
    """The manifest's signature, by a sponsor's key that the packet's log registers."""
    signer = manifest.signer
    if MANIFEST_SIGNATURE not in packet.files:
        report.findings.append(
            PacketFinding("file-missing", MANIFEST_SIGNATURE, "the manifest is not signed")
        )
        return
    signature = packet.read(MANIFEST_SIGNATURE)
    account = accounts.get(signer.user_id)
    key = None if account is None else account.keys.get(signer.key_id)
    if account is None or key is None:
        report.findings.append(
            PacketFinding(
                "signer-unknown",
                MANIFEST_SIGNATURE,
                f"{signer.key_id} of {signer.user_id} is not a key the packet's log registers",
            )
        )
        return
    problems: list[tuple[str, str]] = []
    try:
        check_may_sign_packets(account, manifest.site)
    except PacketSignerInvalid as error:
        problems.append(("signer-not-sponsor", str(error)))
    if key.revoked_at is not None:
        problems.append(("signer-key-revoked", f"{signer.key_id} was revoked {key.revoked_at}"))
    if account.printed_name != signer.printed_name:
        problems.append(
            (
                "signer-name-mismatch",
                f"signed as {signer.printed_name!r}, the account's name is "
                f"{account.printed_name!r}",
            )
        )
    try:
        if key_id(public_key_from_text(key.public_key)) != signer.key_id:
            raise PacketMalformed("the key registered under this id is another key")
        verify_signature(
            public_key_from_text(key.public_key),
            packet.read(MANIFEST),
            signature.decode("ascii", "replace").strip(),
        )
    except (VerificationError, PacketMalformed, binascii.Error) as error:
        problems.append(("manifest-signature-invalid", str(error)))
    report.findings += [
        PacketFinding(kind, MANIFEST_SIGNATURE, detail) for kind, detail in problems
    ]
