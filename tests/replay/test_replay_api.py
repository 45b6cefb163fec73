"""``GET /v1/studies/<study>/subjects/<subject>?as_of=`` and ``?position=`` over HTTP."""

from __future__ import annotations

import pytest

from tests.conftest import PersonFactory
from tests.e2e.conftest import Site
from tests.replay.conftest import SUBJECT, Corrected

URL = f"/v1/studies/NCT01297972/subjects/{SUBJECT}"


@pytest.fixture
def client(corrected: Corrected) -> Site:
    return Site(corrected.store)


def test_as_of_a_time_between_the_count_and_its_correction_shows_the_old_value(
    client: Site, corrected: Corrected
) -> None:
    headers = client.auth(corrected.coordinator)

    before = client.client.get(
        URL, query_string={"as_of": corrected.second_after("count")}, headers=headers
    )
    after = client.client.get(
        URL, query_string={"as_of": corrected.second_after("corrected")}, headers=headers
    )
    by_position = client.client.get(
        URL, query_string={"position": corrected.position("consent")}, headers=headers
    )
    now = client.client.get(URL, headers=headers)

    assert before.status_code == 200, before.get_data(as_text=True)
    assert before.get_json()["version"] == 3
    assert before.get_json()["latest_blood_count"]["results"]["haemoglobin"]["value"] == "6.8"
    assert after.get_json()["latest_blood_count"]["results"]["haemoglobin"]["value"] == "8.6"
    assert (by_position.get_json()["version"], by_position.get_json()["status"]) == (
        2,
        "consented",
    )
    assert now.get_json()["version"] == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2011-02-30"}, "as_of"),
        ({"as_of": "2011-03-01T10:00:00+00:00"}, "as_of"),
        ({"position": "0"}, "position"),
        ({"position": "ten"}, "position"),
        ({"position": str(2**64)}, "position"),
        ({"as_of": "2011-03-01", "position": "3"}, "position"),
    ],
)
def test_a_bad_as_of_or_position_or_both_is_422_problem_json_naming_the_field(
    screened: Corrected, query: dict[str, str], field: str
) -> None:
    client = Site(screened.store)
    headers = client.auth(screened.coordinator)

    response = client.client.get(URL, query_string=query, headers=headers)

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422
    assert field in str(problem["errors"])


def test_before_the_subject_existed_it_is_404(client: Site, corrected: Corrected) -> None:
    headers = client.auth(corrected.coordinator)

    too_early = client.client.get(
        URL, query_string={"as_of": corrected.second_before("screened")}, headers=headers
    )
    unknown = client.client.get(
        "/v1/studies/NCT01297972/subjects/RP-999",
        query_string={"as_of": "2030-01-01"},
        headers=headers,
    )

    assert too_early.status_code == 404
    assert "was first recorded at" in too_early.get_json()["detail"]
    assert unknown.status_code == 404


def test_replay_is_read_under_the_same_authorisation_as_the_current_state(
    client: Site, corrected: Corrected, person_in: PersonFactory
) -> None:
    elsewhere = person_in(corrected.store, "coord2", sites=("SP",))
    query = {"position": corrected.position("consent")}

    anonymous = client.client.get(URL, query_string=query)
    other_site = client.client.get(URL, query_string=query, headers=client.auth(elsewhere))
    other_site_now = client.client.get(URL, headers=client.auth(elsewhere))

    assert anonymous.status_code == 401
    # Another site's subject reads as one that does not exist (issue 15, point 11).
    assert other_site.status_code == other_site_now.status_code == 404
