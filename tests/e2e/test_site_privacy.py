"""Existence does not leak across sites (issue 15, point 11).

To a person who may not read site RP, RP's subject RP-101 and a subject that does not exist
(RP-999) answer alike on every subject endpoint: the same status, title and detail (the code
aside), so subject codes cannot be probed from another site. A role that never reads clinical
data is still told so (403), which says nothing about any subject.
"""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.conftest import STUDY, Person, PersonFactory, consent, screening
from tests.e2e.conftest import Site
from tests.e2e.test_api import Unchanged, assert_problem

EXISTING, MISSING = "RP-101", "RP-999"


@pytest.fixture
def ana(store: Store, person_in: PersonFactory) -> Person:
    return person_in(store, "coord1", printed_name="Ana Souza", sites=("RP",))


@pytest.fixture
def screened(site: Site, ana: Person) -> Site:
    response = site.submit(ana, "Screened", screening(), subject=EXISTING)
    assert response.status_code == 201, response.get_data(as_text=True)
    return site


@pytest.fixture(params=[Role.SITE_COORDINATOR, Role.INVESTIGATOR, Role.MONITOR])
def outsider(request: pytest.FixtureRequest, store: Store, person_in: PersonFactory) -> Person:
    """Someone of site SP, in a role that reads (and writes) at its own sites."""
    return person_in(store, "sp1", printed_name="Carla Dias", role=request.param, sites=("SP",))


def shape(response: TestResponse, code: str) -> tuple[int, str, dict[str, Any]]:
    """Status, media type and body, with the subject's code written as CODE."""
    body = response.get_data(as_text=True).replace(code, "CODE")
    return response.status_code, response.mimetype, {"body": body}


READS = [
    "/v1/studies/{study}/subjects/{code}",
    "/v1/studies/{study}/subjects/{code}?position=1",
    "/v1/studies/{study}/subjects/{code}?as_of=2030-01-01",
    "/v1/studies/{study}/subjects/{code}/history",
    "/v1/studies/{study}/subjects/{code}/weekly",
    "/v1/studies/{study}/subjects/{code}/audit",
]


@pytest.mark.requirement("LGPD-46-1")
@pytest.mark.parametrize("path", READS)
def test_another_sites_subject_reads_as_one_that_does_not_exist(
    screened: Site, outsider: Person, path: str
) -> None:
    answers = [
        shape(
            screened.client.get(
                path.format(study=STUDY, code=code), headers=screened.auth(outsider)
            ),
            code,
        )
        for code in (EXISTING, MISSING)
    ]

    assert answers[0] == answers[1]
    assert_problem(
        screened.client.get(
            path.format(study=STUDY, code=EXISTING), headers=screened.auth(outsider)
        ),
        404,
        title="Subject not found",
    )


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("ConsentObtained", consent()),
        ("QueryRaised", {"entry": 1, "entry_kind": "Screened", "question": "Age?"}),
    ],
)
def test_another_sites_subject_takes_a_write_as_one_that_does_not_exist(
    screened: Site, outsider: Person, kind: str, data: dict[str, Any]
) -> None:
    answers = []
    for code in (EXISTING, MISSING):
        with Unchanged(screened.store, subject=code):
            response = screened.submit(outsider, kind, data, subject=code)
        answers.append(shape(response, code))

    assert answers[0] == answers[1]
    # 404 where the role makes this kind of record, 403 (the role never does) where it does not.
    does = (kind == "QueryRaised") == is_monitor(screened, outsider)
    assert answers[0][0] == (404 if does else 403)


def is_monitor(site: Site, person: Person) -> bool:
    account = site.store.app.find_account(person.user_id)
    return account is not None and account.role is Role.MONITOR


def test_another_sites_subject_takes_a_signature_as_one_that_does_not_exist(
    screened: Site, store: Store, person_in: PersonFactory
) -> None:
    investigator = person_in(
        store, "inv2", printed_name="Rui Alves", role=Role.INVESTIGATOR, sites=("SP",)
    )
    answers = []
    for code in (EXISTING, MISSING):
        body = investigator.body(
            code,
            "RecordsSigned",
            {"entries": [{"entry": 1, "record_hash": "0" * 64}]},
            meaning="review",
        )
        response = screened.client.post(
            "/v1/signatures",
            json={
                "event": body,
                "signature": investigator.sign(body),
                "password": investigator.password,
                "user_id": investigator.user_id,
            },
            headers=screened.auth(investigator),
        )
        answers.append(shape(response, code))

    assert answers[0] == answers[1]
    assert answers[0][0] == 404


def test_screening_a_code_taken_at_another_site_names_no_site(
    screened: Site, store: Store, person_in: PersonFactory
) -> None:
    carla = person_in(store, "coord3", printed_name="Carla Dias", sites=("SP",))

    with Unchanged(screened.store, subject=EXISTING):
        response = screened.submit(carla, "Screened", screening(site="SP"), subject=EXISTING)

    problem = assert_problem(response, 409)
    assert "RP" not in problem["detail"].replace(EXISTING, "")


def test_a_role_that_never_reads_clinical_data_is_told_so_for_any_subject(
    screened: Site, store: Store, person_in: PersonFactory
) -> None:
    admin = person_in(store, "admin1", printed_name="Davi Rocha", role=Role.ADMINISTRATOR, sites=())

    for code in (EXISTING, MISSING, "RP-1%00"):
        response = screened.client.get(
            f"/v1/studies/{STUDY}/subjects/{code}", headers=screened.auth(admin)
        )

        assert_problem(response, 403, detail="administrator does not read clinical data")
