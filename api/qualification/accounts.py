"""The PQ's synthetic staff: accounts opened on the store by the administrator who runs the PQ,
each change signed with the administrator's key, as ``sealtrail user add`` opens them.

Each account is named ``pq.<role>`` and its printed name says it is synthetic; it acts for the
PQ's own site, ``PQ``, which no real site is called, so nothing of the PQ mixes with a real
site's subjects, delegation log or reports. Each run makes new keys, kept in the run's folder
(mode 0600), and a one-time password per account, which the scenario changes at first use
through the API as a person does. Once the scenario is over the accounts are locked
(:func:`lock_pq_staff`), so that no one signs in as them with the keys left in the run's
folder; a later run unlocks them, registers its own keys and issues new one-time passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from api.demonstration.delegation import DELEGATED, DELEGATED_FROM
from api.demonstration.plans import COORDINATOR, DATA_MANAGER, INVESTIGATOR
from api.demonstration.staff import Staff
from domain.account import Role
from infrastructure.application.commands import (
    DelegateTasks,
    LockAccount,
    RegisterKey,
    ResetPassword,
    Signatory,
    Training,
    UnlockAccount,
)
from infrastructure.bootstrap import Store
from signatures.keys import generate_private_key, private_key_to_pem, public_key_to_text

PQ_SITE = "PQ"
"""The PQ's own site: no real site is called so (real subject codes start with their site's)."""

PQ_STAFF: dict[str, Staff] = {
    COORDINATOR: Staff(
        "pq.coordinator", "PQ Coordinator (synthetic)", Role.SITE_COORDINATOR, (PQ_SITE,)
    ),
    INVESTIGATOR: Staff(
        "pq.investigator", "PQ Investigator (synthetic)", Role.INVESTIGATOR, (PQ_SITE,)
    ),
    # The sponsor's: builds the packet, at every site, assigned to none.
    DATA_MANAGER: Staff(
        "pq.data_manager", "PQ Data Manager (synthetic)", Role.SPONSOR_DATA_MANAGER, ()
    ),
}
PQ_COURSE = "GCP and sealtrail data entry (synthetic performance qualification account)"
"""Attested as the accounts are opened, dated the day of the run (:func:`pq_training`): a role
is in force only once trained for (11.10(i)), and a synthetic account's training is attested
as what it is, today's briefing for the PQ, never backdated to the clinical dates its subject
borrows from the demonstration."""


def pq_training(today: date) -> Training:
    """The PQ staff's training, attested as completed ``today``."""
    return Training(PQ_COURSE, today)


LOCKED_BECAUSE = "performance qualification run finished: synthetic account not in use"
UNLOCKED_BECAUSE = "performance qualification run: synthetic account in use again"


@dataclass(frozen=True)
class PqPerson:
    """One of the PQ's staff as this run made them: their key file and one-time password."""

    staff: Staff
    key_file: Path
    one_time_password: str


def open_pq_staff(store: Store, administrator: Signatory, keys: Path) -> dict[str, PqPerson]:
    """Open (or, on a later run, re-key) each of the PQ's staff, signed by ``administrator``,
    and the PQ site's delegation log: its principal investigator designated by the
    administrator, the coordinator's tasks delegated by the investigator.

    Raises:
        DomainError: the administrator may not (a wrong key, not an administrator).
    """
    keys.mkdir(mode=0o700, exist_ok=True)
    made: dict[str, PqPerson] = {}
    signatories: dict[str, Signatory] = {}
    for duty, staff in PQ_STAFF.items():
        private_key = generate_private_key()
        key_file = keys / f"{staff.user_id}.pem"
        # Made private before the key is written (11.300(e)); a key of an earlier run is replaced,
        # its account given this run's key as well.
        key_file.unlink(missing_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_bytes(private_key_to_pem(private_key))
        public_key = public_key_to_text(private_key.public_key())
        account = store.app.find_account(staff.user_id)
        if account is None:
            password = store.administration.open_account(
                staff.opening(pq_training(date.today()), public_key, one_time_password=True),
                by=administrator,
            )
        else:
            if account.locked:
                store.administration.unlock_account(
                    UnlockAccount(user_id=staff.user_id, reason=UNLOCKED_BECAUSE), by=administrator
                )
            store.administration.register_key(
                RegisterKey(user_id=staff.user_id, public_key=public_key), by=administrator
            )
            password = store.administration.reset_password(
                ResetPassword(staff.user_id), by=administrator
            )
        assert password is not None  # a one-time password was asked for
        made[duty] = PqPerson(staff, key_file, password)
        signatories[duty] = Signatory(staff.user_id, staff.printed_name, private_key)
    _delegate(store, administrator, signatories[INVESTIGATOR], PQ_STAFF[COORDINATOR].user_id)
    return made


def lock_pq_staff(store: Store, administrator: Signatory) -> list[str]:
    """Lock the PQ's accounts once the scenario is over, signed by ``administrator``; the ids
    locked (an account already locked is left as it is)."""
    locked = []
    for staff in PQ_STAFF.values():
        account = store.app.find_account(staff.user_id)
        if account is not None and not account.locked:
            store.administration.lock_account(
                LockAccount(user_id=staff.user_id, reason=LOCKED_BECAUSE), by=administrator
            )
            locked.append(staff.user_id)
    return locked


def _delegate(
    store: Store, administrator: Signatory, investigator: Signatory, coordinator: str
) -> None:
    """The PQ site's designation and delegation, where the store does not show them yet."""
    if store.app.account(investigator.user_id).delegation_at(PQ_SITE) is None:
        designation = DelegateTasks(
            investigator.user_id, PQ_SITE, ("principal_investigator",), DELEGATED_FROM
        )
        store.administration.delegate_tasks(designation, by=administrator)
    if store.app.account(coordinator).delegation_at(PQ_SITE) is None:
        delegation = DelegateTasks(coordinator, PQ_SITE, DELEGATED, DELEGATED_FROM)
        store.administration.delegate_tasks(delegation, by=investigator)
