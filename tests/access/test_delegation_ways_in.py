"""The delegation log on the API (SQLite; once on PostgreSQL) and the console: delegations
signed by the site's principal investigator, refusals as problem+json or one line, the log as
CSV and as a signed PDF."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.account import Role
from infrastructure.application.commands import DelegateTasks
from infrastructure.bootstrap import Store, open_store
from signatures.keys import private_key_to_pem
from tests.access.conftest import Admin, assert_problem, bearer, make_admin, make_person
from tests.cli_stores import sealtrail
from tests.conftest import Person, make_settings
from tests.e2e.conftest import Site
from tests.e2e.test_cli import ADMIN_ENV, as_admin

TODAY = datetime.now(UTC).date()


def staff(store: Store) -> tuple[Admin, Person, Person]:
    """An administrator, the principal investigator of RP (designated) and a coordinator."""
    admin = make_admin(store)
    pi = make_person(store, "inv1", role=Role.INVESTIGATOR, sites=("RP",))
    coordinator = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    designation = DelegateTasks("inv1", "RP", ("principal_investigator",), TODAY)
    store.administration.delegate_tasks(designation, by=admin.signatory)
    return admin, pi, coordinator


def signed_delegation(store: Store, signer: Person, user_id: str, **data: Any) -> dict[str, Any]:
    """A TasksDelegated (or, with ``reason``, a DelegationEnded) signed by ``signer``."""
    admin_like = Admin(signer.user_id, signer.printed_name, signer.private_key, "", store)
    kind = "DelegationEnded" if "reason" in data else "TasksDelegated"
    fields = {"site": "RP", **data}
    if kind == "TasksDelegated":
        fields.setdefault("starts_on", TODAY.isoformat())
    return {"events": [admin_like.signed(user_id, kind, fields)]}


def delegation_log(site: Site, person: Person, where: str = "RP", **query: str) -> Any:
    return site.client.get(
        f"/v1/sites/{where}/delegation-log", query_string=query, headers=bearer(site, person)
    )


def test_the_api_records_a_delegation_refuses_others_and_prints_the_log(
    sqlite_store: Store,
) -> None:
    site = Site(sqlite_store)
    admin, pi, coordinator = staff(sqlite_store)
    post = site.client.post
    by_pi = signed_delegation(sqlite_store, pi, "coord1", tasks=["data_entry", "consent"])

    by_coordinator = signed_delegation(sqlite_store, coordinator, "inv1", tasks=["data_entry"])
    refused = post("/v1/accounts", json=by_coordinator, headers=bearer(site, coordinator))
    assert_problem(refused, 403, detail="does not delegate")
    inverted = signed_delegation(
        sqlite_store, pi, "coord1", tasks=["data_entry"], ends_on=str(TODAY - timedelta(days=1))
    )
    assert_problem(post("/v1/accounts", json=inverted, headers=bearer(site, pi)), 422)
    unknown = signed_delegation(sqlite_store, pi, "coord1", tasks=["surgery"])
    assert_problem(post("/v1/accounts", json=unknown, headers=bearer(site, pi)), 422)
    assert sqlite_store.app.account("coord1").delegations == ()

    recorded = post("/v1/accounts", json=by_pi, headers=bearer(site, pi))
    assert recorded.status_code == 201, recorded.get_data(as_text=True)
    shown = site.client.get("/v1/accounts/coord1", headers=bearer(site, admin)).get_json()
    assert shown["delegations"] == [
        {
            "site": "RP",
            "tasks": ["data_entry", "consent"],
            "starts_on": TODAY.isoformat(),
            "ends_on": None,
            "delegated_by": "inv1",
        }
    ]

    answer = delegation_log(site, coordinator)
    assert answer.mimetype == "text/csv"
    lines = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(line["user_id"], line["tasks"], line["delegated_by"]) for line in lines] == [
        ("inv1", "principal_investigator", "admin1"),
        ("coord1", "data_entry consent", "inv1"),
    ]
    printed = delegation_log(site, admin, format="pdf")
    assert printed.mimetype == "application/pdf"
    assert printed.get_data().startswith(b"%PDF")
    assert_problem(delegation_log(site, coordinator, "SP"), 403)
    assert_problem(delegation_log(site, admin, "RP%0A"), 422)
    assert_problem(delegation_log(site, admin, format="xls"), 422)


@pytest.mark.postgres
def test_a_delegation_is_recorded_and_ended_on_postgresql(postgres_store: Store) -> None:
    site = Site(postgres_store)
    _, pi, _ = staff(postgres_store)
    given = signed_delegation(postgres_store, pi, "coord1", tasks=["data_entry"])
    assert site.client.post("/v1/accounts", json=given, headers=bearer(site, pi)).status_code == 201
    ended = signed_delegation(postgres_store, pi, "coord1", reason="left the team")
    assert site.client.post("/v1/accounts", json=ended, headers=bearer(site, pi)).status_code == 201
    (held,) = postgres_store.app.account("coord1").delegations
    assert held.end_reason == "left the team"
    assert postgres_store.verifier(workers=1).verify().findings == []


def test_the_console_delegates_ends_and_writes_the_log(home_on_each_backend: Path) -> None:
    home = home_on_each_backend
    store = open_store(make_settings(home))
    try:
        pi = make_person(store, "inv1", role=Role.INVESTIGATOR, sites=("RP",))
        coordinator = make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))
    finally:
        store.close()
    (home / "inv1.pem").write_bytes(private_key_to_pem(pi.private_key))
    (home / "coord1.pem").write_bytes(private_key_to_pem(coordinator.private_key))
    as_pi = ("--as", "inv1", "--key", str(home / "inv1.pem"))
    pi_env = {"SEALTRAIL_PASSWORD": pi.password}
    today = TODAY.isoformat()

    def run(*args: str, env: dict[str, str] = pi_env) -> Any:
        return sealtrail(*args, home=home, extra_env=env)

    grant = ("delegation", "delegate", "coord1", "--site", "RP", "--from", today)
    early = run(*grant, "--task", "data_entry", *as_pi)
    assert early.returncode == 1 and "not the principal investigator" in early.stderr
    designated = run(
        "delegation", "delegate", "inv1", "--site", "RP", "--from", today,
        "--task", "principal_investigator", *as_admin(home), env=ADMIN_ENV,
    )  # fmt: skip
    assert designated.returncode == 0, designated.stderr
    inverted = run(*grant, "--task", "data_entry", "--until", "2000-01-01", *as_pi)
    assert inverted.returncode == 1 and len(inverted.stderr.strip().splitlines()) == 1
    assert run(*grant, "--task", "typing", *as_pi).returncode == 2
    absurd = ("delegation", "delegate", "coord1", "--site", "RP", "--task", "data_entry",
              "--from", "0001-01-01", "--until", "9999-12-31", *as_pi)  # fmt: skip
    refused = run(*absurd)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "1970-01-01" in refused.stderr
    until = (TODAY + timedelta(days=90)).isoformat()
    done = run(*grant, "--task", "data_entry", "--task", "consent", "--until", until, *as_pi)
    assert done.returncode == 0, done.stderr
    assert f"from {today} until {until}" in done.stdout
    ended = run("delegation", "end", "coord1", "--site", "RP", "--reason", "moved", *as_pi)
    assert ended.returncode == 0, ended.stderr

    out = home / "log.csv"
    report = ("report", "delegation-log", "--site", "RP", "--format", "csv", "--out", str(out))
    written = run(*report, "--as", "inv1")
    assert written.returncode == 0, written.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert "coord1" in text and "moved" in text and until in text
    bad_site = run("report", "delegation-log", "--site", "RP\n", "--format", "csv",
                   "--out", str(out), "--as", "inv1")  # fmt: skip
    assert bad_site.returncode == 2
    assert sealtrail("verify", home=home).returncode == 0
