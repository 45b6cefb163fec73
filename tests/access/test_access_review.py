"""The periodic review of who has which access, and the report of what is due (issue 18, 7).

An administrator reviews every site, a site's investigator their own; the review is a signed
``AccessReviewed`` on the reviewer's own account naming each account as the store holds it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.access_review import AccessReviewSchedule, access_as_seen
from domain.account import Account, Role
from domain.wire import to_wire
from infrastructure.application.commands import GrantRole, ReviewAccess, RevokeRole
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import build_packet
from infrastructure.packets.verify import verify_packet
from projections.access_review import access_review_report
from tests.access.conftest import Admin, Clock, assert_problem, make_admin, make_person, with_access
from tests.access.test_cli_accounts import COORDINATOR, one_line, run
from tests.conftest import Person
from tests.e2e.conftest import Site
from tests.e2e.test_cli import as_admin

SCHEDULE = AccessReviewSchedule(period_days=180, lapse_warning_days=30)


def staffed(store: Store) -> tuple[Admin, Person, Person]:
    """An administrator, RP's investigator and coordinator, and SP's coordinator."""
    admin = make_admin(store)
    investigator = make_person(store, "inv-rp", role=Role.INVESTIGATOR, sites=("RP",))
    coordinator = make_person(store, "coord-rp", role=Role.SITE_COORDINATOR, sites=("RP",))
    make_person(store, "coord-sp", role=Role.SITE_COORDINATOR, sites=("SP",))
    return admin, investigator, coordinator


@pytest.fixture
def rp_site(sqlite_store: Store) -> Site:
    return Site(with_access(sqlite_store, Clock()))


def seen(store: Store, *user_ids: str) -> list[dict[str, Any]]:
    """The accounts as the store holds them now, as a reviewer signs them."""
    now = datetime.now(UTC)
    return [to_wire(access_as_seen(store.app.account(user_id), now)) for user_id in user_ids]


def review(
    site: Site, reviewer: Person, data: dict[str, Any], *, account: str | None = None
) -> Any:
    """POST one ``AccessReviewed`` signed by ``reviewer`` (on their own account by default)."""
    signer = Admin(
        reviewer.user_id, reviewer.printed_name, reviewer.private_key, reviewer.password, site.store
    )
    event = signer.signed(account or reviewer.user_id, "AccessReviewed", data)
    return site.client.post("/v1/accounts", json={"events": [event]}, headers=site.auth(reviewer))


@pytest.mark.requirement("E6-4.3.8-1")
def test_an_administrator_s_review_is_recorded_and_clears_the_report(rp_site: Site) -> None:
    store = rp_site.store
    admin, _, _ = staffed(store)
    headers = rp_site.auth(admin)
    before = rp_site.client.get("/v1/access-review", headers=headers).get_json()
    assert {due["user_id"] for due in before["not_reviewed"]} == {
        "admin1",
        "inv-rp",
        "coord-rp",
        "coord-sp",
    }
    assert before["period_days"] == 180

    everyone = seen(store, "admin1", "inv-rp", "coord-rp", "coord-sp")
    change = "coord-sp leaves in June: end the role then"
    done = review(rp_site, admin, {"accounts": everyone, "changes": [change]})

    assert done.status_code == 201, done.get_data(as_text=True)
    after = rp_site.client.get("/v1/access-review", headers=headers).get_json()
    assert after["not_reviewed"] == []
    (recorded,) = store.reads.access_reviews()
    assert list(recorded.changes) == [change] and recorded.site is None
    assert [s["user_id"] for s in recorded.accounts] == ["admin1", "inv-rp", "coord-rp", "coord-sp"]
    assert store.verifier(workers=1).verify().ok


def test_an_investigator_reviews_their_own_site_only(rp_site: Site) -> None:
    store = rp_site.store
    _, investigator, coordinator = staffed(store)

    own = review(
        rp_site, investigator, {"site": "RP", "accounts": seen(store, "coord-rp"), "changes": []}
    )
    other = review(
        rp_site, investigator, {"site": "SP", "accounts": seen(store, "coord-sp"), "changes": []}
    )
    every = review(rp_site, investigator, {"accounts": seen(store, "coord-rp"), "changes": []})
    by_coordinator = review(
        rp_site, coordinator, {"site": "RP", "accounts": seen(store, "inv-rp"), "changes": []}
    )

    assert own.status_code == 201, own.get_data(as_text=True)
    assert_problem(other, 403, detail="inv-rp does not act for site 'SP'")
    assert_problem(every, 403, detail="only at their own sites")
    assert_problem(by_coordinator, 403, detail="a site_coordinator does not review who has")
    assert len(store.reads.access_reviews()) == 1


@pytest.mark.requirement("E6-4.3.8-1")
def test_a_review_outside_its_scope_or_not_as_held_records_nothing(rp_site: Site) -> None:
    store = rp_site.store
    admin, investigator, _ = staffed(store)
    stale = seen(store, "coord-rp")
    store.administration.revoke_role(
        RevokeRole(user_id="coord-rp", role=Role.SITE_COORDINATOR, reason="left"),
        by=admin.signatory,
    )
    ghost = {"user_id": "nobody", "sites": [], "keys": []}

    refusals = [
        (
            review(rp_site, investigator, {"site": "RP", "accounts": stale, "changes": []}),
            409,
            "coord-rp's access is not as the review saw it",
        ),
        (
            review(
                rp_site,
                investigator,
                {"site": "RP", "accounts": seen(store, "coord-sp"), "changes": []},
            ),
            422,
            "coord-sp does not act for site",
        ),
        (review(rp_site, admin, {"accounts": [ghost], "changes": []}), 422, "no account"),
        (
            review(rp_site, admin, {"accounts": seen(store, "inv-rp", "inv-rp"), "changes": []}),
            422,
            "each account once",
        ),
        (
            review(rp_site, admin, {"accounts": seen(store, "inv-rp"), "changes": [" "]}),
            422,
            "each change decided",
        ),
        (
            review(rp_site, admin, {"accounts": seen(store, "inv-rp"), "changes": ["\u200b"]}),
            422,
            "each change decided",
        ),
        (review(rp_site, admin, {"accounts": [], "changes": []}), 422, None),
        (
            review(
                rp_site, admin, {"accounts": seen(store, "inv-rp"), "changes": []}, account="inv-rp"
            ),
            403,
            "recorded on their own account",
        ),
    ]

    for response, status, detail in refusals:
        assert_problem(response, status, detail=detail)
    assert store.reads.access_reviews() == []


@pytest.mark.requirement("E6-4.3.8-1")
def test_the_report_names_reviews_past_their_period_and_roles_ending(rp_site: Site) -> None:
    store = rp_site.store
    admin, _, _ = staffed(store)
    store.administration.revoke_role(
        RevokeRole(user_id="coord-sp", role=Role.SITE_COORDINATOR, reason="renewed"),
        by=admin.signatory,
    )
    end = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
    store.administration.grant_role(
        GrantRole(user_id="coord-sp", role=Role.SITE_COORDINATOR, until=end), by=admin.signatory
    )
    named = store.administration.review_access(ReviewAccess(site=None), by=admin.signatory)
    assert named == 4
    accounts, reviews = store.reads.accounts(), store.reads.access_reviews()

    now = access_review_report(accounts, reviews, datetime.now(UTC), SCHEDULE)
    later = access_review_report(accounts, reviews, end + timedelta(days=171), SCHEDULE)

    assert now["not_reviewed"] == []
    assert now["roles_ending"] == [
        {
            "user_id": "coord-sp",
            "role": "site_coordinator",
            "sites": ["SP"],
            "until": to_wire(end),
            "lapsed": False,
        }
    ]
    assert {due["user_id"] for due in later["not_reviewed"]} == {
        "admin1",
        "inv-rp",
        "coord-rp",
        "coord-sp",
    }
    assert later["not_reviewed"][0]["last_reviewed_by"] == "admin1"
    assert [ending["lapsed"] for ending in later["roles_ending"]] == [True]


def test_a_packet_of_a_store_with_reviews_and_role_ends_verifies(rp_site: Site) -> None:
    store = rp_site.store
    open_sponsor_account(store.administration, store.settings)
    admin, _, _ = staffed(store)
    store.administration.revoke_role(
        RevokeRole(user_id="coord-sp", role=Role.SITE_COORDINATOR, reason="renewed"),
        by=admin.signatory,
    )
    end = datetime.now(UTC) + timedelta(days=90)
    store.administration.grant_role(
        GrantRole(user_id="coord-sp", role=Role.SITE_COORDINATOR, until=end), by=admin.signatory
    )
    store.administration.review_access(ReviewAccess(site=None), by=admin.signatory)

    report = verify_packet(build_packet(store, documents=False))

    assert report.findings == []
    assert store.verifier(workers=1).verify().ok


def test_the_console_records_a_review_and_prints_the_report(home_on_each_backend: Path) -> None:
    home = home_on_each_backend
    admin = as_admin(home)
    assert run(home, *COORDINATOR, "--site", "RP", *admin).returncode == 0
    due = run(home, "report", "access-review", "--as", "admin")
    nobody_there = run(home, "user", "review", "--site", "ZZ", *admin)

    done = run(home, "user", "review", "--change", "coord1 trained: no change", *admin)
    after = run(home, "report", "access-review", "--as", "admin", "--json")

    assert due.returncode == 0, due.stderr
    assert "coord1\tsite_coordinator\tRP\tnever reviewed" in due.stdout
    assert nobody_there.returncode == 1
    assert "names at least one account" in one_line(nobody_there)
    assert done.returncode == 0, done.stderr
    assert "admin reviewed the access of 2 accounts at every site; 1 changes decided" in done.stdout
    assert after.returncode == 0 and '"not_reviewed": []' in after.stdout
    assert run(home, "verify").returncode == 0


@pytest.mark.postgres
def test_a_review_over_the_api_on_postgresql(postgres_store: Store) -> None:
    site = Site(with_access(postgres_store, Clock()))
    admin, investigator, _ = staffed(postgres_store)

    done = review(
        site,
        investigator,
        {"site": "RP", "accounts": seen(postgres_store, "coord-rp"), "changes": []},
    )
    refused = review(
        site,
        investigator,
        {"site": "SP", "accounts": seen(postgres_store, "coord-sp"), "changes": []},
    )

    assert done.status_code == 201, done.get_data(as_text=True)
    assert_problem(refused, 403)
    report = site.client.get("/v1/access-review", headers=site.auth(admin)).get_json()
    assert {due["user_id"] for due in report["not_reviewed"]} == {"admin1", "inv-rp", "coord-sp"}
    assert postgres_store.verifier(workers=1).verify().ok


def test_an_account_as_seen_names_its_role_end_and_live_keys_only(rp_site: Site) -> None:
    store = rp_site.store
    make_person(store, "mon1", role=Role.MONITOR, sites=("RP",))
    account: Account = store.app.account("mon1")
    (key_id,) = account.keys

    assert access_as_seen(account, datetime.now(UTC)) == {
        "user_id": "mon1",
        "role": Role.MONITOR,
        "sites": ["RP"],
        "keys": [key_id],
    }
