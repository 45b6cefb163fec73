"""``sealtrail verify --since CHECKPOINT``: what came after a checkpoint the auditor kept.

The auditor kept a checkpoint (size ``m``, root ``r``) from an earlier verify. It is signed by
the server's key under the log's origin, and the auditor holds it outside the store, so it is
trusted: everything below is checked against it, nothing against the store's word alone.

1. **The tree before it.** The stored tree's :func:`~signatures.merkle.frontier` at ``m`` (one
   complete subtree per bit of ``m``: the old tree's part of every consistency proof from
   ``m``) must fold to ``r``. Each leaf commits to one event (position, stream, version,
   recording time, chain hash), so under SHA-256 the first ``m`` leaves of the stored tree are
   those the kept checkpoint covered: any rewrite of the log before it that its tree shows
   (an event edited, removed, added or reordered, and its leaf and nodes made to agree) is
   ``log-rewritten``. A tree cut below ``m`` is ``log-truncated``.
2. **The events after it**, exactly as the full verify checks every event: decoded, attributed
   to a key valid then, signature, content against the signed body, the signer's authority;
   their leaves recomputed and compared with the stored ones.
3. **The tree after it.** From the frontier and the recomputed leaves (never the stored nodes),
   :class:`~signatures.merkle.TreeExtension` derives the root at every later size. The stored
   consistency proof from ``m`` to now must reproduce both the kept root and that derived root
   (RFC 9162, 2.1.4.2); every stored node over the new leaves must be the hash of them; every
   checkpoint sealed since must sign the derived root of its size.
4. **Time.** The time-stamps of the kept checkpoint and of every checkpoint sealed since, and
   the recording time of every event after it between them and the trusted witnesses'
   cosignatures, as the full verify checks them
   (:meth:`~infrastructure.verification.verifier.LogVerifier.check_times`; docs/timestamps.md).
   **Witnesses.** Every cosignature of a checkpoint from the kept one on (and each witness's
   newest before it) is checked as the full verify checks it, and with ``--witness`` the
   latest checkpoint must be vouched for by the quorum
   (:func:`~infrastructure.verification.witnesses.check_witnesses`, the same code).
5. **What the events after it rely on from before it**: the last event of each stream they
   continue (its version and chain hash: the stream's chain goes on from it), each subject's
   screening (its site, for the authority check), every account event (who held which key and
   role when), the whole earlier stream of a subject whose new events sign records (the record
   hashes they cover), and the checkpoint's own last event (where the new events begin). Those
   whose content is used (an account's keys and roles, a site, record hashes) are checked as
   events; of a stream's previous event only its version and chain hash are used, which its
   leaf covers. Each one's leaf, recomputed from the stored row, must be included in the kept
   checkpoint's tree (an inclusion proof verified against ``r``): so a value taken from before
   the checkpoint is the value the checkpoint fixed.

What it does not read is every event before the checkpoint: an event row edited while its leaf
and the tree's nodes were left as they were disagrees with the tree, and only a full verify,
which rehashes every event, sees that unless the event is one of those in point 5 (docs/
architecture.md, "Incremental verification"). The views are not compared either (they are
derived from the whole log).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Connection

from infrastructure.verification.log_checks import EventFacts, Finding, check_streams, named
from infrastructure.verification.since_reads import CachedTree, SinceRows, nodes_after, proof_nodes
from infrastructure.verification.tree_checks import check_leaves
from infrastructure.verification.verifier import EventChecker, LogVerifier, Progress
from infrastructure.verification.witness_checks import WitnessPolicy
from infrastructure.verification.witnesses import check_witnesses
from signatures.checkpoint import Checkpoint, parse_note, verify_checkpoint
from signatures.errors import (
    CheckpointMalformed,
    CheckpointSignatureInvalid,
    ConsistencyProofInvalid,
    InclusionProofInvalid,
)
from signatures.keys import public_key_from_text
from signatures.merkle import (
    TreeExtension,
    consistency_proof,
    frontier,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

MAX_NOTE_BYTES = 64 * 1024
"""A checkpoint is a few hundred bytes; a kept file larger than this is not one."""


class KeptCheckpointUnusable(ValueError):
    """The kept file is no checkpoint to start from: not a signed checkpoint note, or one of the
    empty log (wrong usage: ``verify`` without ``--since`` checks everything)."""


@dataclass(frozen=True)
class SinceReport:
    """What a check after a kept checkpoint found, and the checkpoint to keep next."""

    kept: Checkpoint
    tree_size: int
    events: int
    findings: list[Finding]
    keep_next: str | None
    """The newest stored checkpoint this check verified (the kept one when nothing newer was
    sealed); None when something was found: keep the old one."""
    notes: tuple[str, ...] = ()
    """What was not checked, and why (no time-stamps to check event times by...): not findings."""

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    @property
    def nothing_new(self) -> bool:
        """True when the log has not grown since the kept checkpoint."""
        return self.tree_size == self.kept.size


def read_kept_checkpoint(note: bytes, origin: str, public_key_text: str) -> Checkpoint:
    """The kept checkpoint, checked against the log's origin and the server's key.

    Raises:
        KeptCheckpointUnusable: not a well-formed signed checkpoint, or of size 0.
        CheckpointSignatureInvalid: a checkpoint of another log, or not signed by this log's
            key (a refusal: the file may be evidence of something).
    """
    if len(note) > MAX_NOTE_BYTES:
        raise KeptCheckpointUnusable(f"not a checkpoint: more than {MAX_NOTE_BYTES} bytes")
    try:
        claimed, _ = parse_note(note)
    except CheckpointMalformed as error:
        raise KeptCheckpointUnusable(f"not a checkpoint: {error}") from None
    if claimed.origin != origin:
        raise CheckpointSignatureInvalid(
            "the checkpoint is of the log %(origin)r, not of this store's log %(origin2)r",
            origin=claimed.origin,
            origin2=origin,
        )
    checkpoint = verify_checkpoint(note, origin, public_key_from_text(public_key_text))
    if checkpoint.size == 0:
        raise KeptCheckpointUnusable(
            "the checkpoint is of the empty log: there is nothing to start from "
            "(run verify without --since)"
        )
    return checkpoint


class SinceCheck:
    """One check of a store's log after a kept checkpoint (see the module docstring)."""

    def __init__(
        self, verifier: LogVerifier, kept: Checkpoint, witnesses: WitnessPolicy | None = None
    ) -> None:
        self._verifier = verifier
        self._kept = kept
        self._witnesses = witnesses

    def run(self, progress: Progress | None = None) -> SinceReport:
        """Check the log as it stood when the check began (the bound of the full verify)."""
        verifier, kept = self._verifier, self._kept
        bound = verifier.bound()
        size = bound.leaves
        if kept.size > size:
            return self._report(size, 0, [_truncated(kept, size)], None)
        with verifier.engine.connect() as connection:
            reader = SinceRows(connection, verifier)
            tree = CachedTree(connection)
            stored_leaves = reader.leaves_from(kept.size - 1, size)
            if not stored_leaves or int(stored_leaves[0].leaf_index) != kept.size - 1:
                return self._report(size, 0, [_rewritten(kept)], None)
            first = int(stored_leaves[0].position) + 1
            touched = reader.streams_after(first - 1, bound.last_position)
            account_events = reader.account_events(bound.last_position)
            # Every touched subject's site, the new subjects' too: the authority check asks it.
            screenings = reader.events(((stream, 1) for stream in touched), bound.last_position)
            accounts, ledger, custody = verifier.fold_accounts([*account_events, *screenings])
            facts, findings = verifier.check_events(
                accounts, ledger, progress, bound.last_position, first
            )
            # Rows below position 1 are no event the store wrote, yet the application reads
            # them: checked as the new events are, each then without a leaf.
            written_by_hand, by_hand_findings = verifier.check_events(
                accounts, ledger, None, 0, bound.first_position
            )
            findings += by_hand_findings
            findings += [f for f in custody if f.position is not None and f.position >= first]
            relied_on = [n for n in [*account_events, *screenings] if n.id < first]
            holds = self._kept_root_holds(tree)
            earlier, history, earlier_findings = self._earlier(
                reader,
                tree if holds else None,
                verifier.event_checker(accounts, ledger),
                facts,
                touched,
                relied_on,
                first - 1,
            )
            findings += earlier_findings
            findings += check_streams([*history, *facts], earlier)
            findings += check_leaves(stored_leaves[1:], [*written_by_hand, *facts])
            extension, stored_tree, tree_findings = (
                self._tree(connection, tree, facts, stored_leaves[1:], size)
                if holds
                else (None, None, [_rewritten(kept)])
            )
        witness_findings, cosigned = check_witnesses(
            verifier.engine,
            verifier.origin,
            public_key_from_text(verifier.anchor_key),
            accounts,
            ledger,
            bound.newest_checkpoint,
            self._witnesses,
            smallest=kept.size,
        )
        time_findings, time = verifier.check_times(
            self._signed_notes(bound.newest_checkpoint), facts, cosigned, first_leaf=kept.size
        )
        findings = named(
            findings + tree_findings + time_findings,
            [*written_by_hand, *earlier.values(), *history, *facts],
        )
        findings += time.findings + witness_findings
        # With nothing else found the events' own tree signs off the checkpoints sealed since;
        # with findings, the stored leaves' tree still does, so that a checkpoint over another
        # history is named beside them (as the full verify names it), not hidden by them.
        against = extension if not findings else stored_tree
        keep_next = None
        if against is not None:
            keep_next, checkpoint_findings = self._checkpoints(against, bound.newest_checkpoint)
            findings += checkpoint_findings
        return self._report(
            size, len(facts), findings, keep_next if not findings else None, tuple(time.notes)
        )

    def _signed_notes(self, newest: int | None) -> dict[int, str]:
        """The notes of the kept checkpoint and of those sealed since that the server's key
        signed, by size (a note that does not verify is named by :meth:`_checkpoints`)."""
        signed: dict[int, str] = {}
        for tree_size, _, note in self._verifier.checkpoints_between(self._kept.size, newest):
            checkpoint, _ = self._verifier.read_note(note, "")
            if checkpoint is not None:
                signed[tree_size] = note
        return signed

    # -- what the new events rely on from before the checkpoint -----------------------------------

    def _kept_root_holds(self, tree: CachedTree) -> bool:
        """The stored tree's frontier at the kept size folds to the kept root."""
        try:
            return self._extension(tree).root(self._kept.size) == self._kept.root
        except KeyError:
            return False

    def _extension(self, tree: CachedTree) -> TreeExtension:
        size = self._kept.size
        return TreeExtension(size, {pair: tree.node(*pair) for pair in frontier(size)})

    def _earlier(
        self,
        reader: SinceRows,
        tree: CachedTree | None,
        checker: EventChecker,
        facts: list[EventFacts],
        touched: Mapping[UUID, int],
        relied_on: list[Notification],
        up_to: int,
    ) -> tuple[dict[UUID, EventFacts], list[EventFacts], list[Finding]]:
        """What the new events rely on from before them (see the module docstring, point 4),
        each checked as an event and against the kept tree: the last event before the range of
        each stream it continues (``heads``), and the whole earlier ``history`` of each stream
        whose new events sign records (its record hashes), which then goes on from genesis.

        Without ``tree`` (the stored tree no longer folds to the kept root, which is named
        once) no inclusion proof could hold, and none is asked for."""
        signs_records = {fact.stream_id for fact in facts if fact.covers is not None}
        wanted: list[tuple[UUID, int]] = []
        for stream, version in touched.items():
            if stream in signs_records:
                wanted += [(stream, earlier) for earlier in range(1, version)]
            elif version > 1:
                wanted.append((stream, version - 1))
        found = {n.id: n for n in [*reader.events(wanted, up_to), *relied_on]}
        if up_to not in found:
            last_of_checkpoint = reader.at_position(up_to)
            if last_of_checkpoint is not None:
                found[up_to] = last_of_checkpoint
        size = self._kept.size
        # Of a stream's previous event only its version and chain hash are used, and its leaf
        # covers both: it is read, not checked again. What is read from the others (an
        # account's keys and roles, a subject's site) is checked against the signed body.
        checked_whole = {n.id for n in relied_on} | {
            position
            for position, n in found.items()
            if n.originator_id in signs_records or position == up_to
        }
        findings: list[Finding] = []
        checked: list[EventFacts] = []
        leaf_indexes = reader.leaf_indexes(sorted(found))
        if tree is not None:
            tree.fetch(
                proof_nodes(
                    [leaf_indexes[p] for p in found if leaf_indexes.get(p, size) < size], size
                )
            )
        for position in sorted(found):
            fact, finding = checker.check(found[position], attributed=position in checked_whole)
            if finding is not None:
                findings.append(finding)
            if tree is not None:
                findings += self._in_kept_tree(tree, fact, leaf_indexes.get(position))
            checked.append(fact)
        history = [fact for fact in checked if fact.stream_id in signs_records]
        heads = {
            fact.stream_id: fact
            for fact in checked
            if fact.stream_id not in signs_records
            and fact.stream_id in touched
            and fact.version == touched[fact.stream_id] - 1
        }
        return heads, history, named(findings, checked)

    def _in_kept_tree(
        self, tree: CachedTree, fact: EventFacts, leaf_index: int | None
    ) -> list[Finding]:
        """The event's leaf, recomputed from its row, is in the kept checkpoint's tree."""
        where = (fact.position, str(fact.stream_id), fact.version)
        kept = self._kept
        if leaf_index is None:
            return [Finding(*where, "leaf-missing", "the event has no leaf in the Merkle log")]
        if fact.leaf_hash is None:
            return []  # the event could not be read: named for that
        try:
            if leaf_index >= kept.size:
                raise InclusionProofInvalid(
                    "its leaf %(leaf_index)s is after the checkpoint", leaf_index=leaf_index
                )
            proof = inclusion_proof(tree, leaf_index, kept.size)
            verify_inclusion(fact.leaf_hash, leaf_index, kept.size, proof, kept.root)
        except (InclusionProofInvalid, KeyError) as error:
            return [
                Finding(
                    *where,
                    "log-rewritten",
                    "the event is not the one the kept checkpoint of size "
                    f"{kept.size} covered ({error or 'the stored tree lacks a node'})",
                )
            ]
        return []

    # -- the tree ---------------------------------------------------------------------------------

    def _tree(
        self,
        connection: Connection,
        tree: CachedTree,
        facts: list[EventFacts],
        new_leaves: Sequence[Any],
        size: int,
    ) -> tuple[TreeExtension | None, TreeExtension | None, list[Finding]]:
        """The tree after the checkpoint, derived from the kept root's frontier and the new
        leaves, never read from the stored nodes; and the tree of the stored leaves (each None
        when it does not reach the log's size).

        The stored consistency proof and the stored nodes over the new leaves are checked
        against the tree derived from the stored leaves (each of which :func:`check_leaves`
        compares with its event), as the full verify checks the nodes against the leaves; the
        tree derived from the events themselves is returned, for the checkpoints.
        """
        kept = self._kept
        extension, stored = self._extension(tree), self._extension(tree)
        for fact in facts:
            if fact.leaf_hash is not None:
                extension.append_hash(fact.leaf_hash)
        for leaf in new_leaves:
            stored.append_hash(bytes(leaf.leaf_hash))
        findings: list[Finding] = []
        try:
            verify_consistency(
                kept.size,
                size,
                kept.root,
                stored.root(),
                consistency_proof(tree, kept.size, size),
            )
        except (ConsistencyProofInvalid, KeyError) as error:
            findings.append(
                Finding.of_log(
                    "tree-node-mismatch",
                    f"the stored consistency proof from size {kept.size} to {size} does not "
                    f"hold over the events after the checkpoint ({error})",
                )
            )
        findings += [
            Finding.of_log(
                "tree-node-mismatch",
                f"stored node (level {level}, index {index}) is not the hash of the leaves "
                "beneath it",
            )
            for level, index, value in nodes_after(connection, kept.size, size)
            if stored.node(level, index) != value
        ]
        # Events and leaves that disagree are named by check_leaves; no root is then derived.
        return (
            extension if extension.size == size else None,
            stored if stored.size == size else None,
            findings,
        )

    def _checkpoints(
        self, extension: TreeExtension, newest: int | None
    ) -> tuple[str | None, list[Finding]]:
        """Every checkpoint sealed from the kept one's size on signs the derived root; the newest
        is the one to keep next."""
        kept = self._kept
        rows = self._verifier.checkpoints_between(kept.size, newest)
        findings: list[Finding] = []
        keep_next: str | None = None
        for tree_size, stored_root, note in rows:
            source = f"stored checkpoint of size {tree_size}"
            checkpoint, note_findings = self._verifier.read_note(note, source)
            findings += note_findings
            if checkpoint is None:
                continue
            if (checkpoint.size, checkpoint.root) != (tree_size, stored_root):
                findings.append(
                    Finding.of_log(
                        "checkpoint-row-mismatch",
                        f"{source}: the row says size {tree_size}; its signed note says size "
                        f"{checkpoint.size} (or another root)",
                    )
                )
            elif checkpoint.size > extension.size or extension.root(checkpoint.size) != (
                checkpoint.root
            ):
                findings.append(
                    Finding.of_log(
                        "checkpoint-mismatch",
                        f"{source}: the log's first {checkpoint.size} events do not hash to "
                        "its root",
                    )
                )
            else:
                keep_next = note
        return keep_next, findings

    def _report(
        self,
        size: int,
        events: int,
        findings: list[Finding],
        keep_next: str | None,
        notes: tuple[str, ...] = (),
    ) -> SinceReport:
        return SinceReport(self._kept, size, events, findings, keep_next, notes)


def _rewritten(kept: Checkpoint) -> Finding:
    return Finding.of_log(
        "log-rewritten",
        f"the first {kept.size} events of the log no longer hash to the root of the kept "
        "checkpoint: the log before it was changed",
    )


def _truncated(kept: Checkpoint, size: int) -> Finding:
    return Finding.of_log(
        "log-truncated",
        f"the kept checkpoint covers {kept.size} events; the log holds {size}: events it "
        "covered were removed (cut off the end, or taken out of the log and its tree rebuilt)",
    )
