"""The HTTP API as a site's script meets it: Flask's test client over a real store.

Every error path of the contract answers ``application/problem+json`` with ``type``, ``title``,
``status`` and ``detail`` (and a field-by-field ``errors`` object for validation errors), and a
refused write leaves the log and the subject exactly as they were. No mocks: real Ed25519 keys,
a real SQLite store, and the happy path and the idempotent replay on PostgreSQL too.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from werkzeug.test import TestResponse

from api.http.auth import SALT
from domain.account import Role
from domain.subject import subject_stream
from infrastructure.bootstrap import Store
from infrastructure.identity.server_key import token_secret
from signatures.errors import SignatureInvalid
from signatures.keys import public_key_from_text
from signatures.receipts import verify_receipt
from tests.conftest import (
    STUDY,
    Person,
    PersonFactory,
    consent,
    eligibility,
    enrolment,
    haemoglobin,
    infusion,
    screening,
)
from tests.e2e.conftest import Site

PROBLEM = "application/problem+json"
SUBJECT = "RP-101"
SUBJECT_URL = f"/v1/studies/{STUDY}/subjects/{SUBJECT}"
HISTORY_URL = f"{SUBJECT_URL}/history"


def with_literal(person: Person, body: dict[str, Any], placeholder: str, literal: str) -> str:
    """The signed request as JSON text, one value swapped for a literal no signer can canonicalise.

    The signature is over the body before the swap; the schema refuses the request first.
    """
    text = json.dumps({"event": body, "signature": person.sign(body)})
    assert placeholder in text
    return text.replace(placeholder, literal)


@pytest.fixture
def ana(store: Store, person_in: PersonFactory) -> Person:
    """A coordinator of site RP."""
    return person_in(store, "coord1", printed_name="Ana Souza", sites=("RP",))


@pytest.fixture
def bruno(store: Store, person_in: PersonFactory) -> Person:
    """Another coordinator of site RP."""
    return person_in(store, "coord2", printed_name="Bruno Lima", sites=("RP",))


@pytest.fixture
def carla(store: Store, person_in: PersonFactory) -> Person:
    """A coordinator of another site, SP."""
    return person_in(store, "coord3", printed_name="Carla Dias", sites=("SP",))


@pytest.fixture
def admin(store: Store, person_in: PersonFactory) -> Person:
    return person_in(store, "admin1", printed_name="Davi Rocha", role=Role.ADMINISTRATOR, sites=())


@pytest.fixture
def screened(site: Site, ana: Person) -> Person:
    """RP-101 screened by Ana; returns Ana."""
    response = site.submit(ana, "Screened", screening())
    assert response.status_code == 201, response.get_data(as_text=True)
    return ana


# -- what every answer is checked against --------------------------------------------------------


def assert_problem(
    response: TestResponse, status: int, *, title: str | None = None, detail: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem with this status; ``detail`` is a substring the detail must hold."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    problem = json.loads(response.get_data(as_text=True))
    assert problem["status"] == status
    assert re.fullmatch(r"urn:sealtrail:problem:[a-z0-9-]+", problem["type"]), problem["type"]
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    if title is not None:
        assert problem["title"] == title
    if detail is not None:
        assert detail in problem["detail"], problem["detail"]
    return dict(problem)


def assert_field_errors(response: TestResponse) -> dict[str, Any]:
    """A 422 schema problem; returns its ``errors`` object."""
    problem = assert_problem(
        response,
        422,
        title="Unprocessable Entity",
        detail="the request is well-formed but some fields are invalid",
    )
    assert problem["type"] == "urn:sealtrail:problem:unprocessable-entity"
    assert isinstance(problem["errors"], dict)
    return dict(problem["errors"])


def log_head(store: Store) -> int:
    return store.app.recorder.max_notification_id() or 0


def version_of(store: Store, subject: str = SUBJECT) -> int:
    """The subject's version as the store holds it (0 if never screened)."""
    found = store.app.find_subject(subject_stream(STUDY, subject))
    return 0 if found is None else int(found.version)


class Unchanged:
    """Asserts, on exit, that the log and the subject are as they were on entry."""

    def __init__(self, store: Store, subject: str = SUBJECT) -> None:
        self.store = store
        self.subject = subject

    def __enter__(self) -> Unchanged:
        self.head = log_head(self.store)
        self.version = version_of(self.store, self.subject)
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            appended = self.store.app.recorder.select_notifications(self.head + 1, 1000)
            # Asking for a token is recorded in the authentication log; nothing else may be.
            assert all(n.topic.startswith("domain.authentication:") for n in appended), (
                "a refused write appended to the log"
            )
            assert version_of(self.store, self.subject) == self.version


@pytest.fixture
def unchanged(store: Store) -> Iterator[Unchanged]:
    with Unchanged(store) as guard:
        yield guard


# -- happy paths ---------------------------------------------------------------------------------


def test_a_user_id_and_password_give_a_short_lived_bearer_token(site: Site, ana: Person) -> None:
    response = site.client.post(
        "/v1/auth/token", json={"username": ana.user_id, "password": ana.password}
    )

    assert response.status_code == 200
    token = response.get_json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 900
    assert isinstance(token["access_token"], str) and token["access_token"]


def test_a_signed_write_answers_201_with_a_receipt_the_server_key_verifies(
    site: Site, person_in: PersonFactory
) -> None:
    ana = person_in(site.store, "coord1")

    response = site.submit(ana, "Screened", screening())

    assert response.status_code == 201, response.get_data(as_text=True)
    receipt = response.get_json()
    server_key = site.client.get("/v1/server-key").get_json()
    verify_receipt(public_key_from_text(server_key["public_key"]), receipt)
    assert receipt["server_key_id"] == server_key["key_id"]
    assert receipt["study"] == STUDY
    assert receipt["subject"] == SUBJECT
    assert receipt["version"] == 1
    assert receipt["kind"] == "Screened"
    assert receipt["position"] == log_head(site.store)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", receipt["server_time"])
    assert receipt["event_hash"] != receipt["previous_hash"]


def test_a_tampered_receipt_does_not_verify(site: Site, screened: Person) -> None:
    receipt = site.submit(screened, "ConsentObtained", consent()).get_json()
    server_key = site.client.get("/v1/server-key").get_json()

    with pytest.raises(SignatureInvalid):
        verify_receipt(public_key_from_text(server_key["public_key"]), {**receipt, "version": 99})


def test_a_subject_reads_back_as_its_projection(site: Site, screened: Person) -> None:
    site.submit(screened, "ConsentObtained", consent())

    response = site.client.get(SUBJECT_URL, headers=site.auth(screened))

    assert response.status_code == 200
    summary = response.get_json()
    assert summary["study"] == STUDY
    assert summary["subject"] == SUBJECT
    assert summary["site"] == "RP"
    assert summary["sex"] == "F"
    assert summary["age"] == 34
    assert summary["screened_on"] == "2011-02-14"
    assert summary["consent"] is not None
    assert summary["version"] == 2


def test_the_history_lists_every_event_with_its_signature_manifestation(
    site: Site, screened: Person
) -> None:
    site.submit(screened, "ConsentObtained", consent())
    site.submit(screened, "EligibilityAssessed", eligibility())
    site.submit(screened, "Enrolled", enrolment())
    site.submit(screened, "BloodCountRecorded", haemoglobin())

    response = site.client.get(HISTORY_URL, headers=site.auth(screened))

    assert response.status_code == 200
    history = response.get_json()
    assert [entry["kind"] for entry in history] == [
        "Screened",
        "ConsentObtained",
        "EligibilityAssessed",
        "Enrolled",
        "BloodCountRecorded",
    ]
    assert [entry["version"] for entry in history] == [1, 2, 3, 4, 5]
    for before, entry in itertools.pairwise(history):
        assert entry["previous_hash"] == before["event_hash"]
        assert entry["position"] > before["position"]
    for entry in history:
        manifestation = entry["signature_manifestation"]
        assert manifestation["user_id"] == screened.user_id
        assert manifestation["printed_name"] == "Ana Souza"
        assert manifestation["meaning"] == "authorship"
        assert manifestation["key_id"] == screened.key_id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", manifestation["signed_at"])
        assert json.loads(entry["signed_body"])["signed_at"] == manifestation["signed_at"]
        assert entry["signature"]
    assert history[4]["data"]["results"] == {"haemoglobin": {"value": "7.2", "unit": "g/dL"}}


def test_me_names_the_authenticated_person_and_their_keys(site: Site, ana: Person) -> None:
    response = site.client.get("/v1/me", headers=site.auth(ana))

    assert response.status_code == 200
    me = response.get_json()
    assert me["user_id"] == "coord1"
    assert me["printed_name"] == "Ana Souza"
    assert me["role"] == "site_coordinator"
    assert me["sites"] == ["RP"]
    assert [key["key_id"] for key in me["keys"]] == [ana.key_id]
    assert me["keys"][0]["revoked_at"] is None


def test_the_openapi_document_lists_every_endpoint(site: Site) -> None:
    response = site.client.get("/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operations >= {
        ("POST", "/v1/auth/token"),
        ("POST", "/v1/events"),
        ("GET", "/v1/studies/{study}/subjects/{subject}"),
        ("GET", "/v1/studies/{study}/subjects/{subject}/history"),
        ("GET", "/v1/me"),
        ("GET", "/v1/server-key"),
        ("GET", "/v1/checkpoints/latest"),
        ("GET", "/v1/checkpoints/consistency"),
        ("GET", "/v1/events/{position}/proof"),
    }
    api_rules = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
        for rule in site.app.url_map.iter_rules()
        if rule.rule.startswith("/v1/")
    }
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", path) for path in document["paths"]}
    assert api_rules <= documented


def test_the_docs_page_loads_its_assets_locally_and_from_no_cdn(site: Site) -> None:
    response = site.client.get("/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in page
    external = [
        url
        for url in re.findall(r"""https?://[^\s"'<>)]+""", page)
        if not re.match(r"https?://(localhost|127\.0\.0\.1)([:/]|$)", url)
    ]
    assert external == []
    for asset in re.findall(r"""(?:src|href)=["'](/docs/assets/[^"']+)["']""", page):
        assert site.client.get(asset).status_code == 200, asset


def test_a_docs_asset_is_served(site: Site) -> None:
    response = site.client.get("/docs/assets/swagger-ui-bundle.js")

    assert response.status_code == 200
    assert "javascript" in (response.mimetype or "")
    assert len(response.get_data()) > 1000


# -- 400 malformed ---------------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_a_bad_request(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    response = site.post_raw(screened, b'{"event": {"study": ')

    assert_problem(response, 400, title="Bad Request", detail="not valid JSON")


def test_a_body_that_is_not_utf8_is_a_bad_request(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    response = site.post_raw(screened, b'{"event": "\xff\xfe"}')

    assert_problem(response, 400, title="Bad Request")


def test_a_body_nested_too_deeply_to_parse_is_a_bad_request_not_a_crash(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    depth = 100_000
    response = site.post_raw(screened, b'{"event": ' + b"[" * depth + b"]" * depth + b"}")

    assert_problem(response, 400, title="Bad Request", detail="nested too deeply")


@pytest.mark.parametrize("payload", [b"[]", b"null", b'"event"', b"7"])
def test_a_json_body_that_is_not_an_object_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged, payload: bytes
) -> None:
    response = site.post_raw(screened, payload)

    assert assert_field_errors(response) == {"_schema": ["Invalid input type."]}


# -- 401 not authenticated -----------------------------------------------------------------------


def test_a_write_without_a_token_is_unauthenticated(
    site: Site, ana: Person, unchanged: Unchanged
) -> None:
    body = ana.body(SUBJECT, "Screened", screening())

    response = site.client.post("/v1/events", json={"event": body, "signature": ana.sign(body)})

    assert_problem(response, 401, title="Authentication failed", detail="Authorization: Bearer")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_read_without_a_token_is_unauthenticated(site: Site, screened: Person) -> None:
    for url in (SUBJECT_URL, HISTORY_URL, "/v1/me"):
        response = site.client.get(url)

        assert_problem(response, 401, title="Authentication failed")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-token",
        "Bearer ",
        "Basic Y29vcmQxOnB3",
        "Bearer eyJzdWIiOiJjb29yZDEifQ.ZZZZZZ.ZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
    ],
)
def test_a_malformed_token_is_unauthenticated(
    site: Site, ana: Person, unchanged: Unchanged, authorization: str
) -> None:
    body = ana.body(SUBJECT, "Screened", screening())

    response = site.client.post(
        "/v1/events",
        json={"event": body, "signature": ana.sign(body)},
        headers={"Authorization": authorization},
    )

    assert_problem(response, 401, title="Authentication failed")


def test_a_token_forged_with_another_secret_is_unauthenticated(
    site: Site, ana: Person, unchanged: Unchanged
) -> None:
    forged = URLSafeTimedSerializer("not the server's secret", salt=SALT).dumps({"sub": "coord1"})
    body = ana.body(SUBJECT, "Screened", screening())

    response = site.client.post(
        "/v1/events",
        json={"event": body, "signature": ana.sign(body)},
        headers={"Authorization": f"Bearer {forged}"},
    )

    assert_problem(response, 401, detail="not one this server issued")


class AnHourAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 3600


def test_an_expired_token_is_unauthenticated(
    site: Site, ana: Person, store: Store, unchanged: Unchanged
) -> None:
    secret = token_secret(store.settings)
    expired = URLSafeTimedSerializer(secret, salt=SALT, signer=AnHourAgo).dumps({"sub": "coord1"})
    body = ana.body(SUBJECT, "Screened", screening())

    response = site.client.post(
        "/v1/events",
        json={"event": body, "signature": ana.sign(body)},
        headers={"Authorization": f"Bearer {expired}"},
    )

    assert_problem(response, 401, detail="expired")


def test_a_token_past_the_configured_lifetime_has_expired(store: Store, ana: Person) -> None:
    site = Site(store)
    site.config["TOKEN_LIFETIME_SECONDS"] = 0
    token = site.token(ana)
    time.sleep(1.1)

    response = site.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 401, detail="expired")


def test_a_token_for_an_account_that_does_not_exist_is_unauthenticated(
    site: Site, store: Store
) -> None:
    secret = token_secret(store.settings)
    token = URLSafeTimedSerializer(secret, salt=SALT).dumps({"sub": "nobody"})

    response = site.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 401, title="Authentication failed")


@pytest.mark.parametrize("username", ["coord1", "nobody"])
def test_a_wrong_password_gets_no_token(site: Site, ana: Person, username: str) -> None:
    response = site.client.post(
        "/v1/auth/token", json={"username": username, "password": "wrong-password-123"}
    )

    problem = assert_problem(response, 401, title="Authentication failed")
    assert "access_token" not in problem
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_request_missing_the_password_is_a_field_error(site: Site) -> None:
    response = site.client.post("/v1/auth/token", json={"username": "coord1"})

    errors = assert_field_errors(response)
    assert errors == {"password": ["Missing data for required field."]}


# -- 403 not allowed -----------------------------------------------------------------------------


def test_a_coordinator_of_another_site_may_not_screen_here(
    site: Site, carla: Person, unchanged: Unchanged
) -> None:
    response = site.submit(carla, "Screened", screening(site="RP"))

    assert_problem(response, 403, title="Not permitted", detail="does not act for site 'RP'")


def test_a_coordinator_of_another_site_finds_no_subject_to_write_to(
    site: Site, screened: Person, carla: Person, unchanged: Unchanged
) -> None:
    response = site.submit(carla, "ConsentObtained", consent())

    # As a subject that does not exist (issue 15, point 11; tests/e2e/test_site_privacy.py).
    assert_problem(response, 404, title="Subject not found", detail="has not been screened")


@pytest.mark.parametrize("url", [SUBJECT_URL, HISTORY_URL])
def test_a_coordinator_of_another_site_finds_no_subject_to_read(
    site: Site, screened: Person, carla: Person, url: str
) -> None:
    response = site.client.get(url, headers=site.auth(carla))

    assert_problem(response, 404, title="Subject not found", detail="has not been screened")


def test_a_body_signed_by_someone_else_is_forbidden(
    site: Site, screened: Person, bruno: Person, unchanged: Unchanged
) -> None:
    response = site.submit(screened, "ConsentObtained", consent(), signed_by=bruno)

    assert_problem(
        response,
        403,
        title="Not permitted",
        detail="authenticated as 'coord1' but the body is signed by 'coord2'",
    )


@pytest.mark.parametrize("url", [SUBJECT_URL, HISTORY_URL])
def test_an_administrator_may_not_read_clinical_data(
    site: Site, screened: Person, admin: Person, url: str
) -> None:
    response = site.client.get(url, headers=site.auth(admin))

    assert_problem(
        response, 403, title="Not permitted", detail="administrator does not read clinical data"
    )


def test_an_administrator_may_not_enter_clinical_data(
    site: Site, screened: Person, admin: Person, unchanged: Unchanged
) -> None:
    response = site.submit(admin, "ConsentObtained", consent())

    assert_problem(
        response, 403, title="Not permitted", detail="administrator does not enter clinical data"
    )


# -- 404 not found -------------------------------------------------------------------------------


def test_writing_to_an_unscreened_subject_is_not_found(
    site: Site, ana: Person, unchanged: Unchanged
) -> None:
    response = site.submit(ana, "ConsentObtained", consent())

    assert_problem(response, 404, title="Subject not found", detail="has not been screened")


@pytest.mark.parametrize("url", [SUBJECT_URL, HISTORY_URL])
def test_reading_an_unknown_subject_is_not_found(site: Site, ana: Person, url: str) -> None:
    response = site.client.get(url, headers=site.auth(ana))

    assert_problem(response, 404, title="Subject not found", detail=f"{STUDY}/{SUBJECT}")


def test_an_unknown_route_is_not_found(site: Site) -> None:
    response = site.client.get("/v1/no-such-thing")

    assert_problem(response, 404, title="Not Found")


def test_a_method_the_route_does_not_have_is_not_allowed(site: Site, ana: Person) -> None:
    response = site.client.delete("/v1/events", headers=site.auth(ana))

    assert_problem(response, 405, title="Method Not Allowed")
    assert "POST" in response.headers["Allow"]


# -- 409 conflict --------------------------------------------------------------------------------


@pytest.mark.parametrize("if_match", ['"0"', "0", '"5"'])
def test_an_if_match_version_other_than_the_current_one_is_a_conflict(
    site: Site, screened: Person, unchanged: Unchanged, if_match: str
) -> None:
    response = site.submit(screened, "ConsentObtained", consent(), headers={"If-Match": if_match})

    assert_problem(response, 409, title="Version conflict", detail="the subject is at 1")


def test_the_current_if_match_version_is_accepted(site: Site, screened: Person) -> None:
    response = site.submit(screened, "ConsentObtained", consent(), headers={"If-Match": '"1"'})

    assert response.status_code == 201
    assert response.get_json()["version"] == 2


def test_if_match_on_a_new_subject_must_be_zero(
    site: Site, ana: Person, unchanged: Unchanged
) -> None:
    response = site.submit(ana, "Screened", screening(), headers={"If-Match": '"1"'})

    assert_problem(response, 409, title="Version conflict", detail="the subject is at 0")


def test_a_malformed_if_match_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    response = site.submit(screened, "ConsentObtained", consent(), headers={"If-Match": "W/abc"})

    assert list(assert_field_errors(response)) == ["If-Match"]


def test_screening_an_already_screened_subject_is_a_conflict(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    response = site.submit(screened, "Screened", screening(age=40))

    assert_problem(response, 409, title="Subject already screened", detail="already screened")


# -- 413, 415 ------------------------------------------------------------------------------------


def test_an_oversized_body_is_too_large(site: Site, screened: Person, unchanged: Unchanged) -> None:
    limit = site.config["MAX_CONTENT_LENGTH"]
    body = screened.body(SUBJECT, "BloodCountRecorded", haemoglobin())
    body["padding"] = "x" * limit

    response = site.post_raw(
        screened, json.dumps({"event": body, "signature": screened.sign(body)})
    )

    assert_problem(response, 413, title="Request Entity Too Large")


def test_an_oversized_token_request_is_too_large(site: Site) -> None:
    password = "x" * (site.config["MAX_CONTENT_LENGTH"] + 1)

    response = site.client.post("/v1/auth/token", json={"username": "a", "password": password})

    assert_problem(response, 413, title="Request Entity Too Large")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_write_that_is_not_json_is_an_unsupported_media_type(
    site: Site, screened: Person, unchanged: Unchanged, content_type: str
) -> None:
    body = screened.body(SUBJECT, "ConsentObtained", consent())
    payload = json.dumps({"event": body, "signature": screened.sign(body)})

    response = site.post_raw(screened, payload, content_type=content_type)

    assert_problem(
        response, 415, title="Unsupported Media Type", detail="send the body as application/json"
    )


def test_a_token_request_that_is_not_json_is_an_unsupported_media_type(site: Site) -> None:
    response = site.client.post("/v1/auth/token", data="username=a&password=b")

    assert_problem(response, 415, title="Unsupported Media Type")


# -- 422 schema ----------------------------------------------------------------------------------


def test_an_unknown_field_in_the_data_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    response = site.submit(screened, "ConsentObtained", {**consent(), "colour": "blue"})

    errors = assert_field_errors(response)
    assert errors == {"event": {"data": {"colour": ["Unknown field."]}}}


def test_an_unknown_field_in_the_body_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    body = screened.body(SUBJECT, "ConsentObtained", consent(), comment="hi")

    response = site.submit(screened, "ConsentObtained", consent(), body=body)

    assert assert_field_errors(response) == {"event": {"comment": ["Unknown field."]}}


def test_missing_fields_are_named_one_by_one(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    response = site.client.post("/v1/events", json={}, headers=site.auth(screened))

    errors = assert_field_errors(response)
    assert errors == {
        "event": ["Missing data for required field."],
        "signature": ["Missing data for required field."],
    }


def test_a_float_where_a_decimal_string_is_expected_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    body = screened.body(SUBJECT, "BloodCountRecorded", haemoglobin(value="0"))

    response = site.post_raw(screened, with_literal(screened, body, '"value": "0"', '"value": 7.2'))

    errors = assert_field_errors(response)
    assert errors == {
        "event": {
            "data": {
                "results": {
                    "haemoglobin": {
                        "value": {"value": ['a decimal is a string such as "2.7" (no exponent)']}
                    }
                }
            }
        }
    }


def test_an_instant_without_z_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    data = infusion(1, given_at="2011-03-10T13:00:00")

    response = site.submit(screened, "MscInfusionGiven", data)

    errors = assert_field_errors(response)
    assert set(errors["event"]["data"]) == {"given_at"}
    assert "Z" in errors["event"]["data"]["given_at"][0]


def test_a_signed_at_without_z_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    body = screened.body(SUBJECT, "ConsentObtained", consent(), signed_at="2011-02-21T08:00:00")

    response = site.submit(screened, "ConsentObtained", consent(), body=body)

    assert set(assert_field_errors(response)["event"]) == {"signed_at"}


@pytest.mark.parametrize("age", [str(2**53), str(-(2**53)), "1" + "0" * 30])
def test_an_integer_beyond_what_json_holds_exactly_is_a_field_error(
    site: Site, ana: Person, unchanged: Unchanged, age: str
) -> None:
    body = ana.body(SUBJECT, "Screened", screening(age=0))

    response = site.post_raw(ana, with_literal(ana, body, '"age": 0', f'"age": {age}'))

    errors = assert_field_errors(response)
    assert set(errors["event"]["data"]) == {"age"}


def test_an_integer_too_long_to_parse_is_a_bad_request_not_a_crash(
    site: Site, ana: Person, unchanged: Unchanged
) -> None:
    body = ana.body(SUBJECT, "Screened", screening(age=0))

    response = site.post_raw(ana, with_literal(ana, body, '"age": 0', '"age": ' + "9" * 5000))

    assert_problem(response, 400, title="Bad Request", detail="not valid JSON")


@pytest.mark.parametrize("age", [True, False])
def test_a_boolean_where_an_integer_is_expected_is_a_field_error(
    site: Site, ana: Person, unchanged: Unchanged, age: bool
) -> None:
    response = site.submit(ana, "Screened", screening(age=age))

    errors = assert_field_errors(response)
    assert errors == {"event": {"data": {"age": ["an integer, not a boolean"]}}}


def test_a_float_where_an_integer_is_expected_is_a_field_error(
    site: Site, ana: Person, unchanged: Unchanged
) -> None:
    body = ana.body(SUBJECT, "Screened", screening(age=0))

    response = site.post_raw(ana, with_literal(ana, body, '"age": 0', '"age": 34.0'))

    assert assert_field_errors(response) == {"event": {"data": {"age": ["Not a valid integer."]}}}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused_where_an_integer_is_expected(
    site: Site, ana: Person, unchanged: Unchanged, literal: str
) -> None:
    body = ana.body(SUBJECT, "Screened", screening(age=0))

    response = site.post_raw(ana, with_literal(ana, body, '"age": 0', f'"age": {literal}'))

    assert set(assert_field_errors(response)["event"]["data"]) == {"age"}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused_where_a_decimal_is_expected(
    site: Site, screened: Person, unchanged: Unchanged, literal: str
) -> None:
    body = screened.body(SUBJECT, "BloodCountRecorded", haemoglobin(value="0"))

    response = site.post_raw(
        screened, with_literal(screened, body, '"value": "0"', f'"value": {literal}')
    )

    errors = assert_field_errors(response)
    assert set(errors["event"]["data"]["results"]["haemoglobin"]["value"]) == {"value"}


def test_a_signature_that_does_not_verify_is_refused(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    body = screened.body(SUBJECT, "ConsentObtained", consent())
    signature = screened.sign(body)
    body["data"]["tcle_version"] = "9.9"

    response = site.client.post(
        "/v1/events",
        json={"event": body, "signature": signature},
        headers=site.auth(screened),
    )

    problem = assert_problem(response, 422, title="Signature invalid")
    assert problem["type"] == "urn:sealtrail:problem:signature-invalid"


def test_a_signature_that_is_not_base64_of_64_bytes_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    body = screened.body(SUBJECT, "ConsentObtained", consent())

    response = site.client.post(
        "/v1/events",
        json={"event": body, "signature": "not-a-signature"},
        headers=site.auth(screened),
    )

    assert list(assert_field_errors(response)) == ["signature"]


def test_a_key_id_that_is_not_the_signers_is_refused(
    site: Site, screened: Person, bruno: Person, unchanged: Unchanged
) -> None:
    body = screened.body(SUBJECT, "ConsentObtained", consent(), key_id=bruno.key_id)

    response = site.submit(screened, "ConsentObtained", consent(), body=body)

    problem = assert_problem(response, 422)
    assert problem["type"] == "urn:sealtrail:problem:unknown-key"


def test_a_wrong_unit_is_a_protocol_rule(site: Site, screened: Person) -> None:
    site.submit(screened, "ConsentObtained", consent())
    with Unchanged(site.store):
        response = site.submit(screened, "BloodCountRecorded", haemoglobin("72", unit="g/L"))

        problem = assert_problem(
            response, 422, title="Unit not accepted", detail="recorded in g/dL, not g/L"
        )
    assert problem["type"] == "urn:sealtrail:problem:unit-not-accepted"
    assert "errors" not in problem


def test_enrolling_an_ineligible_subject_is_a_protocol_rule_with_a_clear_message(
    site: Site, screened: Person
) -> None:
    site.submit(screened, "ConsentObtained", consent())
    site.submit(screened, "EligibilityAssessed", eligibility(EX7=True, IN2=False))
    with Unchanged(site.store):
        response = site.submit(screened, "Enrolled", enrolment())

        problem = assert_problem(response, 422, title="Eligibility not met")
    assert problem["type"] == "urn:sealtrail:problem:eligibility-not-met"
    assert problem["detail"] == (
        "enrolment refused: "
        "inclusion IN2 not met (Relapsed or refractory to at least one first-line "
        "immunosuppressive treatment); exclusion EX7 applies (Pregnancy)"
    )


def test_an_unknown_study_is_a_protocol_rule(site: Site, ana: Person, unchanged: Unchanged) -> None:
    body = ana.body(SUBJECT, "Screened", screening(), study="NCT00000000")

    response = site.submit(ana, "Screened", screening(), body=body)

    assert_problem(response, 422, title="Unknown study", detail="NCT00000000")


def test_an_unknown_kind_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged
) -> None:
    response = site.submit(screened, "Discharged", {"on": "2011-03-01"})

    assert set(assert_field_errors(response)["event"]) == {"kind"}


# -- Idempotency-Key -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["has spaces", "x" * 129, "é", ""])
def test_a_malformed_idempotency_key_is_a_field_error(
    site: Site, screened: Person, unchanged: Unchanged, key: str
) -> None:
    response = site.submit(screened, "ConsentObtained", consent(), headers={"Idempotency-Key": key})

    errors = assert_field_errors(response)
    assert list(errors) == ["Idempotency-Key"]


def test_a_replayed_idempotency_key_returns_the_first_receipt_and_appends_nothing(
    site: Site, person_in: PersonFactory
) -> None:
    ana = person_in(site.store, "coord1")
    site.submit(ana, "Screened", screening())
    body = ana.body(SUBJECT, "ConsentObtained", consent())
    request = {"event": body, "signature": ana.sign(body)}
    headers = {**site.auth(ana), "Idempotency-Key": "consent-RP-101-1"}

    first = site.client.post("/v1/events", json=request, headers=headers)
    with Unchanged(site.store):
        second = site.client.post("/v1/events", json=request, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert first.get_json()["version"] == 2
    assert version_of(site.store) == 2


def test_a_replay_with_a_stale_if_match_still_returns_the_first_receipt(
    site: Site, screened: Person
) -> None:
    body = screened.body(SUBJECT, "ConsentObtained", consent())
    request = {"event": body, "signature": screened.sign(body)}
    headers = {**site.auth(screened), "Idempotency-Key": "k1", "If-Match": '"1"'}

    first = site.client.post("/v1/events", json=request, headers=headers)
    with Unchanged(site.store):
        second = site.client.post("/v1/events", json=request, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()


def test_the_same_idempotency_key_with_another_body_is_refused(
    site: Site, screened: Person
) -> None:
    headers = {"Idempotency-Key": "consent-RP-101-1"}
    first = site.submit(screened, "ConsentObtained", consent(), headers=headers)
    assert first.status_code == 201
    other = {"tcle_version": "3.0", "consented_on": "2011-02-15"}

    with Unchanged(site.store):
        response = site.submit(screened, "ConsentObtained", other, headers=headers)

        assert_problem(
            response,
            422,
            title="Idempotency-Key reused with a different request",
            detail="consent-RP-101-1",
        )


def test_a_refused_write_leaves_the_subject_writable_at_its_version(
    site: Site, screened: Person
) -> None:
    site.submit(screened, "ConsentObtained", consent())
    site.submit(screened, "EligibilityAssessed", eligibility(EX1=True))
    refused = site.submit(screened, "Enrolled", enrolment())
    assert refused.status_code == 422

    site.submit(screened, "EligibilityAssessed", eligibility(), headers={"If-Match": '"3"'})
    response = site.submit(screened, "Enrolled", enrolment(), headers={"If-Match": '"4"'})

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["version"] == 5
    summary = site.client.get(SUBJECT_URL, headers=site.auth(screened)).get_json()
    assert summary["version"] == 5
    assert summary["enrolment"]["enrolled_on"] == "2011-02-21"
