"""What the store acknowledges, its own verify finds authorised: authority is asked again at commit.

A write's permission check runs before its save; another process may meanwhile revoke the
signer's role, take a site away, or the role may lapse before the event's recorded instant. The
store asks the signer's authority once more inside the insert's transaction, with the write turn
held (nothing else can be appended), of the account as the log then stands and at the event's
recorded instant: the very question ``sealtrail verify`` asks (:mod:`domain.authority`).

Each test runs the write path's own checks, lets the other process change the account (a second
store opened on the same database, with nothing cached in common), then saves as the write path
does. Each runs on SQLite and on PostgreSQL; the same race between real processes is
tests/resilience/test_authority_race.py's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from api.schemas.submissions import submission_from
from domain.account import Account, Role
from domain.authorship import authored
from domain.errors import SignerNotAuthorised
from domain.permissions import check_may_change_account, check_may_write
from domain.protocol import protocol_for
from domain.subject import Subject
from infrastructure.application.commands import (
    AssignSite,
    GrantRole,
    RevokeRole,
    UnassignSite,
)
from infrastructure.application.guards import admit, check_may_reach
from infrastructure.bootstrap import Store, open_store
from infrastructure.store.event_store import KNOWN_ACCOUNTS
from tests.access.conftest import Admin, make_admin
from tests.cli_stores import sealtrail
from tests.conftest import STUDY, Person, screening
from tests.resilience.harness import log_positions

Change = Callable[[Store, Admin], None]
"""A change of coord1's account, made by another process's store."""


def revoke_the_role(other: Store, admin: Admin) -> None:
    other.administration.revoke_role(
        RevokeRole(user_id="coord1", role=Role.SITE_COORDINATOR, reason="left the trial"),
        by=admin.signatory,
    )


def take_the_site_away(other: Store, admin: Admin) -> None:
    other.administration.unassign_site(
        UnassignSite(user_id="coord1", site="RP", reason="moved to SP"), by=admin.signatory
    )


@pytest.fixture
def admin(store: Store) -> Admin:
    return make_admin(store)


def by_another_process(store: Store, change: Change, admin: Admin) -> None:
    """``change`` made through a store of its own on the same database."""
    other = open_store(store.settings)
    try:
        change(other, admin)
    finally:
        other.close()


def checked_screening(store: Store, person: Person, code: str) -> tuple[Subject, Account]:
    """A signed screening through the write path's guard sequence (every check passed), and the
    signer's account as that sequence read it: the write, ready to save."""
    body = person.body(code, "Screened", screening(), version=1)
    submission = submission_from(body, person.sign(body))
    actor = store.app.account(person.user_id)
    check_may_reach(actor, None, submission)
    return admit(actor, None, submission), actor


def save(store: Store, subject: Subject, actor: Account) -> None:
    """The write path's save: the signer's account handed over as it was checked."""
    store.app.save(subject, **{KNOWN_ACCOUNTS: {actor.user_id: actor}})


def assert_verify_is_clean(store: Store) -> None:
    url = store.settings.database_url.render_as_string(hide_password=False)
    verified = sealtrail("verify", "--json", home=store.settings.home, url=url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(verified.stdout)["findings"] == []


@pytest.mark.requirement("P11-11.10g-1")
@pytest.mark.parametrize("change", [revoke_the_role, take_the_site_away])
def test_a_write_whose_signer_lost_the_right_between_its_check_and_its_commit_is_refused(
    store: Store, admin: Admin, coord1: Person, change: Change
) -> None:
    subject, actor = checked_screening(store, coord1, "RP-301")
    by_another_process(store, change, admin)
    positions = log_positions(store)

    with pytest.raises(SignerNotAuthorised, match=r"check_may_write.*nothing was recorded"):
        save(store, subject, actor)

    assert log_positions(store) == positions
    assert store.app.find_subject(f"{STUDY}/RP-301") is None
    assert_verify_is_clean(store)


def test_a_change_that_leaves_the_signer_s_right_whole_lets_the_write_in(
    store: Store, admin: Admin, coord1: Person
) -> None:
    """The account changed between check and commit, but not so as to refuse the write: it is
    asked again of the account as it stands, and admitted."""
    subject, actor = checked_screening(store, coord1, "RP-302")

    def another_site(other: Store, admin: Admin) -> None:
        other.administration.assign_site(
            AssignSite(user_id="coord1", site="SP"), by=admin.signatory
        )

    by_another_process(store, another_site, admin)
    save(store, subject, actor)

    assert store.app.find_subject(f"{STUDY}/RP-302") is not None
    assert_verify_is_clean(store)


def test_a_role_lapsing_between_the_check_and_the_event_s_recorded_instant_refuses_the_write(
    store: Store, admin: Admin, coord1: Person
) -> None:
    """The check passes before the role's end; the event is recorded after it. The write is
    refused, at commit, as verify would name it (asked at the recorded instant)."""
    store.administration.revoke_role(
        RevokeRole(user_id="coord1", role=Role.SITE_COORDINATOR, reason="renewed with an end"),
        by=admin.signatory,
    )
    end = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    store.administration.grant_role(
        GrantRole(user_id="coord1", role=Role.SITE_COORDINATOR, until=end), by=admin.signatory
    )
    body = coord1.body("RP-303", "Screened", screening(), version=1)
    submission = submission_from(body, coord1.sign(body))
    actor = store.app.account("coord1")
    check_may_reach(actor, None, submission)
    check_may_write(actor, "Screened", "RP", STUDY)  # before the end: in force
    time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 0.05)
    with authored(submission.authorship):
        subject = Subject.screen(
            protocol=protocol_for(STUDY), subject_code="RP-303", **submission.fields
        )
    assert subject.created_on >= end
    positions = log_positions(store)

    with pytest.raises(SignerNotAuthorised, match="check_may_write"):
        save(store, subject, actor)

    assert log_positions(store) == positions
    assert store.app.find_subject(f"{STUDY}/RP-303") is None
    assert_verify_is_clean(store)


def test_an_account_change_whose_administrator_lost_the_role_before_its_commit_is_refused(
    store: Store, admin: Admin, coord1: Person
) -> None:
    """The administrator's grant passed its check; another administrator took the role away
    before it was committed: the account change is refused, as verify would name it."""
    changes = store.administration.changes
    actions = changes.sign("coord1", [("SiteAssigned", {"site": "SP"})], admin.signatory)
    actor = store.app.account(admin.user_id)
    for action in actions:
        check_may_change_account(actor, action.user_id, action.kind, action.fields)
    other_admin = make_admin(store, "admin2")

    def revoke_admin(other: Store, _: Admin) -> None:
        other.administration.revoke_role(
            RevokeRole(user_id=admin.user_id, role=Role.ADMINISTRATOR, reason="left"),
            by=other_admin.signatory,
        )

    by_another_process(store, revoke_admin, admin)
    positions = log_positions(store)

    with pytest.raises(SignerNotAuthorised, match="check_may_administer"):
        changes.apply(actions, actor=actor)

    assert log_positions(store) == positions
    assert store.app.account("coord1").sites == ("RP",)
    assert_verify_is_clean(store)
