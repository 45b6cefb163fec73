"""Text is text: what a string field takes on the way in (issue 15, point 8).

A value that can never leave the archive (the ODM export refuses U+0000) or that names a second
subject by a trailing newline is refused with a field-by-field 422, and nothing is recorded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.subject import subject_stream
from infrastructure.bootstrap import Store
from tests.conftest import STUDY, Person, PersonFactory, consent, screening
from tests.e2e.conftest import Site
from tests.e2e.test_api import SUBJECT, Unchanged, assert_field_errors, log_head


@pytest.fixture
def ana(store: Store, person_in: PersonFactory) -> Person:
    return person_in(store, "coord1", printed_name="Ana Souza", sites=("RP",))


@pytest.fixture
def screened(site: Site, ana: Person) -> Person:
    response = site.submit(ana, "Screened", screening())
    assert response.status_code == 201, response.get_data(as_text=True)
    return ana


def swapped_request(person: Person, body: dict[str, Any], placeholder: str, value: str) -> str:
    """The signed request as JSON text, one string swapped afterwards for ``value``.

    The swap is done on the JSON text (``value`` written with ``\\u`` escapes), so that a lone
    surrogate, which no signer can canonicalise, reaches the server as a client could send it.
    """
    text = json.dumps({"event": body, "signature": person.sign(body)})
    quoted = json.dumps(placeholder)
    assert quoted in text
    return text.replace(quoted, json.dumps(value))


def test_a_nul_in_a_tcle_version_is_refused(site: Site, screened: Person) -> None:
    with Unchanged(site.store):
        response = site.submit(screened, "ConsentObtained", {**consent(), "tcle_version": "2.0\0"})

    errors = assert_field_errors(response)
    assert set(errors["event"]["data"]) == {"tcle_version"}


@pytest.mark.requirement("P11-11.10h-2")
def test_a_subject_code_with_a_trailing_newline_is_refused_and_opens_no_second_subject(
    site: Site, ana: Person
) -> None:
    assert site.submit(ana, "Screened", screening(), subject="RP-50").status_code == 201
    head = log_head(site.store)

    response = site.submit(ana, "Screened", screening(), subject="RP-50\n")

    assert set(assert_field_errors(response)["event"]) == {"subject"}
    assert log_head(site.store) == head
    assert site.store.app.find_subject(subject_stream(STUDY, "RP-50\n")) is None


@pytest.mark.parametrize(
    "value",
    ["2.0\0", "2.0\x07", "\x1b[31m2.0", "2.0\x7f", "2.0\x85", "2.0\t", "2.0\n", "2.0\r", "2\ud800"],
    ids=[
        "nul",
        "bell",
        "escape",
        "delete",
        "c1-next-line",
        "tab",
        "newline",
        "return",
        "surrogate",
    ],
)
@pytest.mark.requirement("P11-11.10h-2")
def test_control_characters_and_lone_surrogates_in_one_line_text_are_refused(
    site: Site, screened: Person, value: str
) -> None:
    body = screened.body(SUBJECT, "ConsentObtained", consent())

    with Unchanged(site.store):
        response = site.post_raw(screened, swapped_request(screened, body, "2.0", value))

    assert set(assert_field_errors(response)["event"]["data"]) == {"tcle_version"}


@pytest.mark.parametrize("value", ["First line.\nSecond line.", "Windows line.\r\nNext."])
def test_a_field_documented_as_multiline_takes_line_breaks(
    site: Site, screened: Person, value: str
) -> None:
    data = {
        "occurred_on": "2011-02-15",
        "category": "other",
        "description": value,
        "major": False,
    }

    response = site.submit(screened, "ProtocolDeviationRecorded", data)

    assert response.status_code == 201, response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["Line.\0", "Line.\x0b", "Line.\ud800"], ids=["nul", "vt", "sur"])
def test_a_multiline_field_still_refuses_other_control_characters(
    site: Site, screened: Person, value: str
) -> None:
    data = {
        "occurred_on": "2011-02-15",
        "category": "other",
        "description": "PLACEHOLDER",
        "major": False,
    }
    body = screened.body(SUBJECT, "ProtocolDeviationRecorded", data)

    with Unchanged(site.store):
        response = site.post_raw(screened, swapped_request(screened, body, "PLACEHOLDER", value))

    assert set(assert_field_errors(response)["event"]["data"]) == {"description"}


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("study", f"{STUDY}\n"),
        ("key_id", "KEY\n"),
        ("printed_name", "Ana\0Souza"),
        ("user_id", "coord1\n"),
    ],
)
def test_codes_match_whole_and_names_are_plain_text_in_the_signed_body(
    site: Site, screened: Person, where: str, value: str
) -> None:
    body = screened.body(SUBJECT, "ConsentObtained", consent())
    if where == "key_id":
        value = screened.key_id + "\n"
    if where in ("printed_name", "user_id"):
        body["signer"][where] = value
    else:
        body[where] = value

    with Unchanged(site.store):
        response = site.submit(screened, "ConsentObtained", consent(), body=body)

    errors = assert_field_errors(response)["event"]
    assert (set(errors["signer"]) if where in ("printed_name", "user_id") else set(errors)) == {
        where
    }


def test_a_query_item_is_a_code(site: Site, screened: Person) -> None:
    monitor_free = {"entry": 1, "entry_kind": "Screened", "question": "Age?", "item": "age\0"}

    with Unchanged(site.store):
        response = site.submit(screened, "QueryRaised", monitor_free)

    assert set(assert_field_errors(response)["event"]["data"]) == {"item"}
