"""Checkpoints and proofs over HTTP, checked with the offline verifiers of ``signatures``."""

from __future__ import annotations

import base64

import pytest

from api import rate_limits
from signatures.checkpoint import verify_checkpoint
from signatures.keys import public_key_from_text
from signatures.merkle import verify_consistency, verify_inclusion
from tests.conftest import Person, PersonFactory, haemoglobin
from tests.e2e.conftest import Site

PROBLEM = "application/problem+json"


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_before_any_record_there_is_no_checkpoint_to_serve(
    site: Site, person_in: PersonFactory
) -> None:
    auditor = person_in(site.store)  # account events are console saves: no checkpoint is due

    response = site.client.get("/v1/checkpoints/latest", headers=site.auth(auditor))

    assert response.status_code == 404
    assert response.mimetype == PROBLEM
    assert "no checkpoint" in response.get_json()["detail"]


def test_the_latest_checkpoint_is_a_signed_note_the_server_key_verifies(
    site: Site, coordinator: Person
) -> None:
    site.store.app.checkpoints.seal()
    response = site.client.get("/v1/checkpoints/latest", headers=site.auth(coordinator))

    assert response.status_code == 200
    body = response.get_json()
    server_key = site.client.get("/v1/server-key").get_json()
    checkpoint = verify_checkpoint(
        body["note"], body["origin"], public_key_from_text(server_key["public_key"])
    )
    assert checkpoint.size == body["tree_size"]
    assert checkpoint.root == b64(body["root"])


def test_an_event_s_inclusion_proof_verifies_against_the_checkpoint(
    site: Site, coordinator: Person
) -> None:
    receipt = site.submit(coordinator, "BloodCountRecorded", haemoglobin()).get_json()
    site.store.app.checkpoints.seal()
    latest = site.client.get("/v1/checkpoints/latest", headers=site.auth(coordinator)).get_json()

    response = site.client.get(
        f"/v1/events/{receipt['position']}/proof?tree_size={latest['tree_size']}",
        headers=site.auth(coordinator),
    )

    assert response.status_code == 200
    proof = response.get_json()
    assert proof["leaf_index"] == receipt["leaf_index"]
    verify_inclusion(
        b64(proof["leaf_hash"]),
        proof["leaf_index"],
        latest["tree_size"],
        [b64(h) for h in proof["proof"]],
        b64(latest["root"]),
    )


def test_a_consistency_proof_links_two_checkpoints(site: Site, coordinator: Person) -> None:
    early = site.store.app.checkpoints.seal()
    site.submit(coordinator, "BloodCountRecorded", haemoglobin("7.5"))
    site.submit(coordinator, "BloodCountRecorded", haemoglobin("7.6"))
    late = site.store.app.checkpoints.seal()

    response = site.client.get(
        f"/v1/checkpoints/consistency?from={early.tree_size}&to={late.tree_size}",
        headers=site.auth(coordinator),
    )

    assert response.status_code == 200
    body = response.get_json()
    assert (body["from"], body["to"]) == (early.tree_size, late.tree_size)
    verify_consistency(
        early.tree_size, late.tree_size, early.root, late.root, [b64(h) for h in body["proof"]]
    )


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/v1/events/999999/proof", 404),
        ("/v1/events/1/proof?tree_size=999999", 404),
        ("/v1/events/1/proof?tree_size=0", 422),
        ("/v1/events/1/proof?tree_size=abc", 422),
        ("/v1/events/1/proof?size=3", 422),
        ("/v1/checkpoints/consistency?from=5&to=2", 404),
        ("/v1/checkpoints/consistency?from=1&to=999999", 404),
        ("/v1/checkpoints/consistency?from=1", 422),
        ("/v1/checkpoints/consistency?from=-1&to=2", 422),
    ],
)
def test_a_proof_of_something_the_log_never_had_is_a_problem(
    site: Site, coordinator: Person, url: str, status: int
) -> None:
    response = site.client.get(url, headers=site.auth(coordinator))

    assert response.status_code == status
    assert response.mimetype == PROBLEM
    assert response.get_json()["status"] == status


PUBLIC = [
    "/v1/checkpoints/latest",
    "/v1/events/1/proof",
    "/v1/checkpoints/consistency?from=1&to=2",
    "/v1/server-key",
]


@pytest.mark.parametrize("url", PUBLIC)
def test_checkpoints_proofs_and_the_server_key_need_no_token(
    site: Site, coordinator: Person, url: str
) -> None:
    site.submit(coordinator, "BloodCountRecorded", haemoglobin("7.9"))
    site.store.app.checkpoints.seal()

    response = site.client.get(url)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"


def test_the_public_answers_hold_no_clinical_data(site: Site, coordinator: Person) -> None:
    site.submit(coordinator, "BloodCountRecorded", haemoglobin("7.9"))
    site.store.app.checkpoints.seal()

    said = " ".join(site.client.get(url).get_data(as_text=True) for url in PUBLIC)

    for clinical in ("RP-101", "7.9", "haemoglobin", "BloodCountRecorded", coordinator.user_id):
        assert clinical not in said


def test_a_flood_of_public_requests_is_answered_429_as_a_problem(site: Site) -> None:
    site.config["PUBLIC_RATE_LIMIT"] = "5 per minute"
    rate_limits.limiter.reset()

    statuses = [site.client.get("/v1/server-key").status_code for _ in range(5)]
    refused = site.client.get("/v1/checkpoints/latest")  # one budget for every public endpoint

    assert statuses == [200] * 5
    assert refused.status_code == 429
    assert refused.mimetype == PROBLEM
    assert refused.get_json()["status"] == 429
    assert int(refused.headers["Retry-After"]) > 0
    rate_limits.limiter.reset()


def test_the_openapi_document_says_the_public_endpoints_need_no_token(site: Site) -> None:
    paths = site.client.get("/openapi.json").get_json()["paths"]

    for path in [
        "/v1/checkpoints/latest",
        "/v1/checkpoints/consistency",
        "/v1/events/{position}/proof",
        "/v1/server-key",
    ]:
        operation = paths[path]["get"]
        assert operation["security"] == []
        assert "401" not in operation["responses"]
        assert "429" in operation["responses"]
