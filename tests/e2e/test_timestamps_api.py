"""``GET /v1/checkpoints/{size}/timestamp``: the authority's answer as it gave it, which an
auditor checks offline against the authority's root; or, when the authority failed, the
failure with the server's signed statement of it, which the auditor checks with the server's
key; problem+json when there is neither."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from infrastructure.store.checkpoints import SealedCheckpoint
from infrastructure.store.merkle_log import checkpoint_timestamps
from infrastructure.store.timestamps import timestamp_of
from signatures.stamp_failures import (
    check_stamp_failure,
    failure_of_record,
    failure_record,
    stamp_failure,
)
from signatures.timestamps import check_timestamp
from tests.conftest import Person, haemoglobin
from tests.e2e.conftest import Site
from tests.integration.test_timestamp_failures import unprotect_timestamps
from tests.integration.test_timestamps import closed_port
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


def failed_to_stamp(site: Site, coordinator: Person, authority: LocalAuthority) -> SealedCheckpoint:
    """A checkpoint sealed while the authority could not be reached."""
    stamp_with(site.store, authority)
    authority_down = site.store.app.checkpoints.stamper
    assert authority_down is not None
    authority_down.authority.url = f"http://127.0.0.1:{closed_port()}/tsa"  # nothing answers
    assert site.submit(coordinator, "BloodCountRecorded", haemoglobin("7.0")).status_code == 201
    return site.store.app.checkpoints.seal()


@pytest.mark.requirement("P11-11.10e-3")
def test_a_checkpoint_whose_authority_failed_serves_the_server_s_signed_statement_of_it(
    site: Site, coordinator: Person, authority: LocalAuthority
) -> None:
    failed = failed_to_stamp(site, coordinator, authority)
    kept = timestamp_of(site.store.engine, failed.tree_size)
    assert kept is not None

    response = site.client.get(f"/v1/checkpoints/{failed.tree_size}/timestamp")

    assert response.status_code == 200
    assert response.mimetype == "application/vnd.sealtrail.time-stamp-failure+json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="checkpoint-{failed.tree_size}-stamp-failure.json"'
    )
    served = response.get_json(force=True)
    assert served == failure_record(kept)
    assert "could not be reached" in served["failure"]
    # What an auditor checks with the server's key alone, as verify does the row.
    origin = site.store.app.checkpoints.origin
    attempt = failure_of_record(served, failed.tree_size)
    check_stamp_failure(
        served["statement"],
        stamp_failure(
            origin, failed.tree_size, failed.note, attempt.requested_at, served["failure"]
        ),
        origin,
        site.store.app.server_key.public_key,
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_checkpoint_with_neither_a_time_stamp_nor_a_signed_failure_is_a_problem_that_says_why(
    site: Site, coordinator: Person, authority: LocalAuthority
) -> None:
    unstamped = site.store.app.checkpoints.latest()
    assert unstamped is not None  # the first write sealed one, with no authority
    failed = failed_to_stamp(site, coordinator, authority)
    # A failure kept without its statement (an insider deleted it; an older server wrote none).
    unprotect_timestamps(site.store)
    with site.store.engine.begin() as connection:
        connection.execute(
            update(checkpoint_timestamps)
            .where(checkpoint_timestamps.c.tree_size == failed.tree_size)
            .values(failure_statement=None)
        )

    answers = {
        size: site.client.get(f"/v1/checkpoints/{size}/timestamp", headers=site.auth(coordinator))
        for size in (unstamped.tree_size, failed.tree_size, 10**30, 2**63)
    }

    assert {response.status_code for response in answers.values()} == {404}
    assert all(response.mimetype == PROBLEM for response in answers.values())
    details = {size: response.get_json()["detail"] for size, response in answers.items()}
    assert "sealed with no time-stamping authority" in details[unstamped.tree_size]
    assert "signed no statement of why" in details[failed.tree_size]
    assert "could not be reached" in details[failed.tree_size]
    assert details[2**63] == f"no checkpoint of size {2**63}"


def test_the_openapi_document_gives_both_bodies_of_a_time_stamp(site: Site) -> None:
    document = site.client.get("/openapi.json").get_json()
    answer = document["paths"]["/v1/checkpoints/{tree_size}/timestamp"]["get"]["responses"]

    assert set(answer["200"]["content"]) == {
        "application/timestamp-reply",
        "application/vnd.sealtrail.time-stamp-failure+json",
    }
    assert "The Content-Type says which" in answer["200"]["description"]
    failure = document["components"]["schemas"]["TimestampFailure"]
    assert failure["required"] == ["failure", "requested_at", "statement"]


def test_a_time_stamp_is_public_like_the_checkpoints(
    site: Site, coordinator: Person, authority: LocalAuthority
) -> None:
    stamp_with(site.store, authority)
    sealed = site.store.app.checkpoints.seal()

    response = site.client.get(f"/v1/checkpoints/{sealed.tree_size}/timestamp")

    assert response.status_code == 200
    check_timestamp(response.get_data(), sealed.note, [authority.root])
