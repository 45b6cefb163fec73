"""A site's or the study's database lock on the sponsor's account: who records it, the rules
of locking and reopening, and the screenings it refuses."""

from __future__ import annotations

import pytest

from domain.account import SPONSOR_ACCOUNT, Account, Role
from domain.authorship import authored
from domain.database_lock import check_screening_open
from domain.errors import LockStepRefused, NotPermitted, ReasonNotStated, ScreeningClosed
from domain.permissions import check_may_lock_database
from projections.lock_state import lock_state
from tests.access.test_permission_matrix import PLACEHOLDER, person_account

STUDY = "NCT01297972"


def sponsor() -> Account:
    with authored(PLACEHOLDER):
        return Account.open(user_id=SPONSOR_ACCOUNT, printed_name="Sponsor")


@pytest.mark.requirement("E6-4.2.6-1")
def test_a_site_lock_closes_screening_there_and_a_study_lock_everywhere() -> None:
    account = sponsor()
    with authored(PLACEHOLDER):
        account.lock_database(study=STUDY, site="RP", reason="analysis of RP")
    check_screening_open(account, STUDY, "SP")
    with pytest.raises(ScreeningClosed, match="NCT01297972/RP is locked"):
        check_screening_open(account, STUDY, "RP")
    with authored(PLACEHOLDER):
        account.lock_database(study=STUDY, reason="database lock")
    with pytest.raises(ScreeningClosed, match="NCT01297972 is locked"):
        check_screening_open(account, STUDY, "SP")
    check_screening_open(None, STUDY, "RP")  # a store without the sponsor's account locks none


def test_a_reopened_site_screens_again() -> None:
    account = sponsor()
    with authored(PLACEHOLDER):
        account.lock_database(study=STUDY, site="RP", reason="analysis")
        account.reopen_database(study=STUDY, site="RP", reason="a late subject of the protocol")
    check_screening_open(account, STUDY, "RP")
    assert account.database_locks == ()


@pytest.mark.parametrize(
    ("locked", "reopen", "reason", "detail"),
    [
        (True, False, "again", "locked already"),
        (False, True, "why", "is not locked"),
        (False, False, " ", "a database lock says why"),
        (True, True, "", "a database reopening says why"),
        (False, False, "\u200b", "a database lock says why"),
        (True, True, "\u2060", "a database reopening says why"),
    ],
)
def test_a_lock_or_reopening_out_of_turn_or_without_a_reason_is_refused(
    locked: bool, reopen: bool, reason: str, detail: str
) -> None:
    account = sponsor()
    with authored(PLACEHOLDER):
        if locked:
            account.lock_database(study=STUDY, site="RP", reason="analysis")
        step = account.reopen_database if reopen else account.lock_database
        with pytest.raises(LockStepRefused, match=detail):
            step(study=STUDY, site="RP", reason=reason)


def test_only_a_data_manager_locks_a_database_and_only_on_the_sponsors_account() -> None:
    manager = person_account(Role.SPONSOR_DATA_MANAGER, sites=())
    check_may_lock_database(manager, SPONSOR_ACCOUNT, {"study": STUDY})
    with pytest.raises(NotPermitted, match="on the sponsor's account"):
        check_may_lock_database(manager, "coord1", {"study": STUDY})
    for role in (Role.SITE_COORDINATOR, Role.INVESTIGATOR, Role.ADMINISTRATOR):
        with pytest.raises(NotPermitted, match="does not freeze, lock and unlock subjects"):
            check_may_lock_database(person_account(role), SPONSOR_ACCOUNT, {"study": STUDY})


def test_a_site_copy_states_its_own_sites_and_the_studys_lock_only() -> None:
    account = sponsor()
    with authored(PLACEHOLDER):
        account.lock_database(study=STUDY, site="SP", reason="analysis of SP")
        account.lock_database(study=STUDY, site="RP", reason="analysis of RP")
    accounts = {SPONSOR_ACCOUNT: account}

    whole = lock_state(STUDY, {}, accounts)
    copy = lock_state(STUDY, {}, accounts, site="RP")

    assert whole is not None and whole["databases_locked"] == ["NCT01297972/RP", "NCT01297972/SP"]
    assert copy is not None and copy["databases_locked"] == ["NCT01297972/RP"]
    assert lock_state(STUDY, {}, {}) is None


@pytest.mark.parametrize("reason", ["", " ", "\u200b", "\u2060\u3164"])
def test_an_account_change_that_states_no_reason_is_refused(reason: str) -> None:
    account = person_account(Role.SITE_COORDINATOR, sites=("RP",))
    with authored(PLACEHOLDER):
        for change in (
            lambda: account.revoke_role(role=Role.SITE_COORDINATOR, reason=reason),
            lambda: account.unassign_site(site="RP", reason=reason),
            lambda: account.lock(reason=reason, failed_attempts=0),
        ):
            with pytest.raises(ReasonNotStated):
                change()
    assert (account.role, account.sites, account.version) == (
        Role.SITE_COORDINATOR,
        ("RP",),
        person_account(Role.SITE_COORDINATOR, sites=("RP",)).version,
    )
