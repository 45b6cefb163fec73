"""``POST /v1/events/batch``: a list of signed events recorded in one transaction, all or none.

Through Flask's test client over a real store, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import TestResponse

from infrastructure.bootstrap import Store
from signatures.receipts import verify_receipt
from tests.conftest import Person, PersonFactory, consent, screening
from tests.e2e.conftest import Site
from tests.resilience.harness import half_written_problems

BATCH = "/v1/events/batch"
PROBLEM = "application/problem+json"


@pytest.fixture
def ana(store: Store, person_in: PersonFactory) -> Person:
    return person_in(store, "coord1", printed_name="Ana Souza", sites=("RP",))


@pytest.fixture
def site(store: Store) -> Site:
    return Site(store)


def signed(
    person: Person, subject: str, kind: str, data: dict[str, Any], *, after: int = 0
) -> dict[str, Any]:
    """One signed event of a batch: the subject's next version, or ``after`` more for the
    subject's later events in the same batch."""
    body = person.body(subject, kind, data, version=person.next_version(subject) + after)
    return {"event": body, "signature": person.sign(body)}


def post_batch(
    site: Site, person: Person, items: Any, headers: dict[str, str] | None = None
) -> TestResponse:
    return site.client.post(BATCH, json=items, headers={**site.auth(person), **(headers or {})})


def log_head(store: Store) -> int:
    """The log position of the last event that is not an authentication attempt (a request's
    login is recorded in the authentication log, whatever becomes of the request)."""
    notifications = store.app.recorder.select_notifications(1, 1_000_000)
    return max(
        (n.id for n in notifications if not n.topic.startswith("domain.authentication:")),
        default=0,
    )


def assert_problem(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem: dict[str, Any] = json.loads(response.get_data(as_text=True))
    assert problem["status"] == status
    return problem


def test_a_batch_answers_one_receipt_per_event_in_order_from_one_transaction(
    site: Site, store: Store, ana: Person
) -> None:
    items = [
        signed(ana, "RP-201", "Screened", screening()),
        signed(ana, "RP-202", "Screened", screening()),
        signed(ana, "RP-201", "ConsentObtained", consent(), after=1),
        signed(ana, "RP-202", "ConsentObtained", consent(), after=1),
        signed(ana, "RP-201", "ConsentObtained", consent(), after=2),
    ]

    response = post_batch(site, ana, items)

    assert response.status_code == 201, response.get_data(as_text=True)
    receipts = response.get_json()
    assert [(r["subject"], r["version"], r["kind"]) for r in receipts] == [
        ("RP-201", 1, "Screened"),
        ("RP-202", 1, "Screened"),
        ("RP-201", 2, "ConsentObtained"),
        ("RP-202", 2, "ConsentObtained"),
        ("RP-201", 3, "ConsentObtained"),
    ]
    server_key = store.app.server_key.public_key
    for receipt in receipts:
        verify_receipt(server_key, receipt)
    # One insert: the five events hold five consecutive log positions and leaves.
    positions = sorted(receipt["position"] for receipt in receipts)
    assert positions == list(range(positions[0], positions[0] + 5))
    assert positions[-1] == log_head(store)
    assert half_written_problems(store) == []
    assert store.verifier(workers=1).verify().findings == []


def test_a_batch_with_one_refused_event_records_none_and_names_it(
    site: Site, store: Store, ana: Person
) -> None:
    head = log_head(store)
    items = [
        signed(ana, "RP-301", "Screened", screening()),
        signed(ana, "RP-301", "ConsentObtained", consent(), after=1),
        signed(ana, "RP-302", "ConsentObtained", consent()),  # never screened
    ]

    problem = assert_problem(post_batch(site, ana, items), 404)

    assert problem["detail"].startswith("submission 2:")
    assert log_head(store) == head
    assert store.app.find_subject("NCT01297972/RP-301") is None


def test_a_batch_whose_last_signature_fails_in_the_store_records_none(
    site: Site, store: Store, ana: Person
) -> None:
    head = log_head(store)
    items = [
        signed(ana, "RP-401", "Screened", screening()),
        signed(ana, "RP-401", "ConsentObtained", consent(), after=1),
    ]
    # Still base64 of 64 bytes, so the schema lets it through: the event store refuses it,
    # after the first event was already checked and queued for the same insert.
    forged = items[1]["signature"]
    items[1]["signature"] = ("B" if forged[0] == "A" else "A") + forged[1:]

    assert_problem(post_batch(site, ana, items), 422)

    assert log_head(store) == head
    assert store.app.find_subject("NCT01297972/RP-401") is None


def test_a_batch_retried_with_its_idempotency_key_answers_the_first_receipts_only(
    site: Site, store: Store, ana: Person
) -> None:
    items = [
        signed(ana, "RP-501", "Screened", screening()),
        signed(ana, "RP-501", "ConsentObtained", consent(), after=1),
    ]
    key = {"Idempotency-Key": "batch-501"}
    first = post_batch(site, ana, items, key)
    assert first.status_code == 201, first.get_data(as_text=True)
    head = log_head(store)

    again = post_batch(site, ana, items, key)

    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert log_head(store) == head


def test_a_batch_key_reused_for_another_batch_is_422_and_records_nothing(
    site: Site, store: Store, ana: Person
) -> None:
    key = {"Idempotency-Key": "batch-601"}
    first = [signed(ana, "RP-601", "Screened", screening())]
    assert post_batch(site, ana, first, key).status_code == 201
    head = log_head(store)
    other = [
        signed(ana, "RP-601", "ConsentObtained", consent()),
        signed(ana, "RP-602", "Screened", screening()),
    ]

    assert_problem(post_batch(site, ana, other, key), 422)

    assert log_head(store) == head


@pytest.mark.parametrize(
    ("items", "field"),
    [([], "_schema"), ({"event": {}}, "_schema"), ("not a list", "_schema")],
)
def test_a_batch_that_is_not_a_list_of_1_to_100_events_is_422(
    site: Site, store: Store, ana: Person, items: Any, field: str
) -> None:
    head = log_head(store)

    problem = assert_problem(post_batch(site, ana, items), 422)

    assert field in problem["errors"]
    assert log_head(store) == head


def test_a_batch_of_more_than_100_events_is_422(site: Site, store: Store, ana: Person) -> None:
    one = signed(ana, "RP-701", "Screened", screening())

    problem = assert_problem(post_batch(site, ana, [one] * 101), 422)

    assert "1 to 100" in json.dumps(problem["errors"])
    assert store.app.find_subject("NCT01297972/RP-701") is None


def test_a_malformed_event_in_a_batch_is_422_named_by_its_index(
    site: Site, store: Store, ana: Person
) -> None:
    items = [signed(ana, "RP-801", "Screened", screening()), {"event": {}, "signature": "x"}]

    problem = assert_problem(post_batch(site, ana, items), 422)

    assert set(problem["errors"]) == {"1"}


def test_a_batch_takes_no_if_match(site: Site, store: Store, ana: Person) -> None:
    items = [signed(ana, "RP-901", "Screened", screening())]

    problem = assert_problem(post_batch(site, ana, items, {"If-Match": '"0"'}), 422)

    assert set(problem["errors"]) == {"If-Match"}


def test_the_openapi_document_describes_the_batch_as_a_list_in_and_a_list_out(site: Site) -> None:
    document = site.client.get("/openapi.json").get_json()

    operation = document["paths"]["/v1/events/batch"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    answer = operation["responses"]["201"]["content"]["application/json"]["schema"]
    assert request["type"] == "array" and request["items"]["$ref"].endswith("/Submission")
    assert answer["type"] == "array" and answer["items"]["$ref"].endswith("/Receipt")
    assert {"401", "403", "404", "409", "413", "415", "422"} <= set(operation["responses"])
