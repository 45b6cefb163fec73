"""Roles granted until an instant: in force before it, lapsed from it, without another event.

The permission checks run as each request comes, so a role lapses at its instant on the API and
the console alike; a grant for good signs the same body as before roles could end.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.account import Account, Role
from domain.errors import NotPermitted, RoleEndPassed, RoleNotGrantable
from domain.permissions import check_may_record
from infrastructure.application.commands import GrantRole, RevokeRole
from infrastructure.bootstrap import Store
from tests.access.conftest import (
    Admin,
    Clock,
    assert_problem,
    make_admin,
    make_person,
    with_access,
)
from tests.access.test_cli_accounts import COORDINATOR, one_line, run
from tests.conftest import screening
from tests.e2e.conftest import Site
from tests.e2e.test_cli import as_admin


@pytest.fixture
def rp_site(sqlite_store: Store) -> Site:
    return Site(with_access(sqlite_store, Clock()))


@pytest.fixture
def rp_admin(rp_site: Site) -> Admin:
    return make_admin(rp_site.store)


def regranted(store: Store, admin: Admin, user_id: str, role: Role, until: datetime) -> None:
    """Take ``user_id``'s role away and grant it again until ``until``."""
    store.administration.revoke_role(
        RevokeRole(user_id=user_id, role=role, reason="renewed with an end"), by=admin.signatory
    )
    store.administration.grant_role(
        GrantRole(user_id=user_id, role=role, until=until), by=admin.signatory
    )


@pytest.mark.requirement("E6-4.3.8-1")
def test_a_role_is_in_force_before_its_end_and_lapsed_from_it(
    rp_site: Site, rp_admin: Admin
) -> None:
    store = rp_site.store
    make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    end = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    regranted(store, rp_admin, "coord1", Role.SITE_COORDINATOR, end)
    account = store.app.account("coord1")

    assert account.role_until == end
    assert account.role_in_force(end - timedelta(seconds=1)) is Role.SITE_COORDINATOR
    assert account.role_in_force(end) is None
    assert account.role_in_force(end + timedelta(days=1)) is None
    assert account.effective_role is Role.SITE_COORDINATOR


@pytest.mark.requirement("P11-11.10d-2")
def test_a_write_after_the_role_s_end_is_refused_over_the_api(
    rp_site: Site, rp_admin: Admin
) -> None:
    store = rp_site.store
    person = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    end = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    regranted(store, rp_admin, "coord1", Role.SITE_COORDINATOR, end)
    before = rp_site.submit(person, "Screened", screening(), subject="RP-201")
    assert before.status_code == 201, before.get_data(as_text=True)

    time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()) + 0.05)
    after = rp_site.submit(person, "Screened", screening(), subject="RP-202")

    assert_problem(after, 403, detail="coord1's role site_coordinator lapsed at")
    assert store.app.find_subject("NCT01297972/RP-202") is None
    with pytest.raises(NotPermitted, match="lapsed at"):
        check_may_record(store.app.account("coord1"), "RP")


def test_a_grant_over_the_api_carries_its_end_and_one_already_past_is_refused(
    rp_site: Site, rp_admin: Admin
) -> None:
    store = rp_site.store
    make_person(store, "mon1", role=Role.MONITOR, sites=("RP",))
    store.administration.revoke_role(
        RevokeRole(user_id="mon1", role=Role.MONITOR, reason="renewed"), by=rp_admin.signatory
    )
    headers = rp_site.auth(rp_admin)
    past = {"role": "monitor", "until": "2011-03-01T00:00:00Z"}
    refused = rp_site.client.post(
        "/v1/accounts",
        json={"events": [rp_admin.signed("mon1", "RoleGranted", past)]},
        headers=headers,
    )
    assert_problem(refused, 422, title="Role end already passed")
    assert store.app.account("mon1").role is None

    end = "2099-12-31T23:59:59Z"
    monitor_until = {"role": "monitor", "until": end}
    granted = rp_site.client.post(
        "/v1/accounts",
        json={"events": [rp_admin.signed("mon1", "RoleGranted", monitor_until)]},
        headers=headers,
    )
    assert granted.status_code == 201, granted.get_data(as_text=True)
    shown = rp_site.client.get("/v1/accounts/mon1", headers=headers).get_json()
    assert shown["role_until"] == end and shown["role_in_force"] == "monitor"
    assert store.verifier(workers=1).verify().ok


@pytest.mark.parametrize("until", [1, None, "2099-12-31", "tomorrow", "2099-12-31T00:00:00"])
def test_a_malformed_end_is_a_field_error(rp_site: Site, rp_admin: Admin, until: object) -> None:
    make_person(rp_site.store, "mon1", role=None, sites=("RP",))
    data = {"role": "monitor", "until": until}
    response = rp_site.client.post(
        "/v1/accounts",
        json={"events": [rp_admin.signed("mon1", "RoleGranted", data)]},
        headers=rp_site.auth(rp_admin),
    )
    assert_problem(response, 422)
    assert rp_site.store.app.account("mon1").role is None


def test_a_grant_for_good_signs_no_end_and_the_system_role_never_ends(
    rp_site: Site, rp_admin: Admin
) -> None:
    store = rp_site.store
    make_person(store, "inv1", role=Role.INVESTIGATOR, sites=("RP",))
    grants = [
        record.event
        for record in store.reads.account_history("inv1")
        if isinstance(record.event, Account.RoleGranted)
    ]
    assert [grant.until for grant in grants] == [None]
    assert "until" not in grants[0].authorship.body()["data"]
    with pytest.raises(RoleEndPassed):
        regranted(store, rp_admin, "inv1", Role.INVESTIGATOR, datetime.now(UTC))
    system = store.app.account("system")
    with pytest.raises(RoleNotGrantable):
        system.grant_role(role=Role.SYSTEM, until=datetime.now(UTC) + timedelta(days=1))


def test_the_console_grants_a_role_until_a_day_and_lists_its_end(home: Path) -> None:
    admin = as_admin(home)
    revoke = ("user", "revoke-role", "coord1", "--reason", "renewed with an end")
    opened = run(home, *COORDINATOR, "--site", "RP", *admin)
    assert opened.returncode == 0, opened.stderr
    assert run(home, *revoke, "--role", "site_coordinator", *admin).returncode == 0

    grant = ("user", "grant", "coord1", "--role", "monitor", "--until")
    bad = run(home, *grant, "31/12/2099", *admin)
    past = run(home, *grant, "2011-03-01", *admin)
    granted = run(home, *grant, "2099-12-31", *admin)

    assert bad.returncode == 2 and "is not YYYY-MM-DD" in bad.stderr
    assert past.returncode == 1 and "already past" in one_line(past)
    assert granted.returncode == 0, granted.stderr
    listed = run(home, "user", "list", "--as", "admin")
    assert listed.returncode == 0, listed.stderr
    assert "coord1\tmonitor (until 2100-01-01T00:00:00Z)\tRP" in listed.stdout
    assert run(home, "verify").returncode == 0
