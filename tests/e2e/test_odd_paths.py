"""No 5xx on odd paths (issue 15, point 10), on SQLite and PostgreSQL.

Each of these answered 500 once: a study named like the store's own streams, a log position
beyond 64 bits, a NUL byte where PostgreSQL's text type cannot hold one. Each now answers the
4xx a client can act on, and a sign-in with an odd name is still recorded.
"""

from __future__ import annotations

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.conftest import Person, PersonFactory, screening
from tests.e2e.conftest import Site
from tests.e2e.test_api import Unchanged, assert_field_errors, assert_problem, log_head


@pytest.fixture
def ana(store: Store, person_in: PersonFactory) -> Person:
    return person_in(store, "coord1", printed_name="Ana Souza", sites=("RP",))


@pytest.fixture
def auditor(store: Store, person_in: PersonFactory) -> Person:
    return person_in(store, "audit1", printed_name="Lia Prado", role=Role.AUDITOR, sites=())


@pytest.mark.parametrize(
    "path",
    [
        "/v1/studies/accounts/subjects/admin",
        "/v1/studies/accounts/subjects/admin/history",
        "/v1/studies/accounts/subjects/admin/weekly",
        "/v1/studies/accounts/subjects/admin/audit",
        "/v1/studies/accounts/subjects/sponsor/history",
        "/v1/studies/NCT01297972/subjects/RP-101%00/history",
        "/v1/studies/NCT01297972%00/subjects/RP-101",
        "/v1/studies/NCT01297972/subjects/%E2%80%AE",
    ],
)
def test_a_subject_path_naming_no_subject_is_not_found(
    site: Site, ana: Person, auditor: Person, path: str
) -> None:
    for person in (ana, auditor):
        response = site.client.get(path, headers=site.auth(person))

        assert_problem(response, 404, title="Subject not found")


def test_an_event_for_the_study_named_accounts_is_refused_not_a_crash(
    site: Site, ana: Person
) -> None:
    body = ana.body("admin", "Screened", screening(), study="accounts")
    site.token(ana)

    with Unchanged(site.store, subject="admin"):
        response = site.submit(ana, "Screened", screening(), body=body)

    assert_problem(response, 422, title="Unknown study", detail="accounts")


@pytest.mark.parametrize(
    "position", ["99999999999999999999", str(2**63), str(2**64), str(2**63 - 1)]
)
def test_a_proof_of_a_position_beyond_the_log_is_not_found(
    site: Site, ana: Person, position: str
) -> None:
    response = site.client.get(f"/v1/events/{position}/proof", headers=site.auth(ana))

    assert_problem(response, 404)


@pytest.mark.parametrize("tree_size", ["99999999999999999999", str(2**64)])
def test_a_proof_in_a_tree_beyond_64_bits_is_a_field_error(
    site: Site, ana: Person, tree_size: str
) -> None:
    response = site.client.get(f"/v1/events/1/proof?tree_size={tree_size}", headers=site.auth(ana))

    assert set(assert_field_errors(response)) == {"tree_size"}


@pytest.mark.parametrize(
    ("username", "recorded"),
    [
        ("coord1\0", "coord1\\x00"),
        ("\0", "\\x00"),
        ("admin\0' OR 1=1 --", "admin\\x00' OR 1=1 --"),
        ("coord1\ud800", "coord1\\ud800"),
        ("back\\slash\x1b", "back\\\\slash\\x1b"),
    ],
)
def test_a_sign_in_with_an_odd_user_id_fails_and_is_recorded_escaped(
    site: Site, ana: Person, auditor: Person, username: str, recorded: str
) -> None:
    site.token(auditor)

    response = site.client.post(
        "/v1/auth/token", json={"username": username, "password": ana.password}
    )

    assert_problem(response, 401, title="Authentication failed")
    latest = site.store.access.attempts(limit=1)[0]
    assert (latest.user_id, latest.outcome) == (recorded, "failed")
    listed = site.client.get("/v1/authentication-attempts?limit=1", headers=site.auth(auditor))
    assert listed.status_code == 200, listed.get_data(as_text=True)
    assert listed.get_json()[0]["user_id"] == recorded


def test_a_password_change_with_an_odd_user_id_fails_and_is_recorded(
    site: Site, ana: Person
) -> None:
    response = site.client.post(
        "/v1/auth/password",
        json={"username": "coord1\0", "password": ana.password, "new_password": "x" * 20},
    )

    assert_problem(response, 401)
    assert site.store.access.attempts(limit=1)[0].user_id == "coord1\\x00"


@pytest.mark.parametrize("user_id", ["coord1%00", "%00", "coord1%0A"])
def test_an_attempt_query_with_a_control_character_is_a_field_error(
    site: Site, auditor: Person, user_id: str
) -> None:
    response = site.client.get(
        f"/v1/authentication-attempts?user_id={user_id}", headers=site.auth(auditor)
    )

    assert set(assert_field_errors(response)) == {"user_id"}


@pytest.mark.parametrize("user_id", ["coord1%00", "admin%00x"])
def test_an_account_path_with_a_nul_is_not_found(
    site: Site, store: Store, person_in: PersonFactory, user_id: str
) -> None:
    admin = person_in(store, "admin1", printed_name="Davi Rocha", role=Role.ADMINISTRATOR, sites=())
    for path in (f"/v1/accounts/{user_id}", f"/v1/accounts/{user_id}/history"):
        response = site.client.get(path, headers=site.auth(admin))

        assert_problem(response, 404)


def test_nothing_of_the_above_wrote_to_the_log(site: Site, ana: Person) -> None:
    site.token(ana)
    head = log_head(site.store)

    site.client.get("/v1/studies/accounts/subjects/admin/history", headers=site.auth(ana))
    site.client.get("/v1/events/99999999999999999999/proof", headers=site.auth(ana))

    assert log_head(site.store) == head
