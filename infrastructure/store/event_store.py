"""The one path every save takes: nothing unsigned, unattributed or unchained is stored.

eventsourcing's :class:`~eventsourcing.persistence.EventStore` is where every aggregate's
pending events go on ``Application.save``. This subclass checks each event before the batch is
inserted; a failing check raises and the batch is not written at all.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper, Recording

from domain.account import SPONSOR_ACCOUNT, Account, RegisteredKey, check_key_end
from domain.attribution import AccountLookup, attribute, check_signed_within
from domain.authority import check_batch_authorised
from domain.database_lock import check_part_of_database_lock, check_screening_open
from domain.errors import SignerNotAuthorised
from domain.signed import SignedAggregate, check_signed_version
from domain.subject import Subject
from infrastructure.errors import UnsignedEventRefused
from infrastructure.store.sealed_batch import PendingLeaf, ReadAfter, SealedBatch
from signatures.chain import GENESIS_HASH, check_link
from signatures.errors import ChainBroken

KNOWN_ACCOUNTS = "known_accounts"
"""Keyword of ``Application.save`` naming accounts already loaded for the command."""
SUBJECT_SITES = "subject_sites"
"""Keyword of ``Application.save`` naming the site of each subject saved (by aggregate id), so
that its writes' authority is asked again in the write's turn (a screening names its own)."""


class SealedEventStore(EventStore[UUID]):
    """An event store that admits only events whose author and chain link check out."""

    HEAD_CACHE_SIZE = 10_000

    def __init__(
        self,
        mapper: Mapper[UUID],
        recorder: AggregateRecorder,
        accounts: AccountLookup,
        anchor: Callable[[], RegisteredKey],
        signing_window: timedelta | None = None,
    ) -> None:
        super().__init__(mapper, recorder)
        self._accounts = accounts
        self._anchor = anchor
        self._signing_window = signing_window
        # (stream id, version) -> chain hash. Stored events never change (the table's triggers
        # refuse it), so a remembered hash can never go stale.
        self._hashes: OrderedDict[tuple[UUID, int], str] = OrderedDict()
        # log position -> leaf index, of what this process stored, for the receipts.
        self._leaf_indexes: OrderedDict[int, int] = OrderedDict()
        # subject stream id -> its site, as its screening (never changed) names it.
        self._sites: OrderedDict[UUID, str] = OrderedDict()

    def leaf_index_stored(self, position: int) -> int | None:
        """The leaf index this process gave the event at ``position``, if it stored it."""
        return self._leaf_indexes.get(position)

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        """Check every event of the batch, then insert the batch in one transaction.

        The signers' accounts are checked again inside that transaction, once the write turn
        is held (:meth:`admit_under_turn`): a key rotated or revoked, a role revoked or lapsed,
        a site or a delegation taken away by another process after the first check cannot let
        an event in that verify would then refuse.
        """
        heads: dict[UUID, str] = {}
        # The application may hand over accounts it has just loaded for this command.
        known: dict[str, Account] = dict(kwargs.pop(KNOWN_ACCOUNTS, {}))
        sites: dict[UUID, str] = dict(kwargs.pop(SUBJECT_SITES, {}))
        for index, event in enumerate(domain_events):
            self.admit(event, heads, known)
            heads[event.originator_id] = event.event_hash
            event.check_against_stream(partial(self.stream_before, event, domain_events[:index]))
        leaves = [PendingLeaf(event.leaf_data) for event in domain_events]
        # Read before the transaction: a screening, once stored, never changes.
        sites.update(self.sites_of(domain_events, sites))

        def admit_under_turn(read_after: ReadAfter) -> None:
            self.admit_under_turn(domain_events, known, read_after, sites)

        reads = [(account.id, account.version) for account in known.values()]
        recordings = super().put(
            domain_events, **kwargs, sealed_batch=SealedBatch(leaves, admit_under_turn, reads)
        )
        for leaf in leaves:
            assert leaf.position is not None and leaf.leaf_index is not None
            self._leaf_indexes[leaf.position] = leaf.leaf_index
            if len(self._leaf_indexes) > self.HEAD_CACHE_SIZE:
                self._leaf_indexes.popitem(last=False)
        for event in domain_events:
            self._remember(event.originator_id, event.originator_version, event.event_hash)
        return recordings

    def admit(
        self, event: Any, heads: dict[UUID, str], known: dict[str, Account] | None = None
    ) -> None:
        """Refuse an event that is unsigned, misattributed or not linked to its stream's head.

        Raises:
            VersionNotSigned, VersionConflict: the body does not sign the version the event
                takes in its stream.
            UnsignedEventRefused, ContentMismatch, UnknownKey, KeyNotValid, SignatureInvalid,
            SigningTimeInvalid, MeaningInvalid, ChainBroken: the event must not be stored.
        """
        if not isinstance(event, SignedAggregate.Event):
            raise UnsignedEventRefused(
                "%(event)s carries no signature", event=type(event).__qualname__
            )
        used = known if known is not None else {}

        def account_of(user_id: str) -> Account | None:
            # Remember the account each signer was checked against, to check it again later.
            account = used.get(user_id) or self._accounts(user_id)
            if account is not None:
                used[user_id] = account
            return account

        body = event.authorship.body()
        # A new event's author signs its place; only events recorded before that may lack it.
        check_signed_version(body, event.originator_version)
        signer = attribute(event, account_of, self._anchor(), body)
        if self._signing_window is not None:
            # A policy of the way in (configurable), not a property of the record: verify,
            # which may run under another setting, does not repeat it.
            check_signed_within(signer, event.recorded_at, self._signing_window)
        previous = heads.get(event.originator_id) or self.stored_hash(
            event.originator_id, event.originator_version - 1
        )
        check_link(previous, event.previous_hash)

    def admit_under_turn(
        self,
        events: Sequence[Any],
        used: dict[str, Account],
        read_after: ReadAfter,
        sites: dict[UUID, str],
    ) -> None:
        """Check the batch again, inside the insert's transaction, with the write turn held.

        Every event recorded before this turn is in the store now, and none can be added until
        it ends. So a key's end stated in the batch must not be past (an event may have been
        recorded with that key up to now), and each signer's account is read again: if it has
        changed since ``used`` was loaded, the batch's events are attributed anew with it.
        Then each signer's authority is asked, of their account as it stands now and at each
        event's recorded instant, by the very function verify asks it with
        (:func:`domain.authority.check_batch_authorised`): the log cannot change before this
        commit, so verify will see each signer's account exactly so. ``sites`` names the
        stored subjects' sites (:meth:`sites_of`).

        Raises:
            KeyEndPassed, KeyNotValid, UnknownKey and the other attribution errors.
            SignerNotAuthorised: a signer's role, site, delegation or account no longer allows
                an event of the batch (changed, or lapsed, since the first check).
            ScreeningClosed: a screening's site, or the study, was locked meanwhile.
            LockStepRefused: a subject's lock names its database's lock, reopened meanwhile.
        """
        now = datetime.now(UTC)
        for event in events:
            if isinstance(event, Account.KeyRotated | Account.KeyRevoked):
                check_key_end(event.key_end, event.retroactive, now)
        current: dict[str, Account] = {}
        # On SQLite the batch is already inserted when this runs; it is not what it is checked by.
        batch = {(event.originator_id, event.originator_version) for event in events}
        for user_id, account in used.items():
            newer = [
                stored
                for stored in read_after(account.id, account.version)
                if (stored.originator_id, stored.originator_version) not in batch
            ]
            if newer:
                changed = copy.deepcopy(account)
                for stored in newer:
                    event = self.mapper.to_domain_event(stored)
                    assert isinstance(event, Account.Event)
                    changed = event.mutate(changed)
                current[user_id] = changed
        accounts = {**used, **current}
        if current:
            for event in events:
                attribute(event, accounts.get, self._anchor())
        try:
            check_batch_authorised(events, accounts, sites)
        except SignerNotAuthorised as error:
            raise SignerNotAuthorised(
                "%(error)s; asked again as the write was committed (the account "
                "changed, or the role lapsed, since the write was first checked): "
                "nothing was recorded",
                error=error,
                rule=error.rule,
            ) from None
        sponsor = accounts.get(SPONSOR_ACCOUNT)
        for event in events:
            # Only these two kinds ask the sponsor's account: the write turn is held, so no
            # other event's body is parsed again here.
            if isinstance(event, Subject.Screened) and sponsor is not None:
                # A database lock recorded meanwhile closes the screening's site.
                check_screening_open(sponsor, _study_of(event), event.site)
            elif isinstance(event, Subject.SubjectLocked) and event.originator_id in sites:
                # A reopening recorded meanwhile leaves no database lock for this one to be
                # part of: verify would name it not-authorised (domain.authority).
                scope = str(getattr(event.scope, "value", event.scope))
                site = sites[event.originator_id]
                check_part_of_database_lock(sponsor, _study_of(event), site, scope)

    def sites_of(self, events: Sequence[Any], known: dict[UUID, str]) -> dict[UUID, str]:
        """The site of each stored subject the batch's events are of, from its screening
        (``known``: those the application handed over, not read again)."""
        sites: dict[UUID, str] = dict(known)
        for event in events:
            subject = event.originator_id
            if isinstance(event, Subject.Event) and event.originator_version > 1:
                site = sites.get(subject) or self._sites.get(subject) or self._stored_site(subject)
                if site is not None:
                    sites[subject] = site
        return sites

    def _stored_site(self, subject: UUID) -> str | None:
        stored = self.recorder.select_events(subject, lte=1)
        screening = self.mapper.to_domain_event(stored[0]) if stored else None
        site = getattr(screening, "site", None)
        if not isinstance(screening, Subject.Screened) or not isinstance(site, str):
            return None
        self._sites[subject] = site
        if len(self._sites) > self.HEAD_CACHE_SIZE:
            self._sites.popitem(last=False)
        return site

    def stream_before(
        self, event: SignedAggregate.Event, earlier_in_batch: Sequence[Any] = ()
    ) -> list[SignedAggregate.Event]:
        """The events before ``event`` in its stream: as stored, then the batch's earlier ones."""
        before: list[SignedAggregate.Event] = []
        for stored in self.recorder.select_events(
            event.originator_id, lte=event.originator_version - 1
        ):
            decoded = self.mapper.to_domain_event(stored)
            assert isinstance(decoded, SignedAggregate.Event)  # the store holds no other kind
            before.append(decoded)
        return before + [e for e in earlier_in_batch if e.originator_id == event.originator_id]

    def stored_hash(self, originator_id: UUID, version: int) -> str:
        """The chain hash of a stored event (the genesis hash before version 1)."""
        if version < 1:
            return GENESIS_HASH
        remembered = self._hashes.get((originator_id, version))
        if remembered is not None:
            return remembered
        stored = self.recorder.select_events(originator_id, gt=version - 1, lte=version)
        if not stored:
            raise ChainBroken(
                "version %(version)s of the stream is not in the store", version=version
            )
        event = self.mapper.to_domain_event(stored[0])
        assert isinstance(event, SignedAggregate.Event)
        self._remember(originator_id, version, event.event_hash)
        return event.event_hash

    def _remember(self, originator_id: UUID, version: int, chain_hash: str) -> None:
        self._hashes[(originator_id, version)] = chain_hash
        if len(self._hashes) > self.HEAD_CACHE_SIZE:
            self._hashes.popitem(last=False)


def _study_of(event: SignedAggregate.Event) -> str:
    """The study its author signed the event for."""
    return str(event.authorship.body().get("study"))
