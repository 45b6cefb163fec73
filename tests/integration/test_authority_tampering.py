"""An insider's event that the store would have refused is named by ``verify`` and by
``packet verify``: the signer was not authorised to sign it (``not-authorised``).

The insider holds the database and one ordinary person's real key. They make the event with the
aggregate's own command (so every rule of the subject or account holds), sign it with that key,
chain it to its stream's head and append it with its Merkle leaf and nodes
(:mod:`tests.insider`): the signature, the key's validity, the chain and the tree all hold, and
no checkpoint covered that place yet. Only the signer's authority, as their account stood when
the event was recorded, tells it from a write the store accepted. Each case runs on SQLite and
on PostgreSQL; the demonstration store and the legacy fixtures verifying clean are
test_demo_cohort.py's, test_replayed_events.py's and test_packet_published_before.py's.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from eventsourcing.persistence import StoredEvent

from domain.account import Role
from domain.subject import ABOUT_RECORDS
from infrastructure.application.commands import GrantRole, RevokeRole
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from tests.access.conftest import Clock, make_person, with_access
from tests.access.test_access_review import seen
from tests.access.test_subject_locks_api import LOCKED, Trial
from tests.cli_stores import sealtrail
from tests.conftest import STUDY, haemoglobin
from tests.e2e.conftest import SUBJECT
from tests.insider import append_event, forged_account_change, forged_record

RP101 = f"{STUDY}/{SUBJECT}"


@dataclass(frozen=True)
class Forged:
    """Where the insider's event landed, and the rule that refuses it."""

    position: int
    stream: str
    version: int
    rule: str
    module: str = "domain.permissions"


@pytest.fixture
def trial(store: Store) -> Trial:
    """RP-101 (entries 1-3) with RP's coordinator and investigator (not designated its
    principal investigator), RP's monitor and a sponsor data manager; the sponsor's packet key."""
    open_sponsor_account(store.administration, store.settings)
    return Trial(with_access(store, Clock()))


def appended(
    store: Store, stored: StoredEvent, stream: str, rule: str, module: str = "domain.permissions"
) -> Forged:
    position = append_event(store.settings.database_url, stored)
    return Forged(position, stream, stored.originator_version, rule, module)


def assert_named_by_verify_and_packet_verify(store: Store, forged: Forged) -> None:
    """``sealtrail verify`` exits 1 with exactly this ``not-authorised`` finding, naming the
    rule; the packet built after it (its checkpoint covers the event) names it too."""
    url = store.settings.database_url.render_as_string(hide_password=False)

    verified = sealtrail("verify", "--json", home=store.settings.home, url=url)

    assert verified.returncode == 1, verified.stdout + verified.stderr
    findings = json.loads(verified.stdout)["findings"]
    assert [(f["position"], f["stream"], f["version"], f["kind"]) for f in findings] == [
        (forged.position, forged.stream, forged.version, "not-authorised")
    ]
    assert f"{forged.module}.{forged.rule}" in findings[0]["detail"]

    report = verify_packet(build_packet(store, documents=False), redraw_documents=False)

    named = [(f.position, f.stream, f.version, f.kind) for f in report.findings]
    assert named == [(forged.position, forged.stream, forged.version, "not-authorised")]


# -- the attacks ----------------------------------------------------------------------------------


def test_an_unlock_signed_by_a_monitor_is_not_authorised(trial: Trial) -> None:
    """The unlock is countersigned by the site's investigator: a monitor signs no records."""
    trial.ready_to_lock()
    for kind, data in (("SubjectLocked", LOCKED), ("SubjectUnlockRequested", {"reason": "Hb"})):
        response = trial.site.submit(trial.manager, kind, data)
        assert response.status_code == 201, response.get_data(as_text=True)
    store = trial.store

    forged = appended(
        store,
        forged_record(store, trial.monitor, SUBJECT, "SubjectUnlocked", {"request": 7}),
        RP101,
        "check_may_write",
    )

    assert_named_by_verify_and_packet_verify(store, forged)


def test_a_subject_locked_as_part_of_its_site_s_lock_with_no_database_lock_is_not_authorised(
    trial: Trial,
) -> None:
    """A data manager may lock a subject, but scope 'site' says the site's database was
    locked: with no DatabaseLocked on the sponsor's account before it, the write path refuses
    it, and so does verify."""
    trial.ready_to_lock()
    store = trial.store
    data = {"scope": "site", "reason": "analysis"}

    stored = forged_record(store, trial.manager, SUBJECT, "SubjectLocked", data)
    forged = appended(
        store, stored, RP101, "check_part_of_database_lock", module="domain.database_lock"
    )

    assert_named_by_verify_and_packet_verify(store, forged)


@pytest.mark.requirement("P11-11.10g-2")
def test_a_casebook_signed_by_a_coordinator_is_not_authorised(trial: Trial) -> None:
    trial.leave_the_study()
    store = trial.store
    subject = trial.subject()
    data = {
        "milestone": "end_of_study",
        "state_hash": subject.chain_head,
        "entries": [
            {"entry": n, "record_hash": entry.record_hash}
            for n, entry in sorted(subject.entries.items())
            if entry.is_live and entry.kind not in ABOUT_RECORDS
        ],
    }

    stored = forged_record(
        store, trial.coordinator, SUBJECT, "CasebookSigned", data, meaning="responsibility"
    )
    forged = appended(store, stored, RP101, "check_may_write")

    assert_named_by_verify_and_packet_verify(store, forged)


def test_a_delegation_signed_by_an_investigator_who_is_not_the_site_s_principal_investigator(
    trial: Trial,
) -> None:
    store = trial.store
    delegate = trial.coordinator.user_id
    fields = {"site": "RP", "tasks": ["data_entry"], "starts_on": datetime(2011, 2, 14).date()}

    stored = forged_account_change(store, trial.investigator, delegate, "TasksDelegated", fields)
    forged = appended(store, stored, f"accounts/{delegate}", "check_may_delegate")

    assert_named_by_verify_and_packet_verify(store, forged)


@pytest.mark.requirement("P11-11.10g-2")
def test_a_record_of_another_site_s_subject_is_not_authorised(trial: Trial) -> None:
    store = trial.store
    elsewhere = make_person(store, "coord-sp", role=Role.SITE_COORDINATOR, sites=("SP",))

    stored = forged_record(store, elsewhere, SUBJECT, "BloodCountRecorded", haemoglobin("6.1"))
    forged = appended(store, stored, RP101, "check_may_write")

    assert_named_by_verify_and_packet_verify(store, forged)


def test_an_access_review_by_a_monitor_is_not_authorised(trial: Trial) -> None:
    """Administrators and the site's investigators review access; a monitor does not."""
    store = trial.store
    monitor = trial.monitor.user_id
    fields = {"accounts": seen(store, trial.coordinator.user_id), "changes": [], "site": "RP"}

    stored = forged_account_change(store, trial.monitor, monitor, "AccessReviewed", fields)
    forged = appended(store, stored, f"accounts/{monitor}", "check_may_review_access")

    assert_named_by_verify_and_packet_verify(store, forged)


def test_a_record_signed_after_the_signer_s_role_lapsed_is_not_authorised(trial: Trial) -> None:
    """The role is asked of at the instant the event was recorded: granted ``until`` an
    instant, it is no longer in force from then, without another event."""
    store = trial.store
    coordinator = trial.coordinator.user_id
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    reason = "contract ends"
    store.administration.revoke_role(
        RevokeRole(user_id=coordinator, role=Role.SITE_COORDINATOR, reason=reason)
    )
    store.administration.grant_role(
        GrantRole(user_id=coordinator, role=Role.SITE_COORDINATOR, until=until)
    )
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.1)

    stored = forged_record(store, trial.coordinator, SUBJECT, "BloodCountRecorded", haemoglobin())
    forged = appended(store, stored, RP101, "check_may_write")

    assert_named_by_verify_and_packet_verify(store, forged)


@pytest.mark.requirement("P11-11.10g-2")
def test_what_a_person_signed_while_authorised_stays_authorised_after_their_role_ends(
    trial: Trial,
) -> None:
    """Authority is asked of the account as it stood when each event was recorded, not as the
    log leaves it: the coordinator's records before the revocation verify clean."""
    store = trial.store
    store.administration.revoke_role(
        RevokeRole(user_id=trial.coordinator.user_id, role=Role.SITE_COORDINATOR, reason="left")
    )

    report = store.verifier(workers=1).verify()
    packet = verify_packet(build_packet(store, documents=False), redraw_documents=False)

    assert report.findings == []
    assert packet.findings == []
