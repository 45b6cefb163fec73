"""``GET /v1/checkpoints/{size}/timestamp``: the authority's answer as it gave it, which an
auditor checks offline against the authority's root."""

from __future__ import annotations

import pytest

from signatures.timestamps import check_timestamp
from tests.conftest import Person, haemoglobin
from tests.e2e.conftest import Site
from tests.tsa import LocalAuthority, stamp_with

PROBLEM = "application/problem+json"


def test_a_checkpoint_s_time_stamp_is_served_as_the_authority_gave_it(
    site: Site, coordinator: Person, authority: LocalAuthority
) -> None:
    stamp_with(site.store, authority)
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
    stamp_with(site.store, authority)
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
    stamp_with(site.store, authority)
    sealed = site.store.app.checkpoints.seal()

    response = site.client.get(f"/v1/checkpoints/{sealed.tree_size}/timestamp")

    assert response.status_code == 200
    check_timestamp(response.get_data(), sealed.note, [authority.root])
