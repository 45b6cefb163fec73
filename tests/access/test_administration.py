"""Identity as signed events: each change of access, signed by the administrator who made it.

Over the API an administrator sends signed bodies, like a site's signed events; the store
checks the signature, the key and the role before recording anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from api.schemas.accounts import ACCOUNT_DATA_SCHEMAS
from domain.account import ACCOUNT_EVENT_KINDS, Account, Role
from domain.errors import UserIdMalformed
from infrastructure.application.commands import (
    AssignSite,
    GrantRole,
    OpenAccount,
    RegisterKey,
    RevokeKey,
    RevokeRole,
    Training,
    UnassignSite,
)
from infrastructure.bootstrap import Store
from infrastructure.errors import AccountExists, AccountNotFound, AdministrationMalformed
from signatures.keys import public_key_from_text
from signatures.receipts import verify_receipt
from tests.access.conftest import (
    TRAINING,
    Admin,
    administer,
    assert_problem,
    bearer,
    make_admin,
    make_person,
    new_key,
    token_for,
)
from tests.conftest import Person, screening
from tests.e2e.conftest import Site


def open_events(admin: Admin, user_id: str, role: str = "site_coordinator") -> list[Any]:
    return [
        admin.signed(user_id, "Opened", {"printed_name": "Ana Souza"}),
        admin.signed(user_id, "RoleGranted", {"role": role}, after=1),
        admin.signed(user_id, "SiteAssigned", {"site": "RP"}, after=2),
        admin.signed(
            user_id, "PasswordChanged", {"changed_by": admin.user_id, "temporary": True}, after=3
        ),
    ]


def test_an_administrator_opens_an_account_over_the_api_with_signed_events(
    site_client: Site, admin: Admin
) -> None:
    response = administer(site_client, admin, *open_events(admin, "coord1"))

    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    server_key = public_key_from_text(
        site_client.client.get("/v1/server-key").get_json()["public_key"]
    )
    for receipt in answer["receipts"]:
        verify_receipt(server_key, receipt)
    assert [r["kind"] for r in answer["receipts"]] == [
        "Opened",
        "RoleGranted",
        "SiteAssigned",
        "PasswordChanged",
    ]
    assert_problem(
        token_for(site_client, "coord1", answer["one_time_password"]),
        403,
        title="Password change required",
    )
    account = site_client.store.app.account("coord1")
    assert (account.role, account.effective_role, account.sites) == (
        Role.SITE_COORDINATOR,
        None,
        ("RP",),
    )


@pytest.mark.requirement("P11-11.10d-2")
def test_no_role_takes_effect_before_training_is_attested(site_client: Site, admin: Admin) -> None:
    store = site_client.store
    administer(site_client, admin, *open_events(admin, "coord1"))
    private_key, public_key, _ = new_key()
    store.administration.register_key(
        RegisterKey(user_id="coord1", public_key=public_key), by=admin.signatory
    )
    store.credentials.set_password("coord1", "coordinator passphrase")
    person = Person("coord1", "Ana Souza", private_key, "coordinator passphrase", store)

    before = site_client.submit(person, "Screened", screening(), subject="RP-201")
    trained = administer(
        site_client,
        admin,
        admin.signed(
            "coord1",
            "TrainingAttested",
            {"role": "site_coordinator", "course": "GCP", "completed_on": "2011-01-10"},
        ),
    )
    after = site_client.submit(person, "Screened", screening(), subject="RP-201")

    assert_problem(before, 403, detail="awaits training attestation")
    assert trained.status_code == 201
    assert after.status_code == 201, after.get_data(as_text=True)


@pytest.mark.requirement("E6-4.2.2-1")
def test_the_history_shows_who_had_which_access_when_and_who_granted_it(
    site_client: Site, admin: Admin
) -> None:
    store = site_client.store
    make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    store.administration.assign_site(AssignSite(user_id="coord1", site="SP"), by=admin.signatory)
    store.administration.unassign_site(
        UnassignSite(user_id="coord1", site="RP", reason="moved"), by=admin.signatory
    )
    store.administration.revoke_role(
        RevokeRole(user_id="coord1", role=Role.SITE_COORDINATOR, reason="promoted"),
        by=admin.signatory,
    )
    store.administration.grant_role(
        GrantRole(user_id="coord1", role=Role.INVESTIGATOR), by=admin.signatory
    )

    history = site_client.client.get(
        "/v1/accounts/coord1/history", headers=bearer(site_client, admin)
    ).get_json()

    assert [(h["kind"], h["signed_by"]) for h in history] == [
        ("Opened", "system"),
        ("RoleGranted", "system"),
        ("SiteAssigned", "system"),
        ("TrainingAttested", "system"),
        ("KeyRegistered", "system"),
        ("SiteAssigned", "admin1"),
        ("SiteUnassigned", "admin1"),
        ("RoleRevoked", "admin1"),
        ("RoleGranted", "admin1"),
    ]
    assert history[-2]["data"] == {"role": "site_coordinator", "reason": "promoted"}
    assert all(h["recorded_at"].endswith("Z") for h in history)
    account = store.app.account("coord1")
    assert (account.role, account.effective_role, account.sites) == (
        Role.INVESTIGATOR,
        None,  # trained as a coordinator, not yet as an investigator
        ("SP",),
    )
    assert store.verifier(workers=1).verify().ok


@pytest.mark.requirement("P11-11.10d-2")
def test_a_revoked_role_stops_access_at_once(site_client: Site, admin: Admin) -> None:
    monitor = make_person(site_client.store, "mon1", role=Role.MONITOR, sites=("RP",))
    headers = bearer(site_client, monitor)
    before = site_client.client.get("/v1/study/source-verification?site=RP", headers=headers)
    assert before.status_code == 200, before.get_data(as_text=True)

    site_client.store.administration.revoke_role(
        RevokeRole(user_id="mon1", role=Role.MONITOR, reason="left"), by=admin.signatory
    )
    response = site_client.client.get("/v1/study/source-verification?site=RP", headers=headers)

    assert_problem(response, 403, detail="has no role")


@pytest.mark.requirement("P11-11.100a-1")
def test_a_user_id_is_never_reused(site_client: Site, admin: Admin) -> None:
    first = administer(site_client, admin, *open_events(admin, "coord1"))
    again = administer(
        site_client, admin, admin.signed("coord1", "Opened", {"printed_name": "Bia"})
    )

    assert first.status_code == 201
    assert_problem(again, 409, title="Account exists", detail="never reused")


@pytest.mark.parametrize("user_id", ["Coord1", "coord 1", "-coord", "x" * 65, "ana@site"])
def test_a_malformed_user_id_is_refused(timed: Store, admin: Admin, user_id: str) -> None:
    with pytest.raises(UserIdMalformed):
        timed.administration.open_account(
            OpenAccount(user_id=user_id, printed_name="X"), by=admin.signatory
        )


def test_only_an_administrator_in_force_administers(site_client: Site, admin: Admin) -> None:
    auditor = make_person(site_client.store, "aud1", role=Role.AUDITOR)
    signer = Admin(
        auditor.user_id, auditor.printed_name, auditor.private_key, auditor.password, auditor.store
    )
    untrained = make_admin(site_client.store, "admin2")
    site_client.store.administration.revoke_role(
        RevokeRole(user_id="admin2", role=Role.ADMINISTRATOR, reason="left"), by=admin.signatory
    )

    by_auditor = administer(site_client, signer, *open_events(signer, "coord1"))
    by_former = administer(site_client, untrained, *open_events(untrained, "coord1"))

    assert_problem(by_auditor, 403, detail="auditor does not administer users")
    assert_problem(by_former, 403, detail="has no role")
    assert site_client.store.app.find_account("coord1") is None


@pytest.mark.requirement("P11-11.200a-2")
@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("RoleGranted", {"role": "investigator"}),
        ("SiteAssigned", {"site": "RP"}),
        ("TrainingAttested", {"role": "investigator", "course": "c", "completed_on": "2011-01-10"}),
    ],
)
def test_an_administrator_never_grants_themselves_access(
    site_client: Site, admin: Admin, kind: str, data: dict[str, Any]
) -> None:
    response = administer(site_client, admin, admin.signed("admin1", kind, data))

    assert_problem(response, 403, detail="themselves")


@pytest.mark.requirement("P11-11.100a-1")
def test_a_body_signed_by_someone_else_is_refused(site_client: Site, admin: Admin) -> None:
    other = make_admin(site_client.store, "admin2")
    events = open_events(other, "coord1")

    response = administer(site_client, admin, *events)

    assert_problem(response, 403, detail="signed by 'admin2'")


def test_a_tampered_signed_event_is_refused_and_nothing_is_recorded(
    site_client: Site, admin: Admin
) -> None:
    events = open_events(admin, "coord1")
    events[1]["event"]["data"]["role"] = "auditor"

    response = administer(site_client, admin, *events)

    assert_problem(response, 422, detail="does not verify")
    assert site_client.store.app.find_account("coord1") is None


def test_a_revoked_administrator_key_signs_nothing(site_client: Site, admin: Admin) -> None:
    store = site_client.store
    other = make_admin(store, "admin2")
    # Stated to the second, as revocations are signed: the current second, already begun.
    store.administration.revoke_key(
        RevokeKey(
            user_id="admin1", key_id=admin.key_id, revoked_at=datetime.now(UTC), reason="lost"
        ),
        by=other.signatory,
    )

    response = administer(site_client, admin, *open_events(admin, "coord1"))

    assert_problem(response, 422, detail="was not valid")


def test_events_for_two_accounts_in_one_request_are_refused(
    site_client: Site, admin: Admin
) -> None:
    response = administer(
        site_client,
        admin,
        admin.signed("a1", "Opened", {"printed_name": "A"}),
        admin.signed("a2", "Opened", {"printed_name": "B"}),
    )

    assert_problem(response, 422, title="Account change malformed", detail="one account")


@pytest.mark.requirement("P11-11.200a-2")
def test_an_administrator_does_not_choose_a_persons_password(
    site_client: Site, admin: Admin
) -> None:
    make_person(site_client.store, "mon1", role=Role.MONITOR)

    response = administer(
        site_client,
        admin,
        admin.signed("mon1", "PasswordChanged", {"changed_by": "admin1", "temporary": False}),
    )

    assert_problem(response, 422, detail="one-time passwords only")


@pytest.mark.parametrize(
    ("event", "error_path"),
    [
        ({"kind": "Promoted"}, "kind"),
        ({"data": {"role": "king"}, "kind": "RoleGranted"}, "data"),
        ({"data": {"role": "system"}, "kind": "RoleGranted"}, "data"),
        ({"data": {"printed_name": "A", "extra": 1}}, "data"),
        ({"account": "has space"}, "account"),
    ],
)
def test_a_malformed_account_event_is_a_field_error(
    site_client: Site, admin: Admin, event: dict[str, Any], error_path: str
) -> None:
    signed = admin.signed("coord1", "Opened", {"printed_name": "A"}, event)

    response = administer(site_client, admin, signed)

    problem = assert_problem(response, 422, title="Unprocessable Entity")
    assert error_path in problem["errors"]["events"]["0"]["event"]


def test_an_empty_request_is_a_field_error(site_client: Site, admin: Admin) -> None:
    response = administer(site_client, admin)

    assert_problem(response, 422, title="Unprocessable Entity")


@pytest.mark.parametrize(
    ("kind", "data", "status", "title"),
    [
        ("RoleGranted", {"role": "monitor"}, 409, "Role already held"),
        ("RoleRevoked", {"role": "auditor", "reason": "x"}, 409, "Role not held"),
        ("SiteAssigned", {"site": "RP"}, 409, "Site already assigned"),
        ("SiteUnassigned", {"site": "SP", "reason": "x"}, 409, "Site not assigned"),
        ("AccountUnlocked", {"reason": "x"}, 409, "Account not locked"),
    ],
)
def test_a_change_the_account_state_forbids_is_a_conflict(
    site_client: Site, admin: Admin, kind: str, data: dict[str, Any], status: int, title: str
) -> None:
    make_person(site_client.store, "mon1", role=Role.MONITOR, sites=("RP",))

    response = administer(site_client, admin, admin.signed("mon1", kind, data))

    assert_problem(response, status, title=title)


def test_a_change_to_an_unknown_account_is_not_found(site_client: Site, admin: Admin) -> None:
    response = administer(site_client, admin, admin.signed("ghost", "SiteAssigned", {"site": "RP"}))

    assert_problem(response, 404, title="Account not found")
    with pytest.raises(AccountNotFound):
        site_client.store.reads.account_history("ghost")


def test_an_administrator_locks_an_account_by_hand(site_client: Site, admin: Admin) -> None:
    monitor = make_person(site_client.store, "mon1", role=Role.MONITOR)

    locked = administer(
        site_client,
        admin,
        admin.signed("mon1", "AccountLocked", {"reason": "suspended", "failed_attempts": 0}),
    )
    again = administer(
        site_client,
        admin,
        admin.signed("mon1", "AccountLocked", {"reason": "suspended", "failed_attempts": 0}),
    )

    assert locked.status_code == 201
    assert_problem(again, 409, title="Account already locked")
    assert_problem(token_for(site_client, "mon1", monitor.password), 401, title="Account locked")


def test_an_administrator_issues_a_one_time_password(site_client: Site, admin: Admin) -> None:
    make_person(site_client.store, "mon1", role=Role.MONITOR)

    response = administer(
        site_client,
        admin,
        admin.signed("mon1", "PasswordChanged", {"changed_by": "admin1", "temporary": True}),
    )

    password = response.get_json()["one_time_password"]
    assert_problem(token_for(site_client, "mon1", password), 403, title="Password change required")


def test_accounts_and_one_account_read_back(site_client: Site, admin: Admin) -> None:
    make_person(site_client.store, "mon1", role=Role.MONITOR, sites=("RP",))
    headers = bearer(site_client, admin)

    listed = site_client.client.get("/v1/accounts", headers=headers).get_json()
    one = site_client.client.get("/v1/accounts/mon1", headers=headers).get_json()
    missing = site_client.client.get("/v1/accounts/ghost", headers=headers)

    assert [a["user_id"] for a in listed] == ["system", "admin1", "mon1"]
    assert one["role_in_force"] == "monitor" and one["trained_for"] == ["monitor"]
    assert one["keys"][0]["revoked_at"] is None
    assert_problem(missing, 404, title="Account not found")


def test_the_authentication_log_query_is_validated(site_client: Site, admin: Admin) -> None:
    headers = bearer(site_client, admin)

    bad = site_client.client.get("/v1/authentication-attempts?limit=0", headers=headers)
    unknown = site_client.client.get("/v1/authentication-attempts?who=x", headers=headers)

    assert_problem(bad, 422)
    assert_problem(unknown, 422)


def test_a_second_opening_through_the_service_is_refused(timed: Store, admin: Admin) -> None:
    timed.administration.open_account(
        OpenAccount(user_id="x1", printed_name="X"), by=admin.signatory
    )

    with pytest.raises(AccountExists):
        timed.administration.open_account(
            OpenAccount(user_id="x1", printed_name="X"), by=admin.signatory
        )


def test_training_can_come_with_the_opening_only_for_a_role(timed: Store, admin: Admin) -> None:
    with pytest.raises(AdministrationMalformed):
        timed.administration.open_account(
            OpenAccount(
                user_id="x1", printed_name="X", training=Training("c", TRAINING.completed_on)
            ),
            by=admin.signatory,
        )
    assert timed.app.find_account("x1") is None


def test_every_kind_of_account_event_has_a_schema() -> None:
    assert set(ACCOUNT_DATA_SCHEMAS) == set(ACCOUNT_EVENT_KINDS)


def test_the_account_events_of_an_opening_are_of_the_right_classes(
    timed: Store, admin: Admin
) -> None:
    timed.administration.open_account(
        OpenAccount(
            user_id="x1", printed_name="X", role=Role.MONITOR, sites=("RP",), one_time_password=True
        ),
        by=admin.signatory,
    )

    events = [r.event for r in timed.reads.account_history("x1")]
    assert [type(e) for e in events] == [
        Account.Opened,
        Account.RoleGranted,
        Account.SiteAssigned,
        Account.PasswordChanged,
    ]
