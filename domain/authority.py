"""Whether the person who signed a logged event was authorised to do what it does.

The store refuses a write its author may not make (:mod:`domain.permissions`): the role in
force, the site, the delegation the protocol requires, who may change which account. A verifier
asks the very same rules again of every logged event, of the signer's account as it stood just
before the event (every account event earlier in the log folded, none after) and at the instant
the event was recorded (a role granted ``until`` then has lapsed); a subject's lock as part of
its site's or the study's lock is asked for the database lock the sponsor's account recorded
before it (:func:`domain.database_lock.check_part_of_database_lock`). So an event appended past the
store by someone holding the database and one person's key, which the store would have refused,
is named (``not-authorised``) however well it is chained and signed. The store asks the same
question (:func:`check_batch_authorised`) as it commits each write, with nothing else appended
meanwhile: what it acknowledges, verify finds authorised.

What the server signs is not asked again: its key is the trust anchor, and its acts
(initialisation, lockouts, a person's own password change, what it observed) are its own.
"""

from __future__ import annotations

import copy
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.account import SPONSOR_ACCOUNT, SYSTEM_USER, Account, Role
from domain.database_lock import check_part_of_database_lock
from domain.errors import (
    DelegationInvalid,
    LockStepRefused,
    NotPermitted,
    SignerNotAuthorised,
    UnknownStudy,
)
from domain.observed import ObservedByServer
from domain.permissions import ACCOUNT_CHANGE_CHECKS, check_may_change_account, check_may_write
from domain.signed import SignedAggregate
from domain.subject import KINDS, Subject

SCREENED = Subject.Screened.kind()


class AuthorityLedger:
    """What a verifier folds from the log, in log order, to ask of any event whether its signer
    was authorised: each account as it stood after each of its events, and each subject's site.

    It may then be asked of the events in any order (each range of the log in its own process).
    """

    def __init__(self) -> None:
        self._positions: dict[str, list[int]] = {}
        self._states: dict[str, list[Account]] = {}
        self._sites: dict[UUID, str] = {}

    def record_account(self, position: int, account: Account) -> None:
        """``account`` as its event at ``position`` left it (kept as a copy: folding goes on
        changing the aggregate). Positions are recorded in rising order."""
        self._positions.setdefault(account.user_id, []).append(position)
        self._states.setdefault(account.user_id, []).append(copy.deepcopy(account))

    def record_screening(self, event: SignedAggregate.Event) -> None:
        """The site a subject's screening names: the site of every event of its stream."""
        site = getattr(event, "site", None)
        if isinstance(event, Subject.Screened) and isinstance(site, str):
            self._sites.setdefault(event.originator_id, site)

    def account_before(self, user_id: str, position: int) -> Account | None:
        """The account as it stood just before the event at ``position`` (None: not opened)."""
        positions = self._positions.get(user_id)
        if positions is None:
            return None
        index = bisect_left(positions, position)
        return None if index == 0 else self._states[user_id][index - 1]

    def held_role_during(self, user_id: str, role: Role, start: datetime, end: datetime) -> bool:
        """Whether ``user_id`` held ``role`` in force at some instant from ``start`` to ``end``
        (inclusive), by its account as each of its events left it, from the instant that event
        was recorded: an act that is no logged event (a witness's cosignature) is judged by the
        signer's role at its own time, as the store judged it, not by the role held now.
        """
        states = self._states.get(user_id, [])
        for index, account in enumerate(states):
            since = account.modified_on
            following = states[index + 1].modified_on if index + 1 < len(states) else None
            if since > end or (following is not None and following <= start):
                continue
            # Within one state a role only lapses (``until``), so it is in force at the first
            # instant of the window the state covers if at any.
            if account.role_in_force(max(since, start)) is role:
                return True
        return False

    def check(self, event: SignedAggregate.Event, position: int, body: Mapping[str, Any]) -> None:
        """Whether the signer of ``event`` (at log ``position``, signed ``body``) was authorised
        to sign it, by the rules the store applied on the way in. Asked once the event is
        attributed to its signer: an event whose signature does not hold is named for that.

        Raises:
            SignerNotAuthorised: the signer's role, site, delegation or account did not allow
                this event when it was recorded.
        """
        check_signer_authorised(
            event, body, lambda user_id: self.account_before(user_id, position), self._sites.get
        )
        if isinstance(event, Subject.SubjectLocked):
            self._check_lock_scope(event, position, body)

    def _check_lock_scope(
        self, event: Subject.SubjectLocked, position: int, body: Mapping[str, Any]
    ) -> None:
        """A subject locked as part of its site's or the study's lock names a database lock the
        sponsor's account recorded before it, asked as the write path asks it
        (:func:`domain.database_lock.check_part_of_database_lock`). Verify's alone: the store's
        commit turn does not hold the sponsor's account.

        Raises:
            SignerNotAuthorised: scope ``site`` or ``study`` with no such database lock then.
        """
        signer = body.get("signer")
        signer_id = signer.get("user_id") if isinstance(signer, Mapping) else None
        actor = self.account_before(str(signer_id), position)
        site = self._sites.get(event.originator_id)
        data = body.get("data")
        scope = data.get("scope") if isinstance(data, Mapping) else None
        if signer_id == SYSTEM_USER or actor is None or site is None:
            return  # the server's own, or named by the attribution or stream checks
        try:
            sponsor = self.account_before(SPONSOR_ACCOUNT, position)
            check_part_of_database_lock(sponsor, str(body.get("study")), site, str(scope))
        except LockStepRefused as error:
            rule, module = "check_part_of_database_lock", "domain.database_lock"
            raise _refused(
                actor, event.kind(), event.recorded_at, rule, error, module=module
            ) from None


def check_signer_authorised(
    event: SignedAggregate.Event,
    body: Mapping[str, Any],
    account_of: Callable[[str], Account | None],
    site_of: Callable[[UUID], str | None],
) -> None:
    """Whether the person who signed ``event`` (its signed ``body``) was authorised to sign it,
    asked of ``account_of(user_id)``, their account as the log stands just before the event,
    and at the instant the event was recorded; ``site_of`` names a subject's site (from its
    screening). The one question both asked of a logged event by verify
    (:class:`AuthorityLedger`) and asked by the store as it commits a write
    (:func:`check_batch_authorised`): what the one admits, the other cannot refuse.

    Raises:
        SignerNotAuthorised: the signer's role, site, delegation or account did not allow
            this event when it was recorded.
    """
    signer = body.get("signer")
    signer_id = signer.get("user_id") if isinstance(signer, Mapping) else None
    if signer_id == SYSTEM_USER or isinstance(event, ObservedByServer):
        return  # the server's own act, under its own key
    actor = account_of(str(signer_id))
    if actor is None:
        return  # not attributable: the attribution check names it
    data = body.get("data")
    fields: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    kind, at = event.kind(), event.recorded_at
    if isinstance(event, Account.Event):
        user_id = event.stream.split("/", 1)[1]
        rule = ACCOUNT_CHANGE_CHECKS.get(kind)
        name = "check_may_administer" if rule is None else rule.__name__
        try:
            check_may_change_account(actor, user_id, kind, fields, at=at)
        except (NotPermitted, DelegationInvalid) as error:
            raise _refused(actor, kind, at, name, error) from None
        return
    if not isinstance(event, Subject.Event) or kind not in KINDS:
        return
    site = fields.get("site") if kind == SCREENED else site_of(event.originator_id)
    if not isinstance(site, str):
        return  # a subject never screened: the stream checks name its events
    try:
        check_may_write(actor, kind, site, str(body.get("study")), at=at)
    except (NotPermitted, UnknownStudy) as error:
        raise _refused(actor, kind, at, "check_may_write", error) from None


def check_batch_authorised(
    events: Sequence[SignedAggregate.Event],
    accounts: Mapping[str, Account],
    sites: Mapping[UUID, str],
) -> None:
    """Every event of a batch the store is about to append, asked as verify will ask it once
    appended: each signer's account as the log will stand just before the event (``accounts``,
    the signers' accounts as stored now, then the batch's own earlier account events), each
    subject's site (``sites``, then the batch's own screenings), at each event's recorded
    instant.

    Raises:
        SignerNotAuthorised: the first event of the batch its signer may not sign.
    """
    standing = dict(accounts)
    screened = dict(sites)
    for event in events:
        check_signer_authorised(event, event.authorship.body(), standing.get, screened.get)
        site = getattr(event, "site", None)
        if isinstance(event, Subject.Screened) and isinstance(site, str):
            screened.setdefault(event.originator_id, site)
        if isinstance(event, Account.Event):
            user_id = event.stream.split("/", 1)[1]
            before = standing.get(user_id)
            # An account handed over already changed by this batch is not changed twice.
            if before is not None and before.version < event.originator_version:
                standing[user_id] = event.mutate(copy.deepcopy(before))


def _refused(
    actor: Account,
    kind: str,
    at: Any,
    rule: str,
    error: Exception,
    *,
    module: str = "domain.permissions",
) -> SignerNotAuthorised:
    return SignerNotAuthorised(
        "%(user_id)s was not authorised to sign this %(kind)s when it was recorded at "
        "%(recorded_at)s (%(module)s.%(rule)s): %(error)s",
        rule=rule,
        user_id=actor.user_id,
        kind=kind,
        recorded_at=at.isoformat(),
        module=module,
        error=error,
    )
