"""The delegation of authority log: who delegates which task to whom, and what a write needs
from the protocol's date (issue 18, point 1). Real SQLite stores and real keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from domain.account import Role
from domain.delegation import DelegationRule, Task
from domain.errors import (
    DelegationInvalid,
    DelegationNotInForce,
    NotDelegated,
    NotPermitted,
    ProtocolDefinitionInvalid,
)
from domain.permissions import check_delegated, task_of
from domain.protocol import PROTOCOLS, load_protocol
from domain.subject import Subject
from infrastructure.application.commands import DelegateTasks, EndDelegation, Signatory
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from tests.access.conftest import Admin, make_admin
from tests.conftest import STUDY, Person, consent, open_person, screening

TODAY = datetime.now(UTC).date()
RULE = DelegationRule(required_from=TODAY - timedelta(days=1))
"""A protocol that requires delegations from yesterday."""
PROTOCOLS_DIR = Path(__file__).resolve().parents[2] / "domain" / "protocols"


@pytest.fixture
def site_rp(sqlite_store: Store) -> tuple[Store, Admin, Person, Person]:
    """Site RP: an administrator, an investigator designated its principal investigator, and
    a coordinator."""
    admin = make_admin(sqlite_store)
    pi = open_person(sqlite_store, "inv1", printed_name="Rita Lima", role=Role.INVESTIGATOR)
    coordinator = open_person(sqlite_store, "coord1")
    designate(sqlite_store, admin, pi, "RP")
    return sqlite_store, admin, pi, coordinator


def designate(store: Store, admin: Admin, investigator: Person, site: str) -> None:
    command = DelegateTasks(investigator.user_id, site, ("principal_investigator",), TODAY)
    store.administration.delegate_tasks(command, by=admin.signatory)


def signatory(person: Person) -> Signatory:
    return Signatory(person.user_id, person.printed_name, person.private_key)


def delegate(store: Store, by: Person, to: str, *tasks: str, **period: date | None) -> None:
    command = DelegateTasks(to, "RP", tasks, period.get("starts_on", TODAY), period.get("ends_on"))
    store.administration.delegate_tasks(command, by=signatory(by))


@pytest.mark.requirement("E6-2.3-1")
def test_the_principal_investigator_delegates_and_the_account_holds_the_delegation(
    site_rp: tuple[Store, Admin, Person, Person],
) -> None:
    store, _, pi, _ = site_rp
    delegate(store, pi, "coord1", "data_entry", "consent", ends_on=TODAY + timedelta(days=30))
    account = store.app.account("coord1")
    assert account.is_delegated(Task.CONSENT, "RP", TODAY)
    assert not account.is_delegated(Task.AE_ASSESSMENT, "RP", TODAY)
    assert not account.is_delegated(Task.DATA_ENTRY, "RP", TODAY + timedelta(days=31))
    held = account.delegation_at("RP")
    assert held is not None and held.delegated_by == "inv1"
    store.administration.end_delegation(
        EndDelegation("coord1", "RP", "left the study team"), by=signatory(pi)
    )
    assert not store.app.account("coord1").is_delegated(Task.DATA_ENTRY, "RP", TODAY)
    assert store.app.account("inv1").is_principal_investigator("RP", TODAY)


@pytest.mark.parametrize(
    ("signer", "to", "tasks", "refusal"),
    [
        ("coord1", "coord2", ("data_entry",), NotPermitted),  # a coordinator delegates
        ("inv2", "coord1", ("data_entry",), NotPermitted),  # another site's investigator
        ("inv3", "coord1", ("data_entry",), NotPermitted),  # an investigator, not the PI
        ("inv1", "inv1", ("signing",), NotPermitted),  # to oneself
        ("inv1", "coord1", ("surgery",), DelegationInvalid),  # no task of the vocabulary
        ("inv1", "coord1", (), DelegationInvalid),  # no task
        ("inv1", "coord1", ("data_entry", "data_entry"), DelegationInvalid),
        ("inv1", "inv3", ("principal_investigator",), DelegationInvalid),  # a PI makes no PI
        ("admin1", "coord1", ("data_entry",), DelegationInvalid),  # an admin delegates no task
        ("admin1", "admin1", ("principal_investigator",), NotPermitted),
    ],
)
def test_a_delegation_nobody_may_sign_is_refused_and_changes_nothing(
    site_rp: tuple[Store, Admin, Person, Person],
    signer: str,
    to: str,
    tasks: tuple[str, ...],
    refusal: type[Exception],
) -> None:
    store, admin, pi, coordinator = site_rp
    people = {
        "inv1": pi,
        "coord1": coordinator,
        "admin1": admin,
        "coord2": open_person(store, "coord2"),
        "inv2": open_person(store, "inv2", role=Role.INVESTIGATOR, sites=("SP",)),
        "inv3": open_person(store, "inv3", role=Role.INVESTIGATOR),
    }
    designate(store, admin, people["inv2"], "SP")
    before = store.app.account(to).version
    with pytest.raises(refusal):
        delegate(store, people[signer], to, *tasks)
    assert store.app.account(to).version == before


def test_a_delegation_at_a_site_the_delegate_does_not_act_for_is_refused(
    site_rp: tuple[Store, Admin, Person, Person],
) -> None:
    store, _, pi, _ = site_rp
    open_person(store, "coord9", sites=("SP",))
    with pytest.raises(DelegationInvalid, match="does not act for site 'RP'"):
        delegate(store, pi, "coord9", "data_entry")
    assert store.app.account("coord9").delegations == ()


@pytest.mark.requirement("E6-2.3-1")
def test_a_sub_investigator_signs_only_under_a_delegation_of_signing(
    site_rp: tuple[Store, Admin, Person, Person],
) -> None:
    store, _, pi, _ = site_rp
    open_person(store, "inv3", role=Role.INVESTIGATOR)
    with pytest.raises(NotDelegated, match="signing"):
        check_delegated(store.app.account("inv3"), Task.SIGNING, "RP", RULE, TODAY)
    delegate(store, pi, "inv3", "signing")
    check_delegated(store.app.account("inv3"), Task.SIGNING, "RP", RULE, TODAY)


def test_a_period_that_ends_before_it_starts_is_refused(
    site_rp: tuple[Store, Admin, Person, Person],
) -> None:
    store, _, pi, _ = site_rp
    with pytest.raises(DelegationInvalid, match="before it starts"):
        delegate(store, pi, "coord1", "data_entry", ends_on=TODAY - timedelta(days=1))
    assert store.app.account("coord1").delegations == ()


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "said"),
    [
        (date(1, 1, 1), date(9999, 12, 31), "starts on or after 1970-01-01"),
        (date(1969, 12, 31), None, "starts on or after 1970-01-01"),
        (TODAY, date(9999, 12, 31), "at most 100 years"),
    ],
)
def test_a_period_beyond_any_working_life_is_refused_and_records_nothing(
    site_rp: tuple[Store, Admin, Person, Person],
    starts_on: date,
    ends_on: date | None,
    said: str,
) -> None:
    store, _, pi, _ = site_rp
    before = len(store.reads.account_history("coord1"))
    with pytest.raises(DelegationInvalid, match=said):
        delegate(store, pi, "coord1", "data_entry", starts_on=starts_on, ends_on=ends_on)
    assert len(store.reads.account_history("coord1")) == before


def test_ending_a_delegation_not_in_force_or_ones_own_is_refused(
    site_rp: tuple[Store, Admin, Person, Person],
) -> None:
    store, _, pi, coordinator = site_rp
    with pytest.raises(DelegationNotInForce):
        store.administration.end_delegation(EndDelegation("coord1", "RP", "x"), by=signatory(pi))
    with pytest.raises(NotPermitted, match="themselves"):
        store.administration.end_delegation(EndDelegation("inv1", "RP", "x"), by=signatory(pi))
    delegate(store, pi, "coord1", "data_entry")
    with pytest.raises(NotPermitted):
        store.administration.end_delegation(
            EndDelegation("coord1", "RP", "x"), by=signatory(coordinator)
        )


@pytest.mark.requirement("E6-2.3-1")
def test_after_the_protocols_date_a_write_needs_a_delegation_of_its_task(
    site_rp: tuple[Store, Admin, Person, Person],
) -> None:
    store, _, pi, _ = site_rp
    coordinator = store.app.account("coord1")
    with pytest.raises(NotDelegated, match="data_entry at site 'RP'"):
        check_delegated(coordinator, Task.DATA_ENTRY, "RP", RULE, TODAY)
    check_delegated(coordinator, Task.DATA_ENTRY, "RP", DelegationRule(), TODAY)
    check_delegated(coordinator, Task.DATA_ENTRY, "RP", RULE, TODAY - timedelta(days=2))
    check_delegated(store.app.account("inv1"), Task.SIGNING, "RP", RULE, TODAY)
    delegate(store, pi, "coord1", "data_entry")
    coordinator = store.app.account("coord1")
    check_delegated(coordinator, Task.DATA_ENTRY, "RP", RULE, TODAY)
    with pytest.raises(NotDelegated):
        check_delegated(coordinator, Task.CONSENT, "RP", RULE, TODAY)
    assert task_of(Subject.ConsentObtained.kind()) is Task.CONSENT
    assert task_of(Subject.RecordsSigned.kind()) is Task.SIGNING


@pytest.mark.requirement("E6-2.3-1")
def test_an_undelegated_coordinators_write_is_refused_once_the_protocol_requires_it(
    site_rp: tuple[Store, Admin, Person, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, pi, coordinator = site_rp
    monkeypatch.setitem(PROTOCOLS, STUDY, replace(PROTOCOLS[STUDY], delegation=RULE))
    with pytest.raises(NotDelegated):
        coordinator.record(store, "RP-01", Subject.Screened.kind(), screening())
    assert store.app.find_subject(f"{STUDY}/RP-01") is None
    delegate(store, pi, "coord1", "data_entry")
    coordinator.record(store, "RP-01", Subject.Screened.kind(), screening())
    with pytest.raises(NotDelegated, match="consent"):
        coordinator.record(store, "RP-01", Subject.ConsentObtained.kind(), consent())


def test_the_protocol_file_states_the_date_or_leaves_it_out() -> None:
    assert PROTOCOLS[STUDY].delegation == DelegationRule()
    text = (PROTOCOLS_DIR / f"{STUDY}.toml").read_text(encoding="utf-8")
    dated = load_protocol(
        text.replace("[delegation]", '[delegation]\nrequired_from = "2027-01-01"')
    )
    assert dated.delegation.required_from == date(2027, 1, 1)
    with pytest.raises(ProtocolDefinitionInvalid, match=r"delegation\.required_from"):
        load_protocol(text.replace("[delegation]", '[delegation]\nrequired_from = "soon"'))


def test_verify_and_packet_verify_accept_a_store_with_delegations(
    site_rp: tuple[Store, Admin, Person, Person],
) -> None:
    store, _, pi, _ = site_rp
    delegate(store, pi, "coord1", "data_entry", ends_on=TODAY + timedelta(days=9))
    store.administration.end_delegation(EndDelegation("coord1", "RP", "rotated"), by=signatory(pi))
    delegate(store, pi, "coord1", "consent")
    assert store.verifier(workers=1).verify().findings == []
    open_sponsor_account(store.administration, store.settings)
    assert verify_packet(build_packet(store, documents=False)).findings == []
    history = store.app.account("coord1").delegations
    assert [(d.tasks, d.end_reason) for d in history] == [
        ((Task.DATA_ENTRY,), "rotated"),
        ((Task.CONSENT,), None),
    ]
