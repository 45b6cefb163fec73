"""Signing in the browser (issue 19, point 7; docs/pages.md): api/web/static/js/signing.js in
Debian's Chromium, and ``/sign`` as the demonstration's investigator uses it.

The JavaScript's canonical bytes are the server's (``signatures.canonical``) for the signing
vector and for strings that trip implementations up; its signature is the one the Python
``cryptography`` library makes and verifies; the investigator signs records on ``/sign`` with
their key file or the key the browser keeps, and the log verifies; a wrong password, another
person's key and a body changed on its way are refused with nothing recorded; no request the
browser makes carries any of the private key's bytes.
"""

from __future__ import annotations

import base64
import itertools
import json
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.demonstration.staff import STAFF
from infrastructure.bootstrap import open_store
from infrastructure.settings import Settings
from signatures.canonical import canonicalize
from signatures.keys import key_id, private_key_from_pem, private_key_to_pem, public_key_to_pem
from tests.browser.harness import (
    OWN_SUBJECTS,
    DemoPerson,
    Served,
    Traffic,
    assert_accessible,
    screenshot,
    sign_in,
)
from tests.cli_stores import sealtrail
from tests.conftest import STUDY, consent, haemoglobin, screening
from tests.homes import database_of

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route


pytestmark = pytest.mark.shares_the_served_store(OWN_SUBJECTS)  # RP-201 on

SIGNING_MODULE = "/assets/js/signing.js"
VECTOR_SEED = bytes(range(32))
VECTOR_BODY = {
    "data": {
        "dose": {"unit": "10^6 cells/kg", "value": "2.7"},
        "given_at": "2011-03-10T10:30:00Z",
        "infusion_number": 1,
        "product_lot": "MSC-2011-014",
    },
    "key_id": "ed25519:56475aa75463474c0285df5dbf2bcab7",
    "kind": "MscInfusionGiven",
    "meaning": "authorship",
    "signed_at": "2011-03-10T10:35:00Z",
    "signer": {"printed_name": "Ana Souza", "user_id": "coord1"},
    "study": "NCT01297972",
    "subject": "RP-101",
    "version": 1,
}
VECTOR_SIGNATURE = (
    "Ec57KY/6P4DVguhwzaLmOz/GuqOwjusUENFW7Q7toi/s+FbU9W8Yuxqn05oOv83gjc7AXT0112R1Wty4mpAEAQ=="
)
"""docs/signing.md's test vector (tests/unit/test_signing_vector.py holds the same)."""

TRICKY = [
    {"printed_name": "João Conceição", "note": "ÿ€😀 \u2028\u2029 \u007f", "n": -(2**53 - 1)},
    {"escapes": 'quote " backslash \\ slash / newline \n return \r tab \t', "empty": ""},
    {"controls": "\u0000\u0001\u001f\b\f", "upper": "\u00e9\u0301"},
    # RFC 8785 section 3.2.3: keys sort by UTF-16 code units, so U+1F600 (D83D DE00) sorts
    # before U+FB33 though its code point is larger; and digits before letters, upper before lower.
    {"\ufb33": 1, "\U0001f600": 2, "\u20ac": 3, "\r": 4, "1": 5, "10": 6, "A": 7, "a": 8, "": 9},
    {"nested": {"z": [1, {"b": [], "a": {}}], "y": None, "x": True, "w": False}, "n": 0},
    [1, "two", [3, [4, {"five": 5}]], None],
]
"""Values whose canonical form implementations most often get wrong."""

INVESTIGATOR, COORDINATOR = "investigator", "coordinator"
SIGNING_MS = 30_000
"""How long the page after a signing may take: the ceremony checks the password at Argon2id's
production cost and the store records the event before the next page is read, each slower on a
loaded machine than the harness's ten seconds for a page action allow."""
SUBJECTS = itertools.count(201)


# -- the module in the browser ---------------------------------------------------------------------


def signing(page: Page, script: str, argument: Any = None) -> Any:
    """Run ``script`` (an async function body with ``signing``, the module, and ``argument``) on
    a page of the server, whose policy allows its own scripts only."""
    return page.evaluate(
        f"async ([path, argument]) => {{ const signing = await import(path); {script} }}",
        [SIGNING_MODULE, argument],
    )


@pytest.fixture
def login_page(page: Page) -> Page:
    page.goto("/login")
    return page


def test_the_canonical_bytes_are_the_servers_for_the_vector_and_tricky_values(
    login_page: Page,
) -> None:
    values = [VECTOR_BODY, *TRICKY]

    written = signing(
        login_page,
        "return argument.map(value => Array.from(signing.canonicalBytes(value)));",
        values,
    )

    for value, bytes_written in zip(values, written, strict=True):
        assert bytes(bytes_written) == canonicalize(value), value


def test_a_lone_surrogate_has_no_canonical_form_in_the_browser_either(login_page: Page) -> None:
    refused = signing(
        login_page,
        "try { signing.canonicalBytes({a: '\\uD800'}); return null; }"
        " catch (error) { return [error.name, error.message]; }",
    )

    assert refused is not None and refused[0] == "SigningError"


def test_the_browser_signs_the_vector_as_docs_signing_md_says(login_page: Page) -> None:
    pem = private_key_to_pem(Ed25519PrivateKey.from_private_bytes(VECTOR_SEED)).decode()

    signed = signing(
        login_page,
        "const key = await signing.keyFromPem(argument.pem);"
        "let exported = 'refused';"
        "try { await crypto.subtle.exportKey('pkcs8', key.privateKey); exported = 'exported'; }"
        " catch (error) { }"
        "return {keyId: key.keyId, extractable: key.privateKey.extractable, exported,"
        " signature: await signing.signBody(key, argument.body)};",
        {"pem": pem, "body": VECTOR_BODY},
    )

    assert signed == {
        "keyId": "ed25519:56475aa75463474c0285df5dbf2bcab7",
        "extractable": False,
        "exported": "refused",
        "signature": VECTOR_SIGNATURE,
    }


def test_a_signature_made_in_the_browser_verifies_with_the_cryptography_library(
    login_page: Page,
) -> None:
    private_key = Ed25519PrivateKey.generate()
    body = {**VECTOR_BODY, "data": TRICKY[0], "key_id": key_id(private_key.public_key())}

    signed = signing(
        login_page,
        "const key = await signing.keyFromPem(argument.pem);"
        "return [key.keyId, await signing.signBody(key, argument.body)];",
        {"pem": private_key_to_pem(private_key).decode(), "body": body},
    )

    assert signed[0] == key_id(private_key.public_key())
    private_key.public_key().verify(base64.b64decode(signed[1]), canonicalize(body))


@pytest.mark.parametrize(
    ("pem", "said"),
    [
        ("not a key", "not a PEM key file"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "public key"),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
            "encrypted",
        ),
        ("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----", "not base64"),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "not an Ed25519 private key",
        ),
    ],
)
def test_a_file_that_is_no_private_key_is_refused_saying_what_it_is(
    login_page: Page, pem: str, said: str
) -> None:
    refused = signing(
        login_page,
        "try { await signing.keyFromPem(argument); return null; }"
        " catch (error) { return [error.name, error.message]; }",
        pem,
    )

    assert refused is not None and refused[0] == "SigningError"
    assert said in refused[1]


# -- /sign as the investigator uses it -------------------------------------------------------------


def demo_key(served: Served, role: str) -> Path:
    """The demonstration person's private key file, as ``sealtrail demo`` keeps it."""
    return served.home / "keys" / "demo" / f"{STAFF[role].user_id}.pem"


@pytest.fixture
def fresh_subject(served: Served, tmp_path: Path) -> str:
    """A subject of site RP newly screened by the demonstration's coordinator (screening,
    consent, a blood count: three records no signature covers yet); the demonstration's own
    subjects are all signed and locked."""
    code = f"RP-{next(SUBJECTS)}"
    coordinator_records(
        served,
        code,
        tmp_path,
        ("Screened", screening(screened_on="2013-01-07")),
        ("ConsentObtained", consent() | {"consented_on": "2013-01-07"}),
        ("BloodCountRecorded", haemoglobin(collected_on="2013-01-08")),
    )
    return code


def coordinator_records(
    served: Served, code: str, folder: Path, *records: tuple[str, dict[str, Any]]
) -> None:
    """The demonstration's coordinator records each (kind, data) of subject ``code`` through
    the API, as a site's client sends them (``sealtrail submit``)."""
    coordinator = served.person(COORDINATOR)
    for kind, data in records:
        event = folder / f"{kind}.json"
        event.write_text(json.dumps({"study": STUDY, "subject": code, "kind": kind, "data": data}))
        sent = sealtrail(
            "submit",
            "--url",
            served.url,
            "--user",
            coordinator.user_id,
            "--key",
            str(demo_key(served, COORDINATOR)),
            str(event),
            home=served.home,
            extra_env={"SEALTRAIL_PASSWORD": coordinator.password},
        )
        assert sent.returncode == 0, sent.stderr


def history_of(served: Served, code: str) -> list[Any]:
    """The subject's events, read from the served store's log."""
    settings = Settings.from_environ(
        {"SEALTRAIL_HOME": str(served.home), "SEALTRAIL_DATABASE_URL": database_of(served.home)}
    )
    with closing(open_store(settings)) as store:
        return [record.event for record in store.reads.history(f"{STUDY}/{code}")]


def choose_records(page: Page, code: str) -> None:
    """On /sign, the subject's unsigned records, all of them, with the meaning review."""
    page.goto("/sign")
    section = page.locator("section", has=page.get_by_role("heading", name=code))
    section.get_by_role("button", name="Review and sign these records").click()
    page.get_by_role("heading", name=f"Sign 3 records of {code}").wait_for()


def sign_with(
    page: Page, person: DemoPerson, *, key_file: Path | None, remember: bool = False
) -> None:
    """Fill the signing form (the key, the ceremony's components) and sign, once the form can
    sign (its script marks it ready and enables its button)."""
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    if key_file is not None:
        page.locator("[data-key-file]").set_input_files(key_file)
    if remember:
        page.get_by_label("Keep this key on this browser").check()
    user_id = page.get_by_label("User id")
    if user_id.count():
        user_id.fill(person.user_id)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign", exact=True).click()


def key_material(path: Path) -> list[bytes]:
    """Every form in which a request could carry the private key in ``path``."""
    pem = path.read_bytes()
    key = private_key_from_pem(pem)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    seed = key.private_bytes_raw()
    texts = [
        b"".join(pem.splitlines()[1:-1]),
        base64.b64encode(der),
        base64.b64encode(seed),
        base64.urlsafe_b64encode(seed).rstrip(b"="),
        seed.hex().encode(),
    ]
    # Form-encoded, base64's + / = travel escaped.
    return [pem, der, seed, *texts, *(urlencode({"k": t})[2:].encode() for t in texts)]


def assert_no_key_in(bodies: list[bytes], key_file: Path) -> None:
    assert bodies, "no request body was seen at all"
    for material in key_material(key_file):
        for body in bodies:
            assert material not in body, "a request carried the private key"


def test_the_investigator_signs_records_with_their_key_file_and_the_log_verifies(
    page: Page, served: Served, fresh_subject: str, sent_bodies: list[bytes]
) -> None:
    investigator = served.person(INVESTIGATOR)
    key_file = demo_key(served, INVESTIGATOR)
    sign_in(page, investigator)
    choose_records(page, fresh_subject)
    assert_accessible(page)
    screenshot(page, "sign-confirm")

    sign_with(page, investigator, key_file=key_file)

    page.get_by_text(f"Signed: RecordsSigned of {fresh_subject}, entry 4").wait_for(
        timeout=SIGNING_MS
    )
    signed = history_of(served, fresh_subject)[-1]
    assert type(signed).__name__ == "RecordsSigned"
    body = json.loads(signed.authorship.signed_body)
    assert body["signer"] == {
        "user_id": investigator.user_id,
        "printed_name": investigator.printed_name,
    }
    assert body["key_id"] == key_id(private_key_from_pem(key_file.read_bytes()).public_key())
    assert body["meaning"] == "review"
    assert [e["entry"] for e in body["data"]["entries"]] == [1, 2, 3]
    verified = sealtrail("verify", home=served.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ", 0 findings" in verified.stdout
    assert_no_key_in(sent_bodies, key_file)


def test_a_key_kept_on_the_browser_signs_until_it_is_forgotten(
    page: Page, served: Served, fresh_subject: str, sent_bodies: list[bytes]
) -> None:
    investigator = served.person(INVESTIGATOR)
    key_file = demo_key(served, INVESTIGATOR)
    sign_in(page, investigator)
    page.goto(f"/sign?subject={fresh_subject}&entry=1&meaning=approval")
    sign_with(page, investigator, key_file=key_file, remember=True)
    page.get_by_text(f"Signed: RecordsSigned of {fresh_subject}, entry 4").wait_for(
        timeout=SIGNING_MS
    )

    page.goto(f"/sign?subject={fresh_subject}&entry=2&entry=3&meaning=responsibility")
    kept = page.get_by_label("Sign with the key this browser keeps for you")
    kept.wait_for()
    assert kept.is_checked()
    assert page.get_by_label("User id").count() == 0  # the second signing of the session
    sign_with(page, investigator, key_file=None)
    page.get_by_text(f"Signed: RecordsSigned of {fresh_subject}, entry 5").wait_for(
        timeout=SIGNING_MS
    )

    page.goto("/sign")
    assert page.get_by_role("heading", name=fresh_subject).count() == 0
    page.goto(f"/sign?subject={fresh_subject}&entry=1&meaning=review")
    kept.wait_for()
    page.get_by_role("button", name="Forget the key this browser keeps").click()
    kept.wait_for(state="hidden")
    page.reload()
    # Once the form has asked this browser for a kept key (it marks itself ready), none is shown.
    page.locator("form[data-signing-ready]").wait_for(state="attached")
    assert not kept.is_visible()
    assert [type(e).__name__ for e in history_of(served, fresh_subject)][3:] == [
        "RecordsSigned",
        "RecordsSigned",
    ]
    assert_no_key_in(sent_bodies, key_file)


def test_a_wrong_password_is_refused_and_nothing_is_recorded(
    page: Page, served: Served, fresh_subject: str
) -> None:
    investigator = served.person(INVESTIGATOR)
    sign_in(page, investigator)
    choose_records(page, fresh_subject)

    wrong = DemoPerson(INVESTIGATOR, investigator.user_id, investigator.printed_name, "not it")
    sign_with(page, wrong, key_file=demo_key(served, INVESTIGATOR))

    summary = page.locator(".error-summary")
    summary.wait_for(timeout=SIGNING_MS)
    assert "The user id or the password is wrong" in summary.inner_text()
    assert page.get_by_label("User id").input_value() == investigator.user_id
    assert page.get_by_label("Password", exact=True).input_value() == ""
    assert len(history_of(served, fresh_subject)) == 3


def test_a_key_of_another_person_is_refused_before_anything_is_sent(
    page: Page, served: Served, fresh_subject: str, traffic: Traffic
) -> None:
    investigator = served.person(INVESTIGATOR)
    sign_in(page, investigator)
    choose_records(page, fresh_subject)
    posts_before = [url for url in traffic.requests if url.endswith("/sign")]

    sign_with(page, investigator, key_file=demo_key(served, COORDINATOR))

    said = page.locator("[data-signing-error]")
    said.wait_for()
    assert "is not one registered to you" in said.inner_text()
    assert said.evaluate("element => element === document.activeElement")
    assert [url for url in traffic.requests if url.endswith("/sign")] == posts_before
    assert len(history_of(served, fresh_subject)) == 3


def test_the_investigator_signs_a_casebook_at_its_milestone(
    page: Page, served: Served, fresh_subject: str, tmp_path: Path
) -> None:
    failure = {"failed_on": "2013-01-09", "reason": "Refused the bone marrow biopsy"}
    coordinator_records(served, fresh_subject, tmp_path, ("ScreenFailed", failure))
    investigator = served.person(INVESTIGATOR)
    sign_in(page, investigator)
    page.goto("/sign")
    section = page.locator("section", has=page.get_by_role("heading", name=fresh_subject))
    casebook = section.get_by_role("group", name="The casebook has reached end of study")
    casebook.get_by_label("Responsibility: I take responsibility for these records").check()
    section.get_by_role("button", name="Review and sign the casebook at end of study").click()
    page.get_by_role(
        "heading", name=f"Sign the casebook of {fresh_subject} at end of study"
    ).wait_for()

    sign_with(page, investigator, key_file=demo_key(served, INVESTIGATOR))

    page.get_by_text(f"Signed: CasebookSigned of {fresh_subject}, entry 5").wait_for(
        timeout=SIGNING_MS
    )
    signed = history_of(served, fresh_subject)[-1]
    body = json.loads(signed.authorship.signed_body)
    assert (body["kind"], body["meaning"]) == ("CasebookSigned", "responsibility")
    assert body["data"]["milestone"] == "end_of_study"
    assert [e["entry"] for e in body["data"]["entries"]] == [1, 2, 3, 4]
    assert page.get_by_role("heading", name=fresh_subject).count() == 0
    verified = sealtrail("verify", home=served.home)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_public_key_file_chosen_by_mistake_is_named_in_the_pages_words(
    page: Page, served: Served, fresh_subject: str, tmp_path: Path
) -> None:
    investigator = served.person(INVESTIGATOR)
    public = tmp_path / "investigator.pub.pem"
    public.write_bytes(
        public_key_to_pem(
            private_key_from_pem(demo_key(served, INVESTIGATOR).read_bytes()).public_key()
        )
    )
    sign_in(page, investigator)
    choose_records(page, fresh_subject)

    sign_with(page, investigator, key_file=public)

    said = page.locator("[data-signing-error]")
    said.wait_for()
    assert said.inner_text() == (
        "This is your public key (the .pub.pem file): choose your private key file."
    )
    assert len(history_of(served, fresh_subject)) == 3


def test_a_body_changed_after_it_was_signed_is_refused_and_nothing_is_recorded(
    page: Page, served: Served, fresh_subject: str
) -> None:
    investigator = served.person(INVESTIGATOR)
    sign_in(page, investigator)
    choose_records(page, fresh_subject)

    def change_the_meaning(route: Route) -> None:
        form = parse_qsl(route.request.post_data or "", keep_blank_values=True)
        changed = []
        for name, value in form:
            if name == "body":
                value = json.dumps({**json.loads(value), "meaning": "approval"})
            changed.append((name, value))
        route.continue_(post_data=urlencode(changed))

    page.route(
        "**/sign",
        lambda route: (
            change_the_meaning(route) if route.request.method == "POST" else route.continue_()
        ),
    )
    sign_with(page, investigator, key_file=demo_key(served, INVESTIGATOR))

    summary = page.locator(".error-summary")
    summary.wait_for(timeout=SIGNING_MS)
    assert "the signature does not verify" in summary.inner_text()
    assert len(history_of(served, fresh_subject)) == 3


def test_another_role_is_refused_the_page(page: Page, served: Served, traffic: Traffic) -> None:
    traffic.tolerate("status of 403")
    sign_in(page, served.person(COORDINATOR))

    answer = page.goto("/sign")

    assert answer is not None and answer.status == 403
    assert page.get_by_role("link", name="Sign", exact=True).count() == 0


def test_the_list_of_what_awaits_the_investigator_is_accessible(
    page: Page, served: Served, fresh_subject: str
) -> None:
    sign_in(page, served.person(INVESTIGATOR))

    page.goto("/sign")

    page.get_by_role("heading", name=fresh_subject).wait_for()
    assert_accessible(page)
    screenshot(page, "sign")
