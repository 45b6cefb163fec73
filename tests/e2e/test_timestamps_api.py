"""``GET /v1/checkpoints/{size}/timestamp``: the authority's answer as it gave it, which an
auditor checks offline against the authority's root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.store.timestamps import CheckpointStamper, TimeStampingAuthority
from signatures.timestamps import check_timestamp
from tests.conftest import Person, PersonFactory, consent, haemoglobin, screening
from tests.e2e.conftest import Site
from tests.tsa import LocalAuthority, running_authority

PROBLEM = "application/problem+json"


@pytest.fixture
def authority(tmp_path: Path) -> Iterator[LocalAuthority]:
    with running_authority(tmp_path / "tsa") as running:
        yield running


@pytest.fixture
def coordinator(site: Site, person_in: PersonFactory) -> Person:
    person = person_in(site.store)
    for kind, data in [("Screened", screening()), ("ConsentObtained", consent())]:
        assert site.submit(person, kind, data).status_code == 201
    return person


def stamped_by(site: Site, authority: LocalAuthority) -> None:
    """The site's store stamps its checkpoints from now on (as SEALTRAIL_TSA_URL makes it)."""
    site.store.app.checkpoints.stamper = CheckpointStamper(
        site.store.engine, TimeStampingAuthority(authority.url, [authority.root])
    )


def test_a_checkpoint_s_time_stamp_is_served_as_the_authority_gave_it(
    site: Site, coordinator: Person, authority: LocalAuthority
) -> None:
    stamped_by(site, authority)
    sealed = site.store.app.checkpoints.seal()

    response = site.client.get(
        f"/v1/checkpoints/{sealed.tree_size}/timestamp", headers=site.auth(coordinator)
    )

    assert response.status_code == 200
    assert response.mimetype == "application/timestamp-reply"
    stamped = check_timestamp(response.get_data(), sealed.note, [authority.root])
    assert stamped.authority == "CN=sealtrail test TSA"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_checkpoint_without_a_time_stamp_is_a_problem_that_says_why(
    site: Site, coordinator: Person, authority: LocalAuthority
) -> None:
    unstamped = site.store.app.checkpoints.latest()
    assert unstamped is not None  # the first write sealed one, with no authority
    stamped_by(site, authority)
    authority_down = site.store.app.checkpoints.stamper
    assert authority_down is not None
    authority_down.authority.url = "http://127.0.0.1:9/tsa"  # nothing answers there
    assert site.submit(coordinator, "BloodCountRecorded", haemoglobin("7.0")).status_code == 201
    failed = site.store.app.checkpoints.seal()

    answers = {
        size: site.client.get(f"/v1/checkpoints/{size}/timestamp", headers=site.auth(coordinator))
        for size in (unstamped.tree_size, failed.tree_size, 10**30, 2**63)
    }

    assert {response.status_code for response in answers.values()} == {404}
    assert all(response.mimetype == PROBLEM for response in answers.values())
    details = {size: response.get_json()["detail"] for size, response in answers.items()}
    assert "sealed with no time-stamping authority" in details[unstamped.tree_size]
    assert "could not be reached" in details[failed.tree_size]
    assert details[2**63] == f"no checkpoint of size {2**63}"


def test_a_time_stamp_is_public_like_the_checkpoints(
    site: Site, coordinator: Person, authority: LocalAuthority
) -> None:
    stamped_by(site, authority)
    sealed = site.store.app.checkpoints.seal()

    response = site.client.get(f"/v1/checkpoints/{sealed.tree_size}/timestamp")

    assert response.status_code == 200
    check_timestamp(response.get_data(), sealed.note, [authority.root])
