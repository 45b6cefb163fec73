"""``/verify`` through Flask's test client: the server's claims (checked in the browser by
tests/browser/test_verify_page.py), a kept checkpoint posted, a bad one refused on its field with
nothing changed, and the JSON the page's script reads with the session cookie: an event's content
only to a person who may read it, recorded then as a copy handed out, and to nobody else."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.account import Role
from domain.disclosure import ACCOUNT_HISTORY, HISTORY
from domain.subject import subject_stream
from infrastructure.bootstrap import Store
from signatures.checkpoint import Checkpoint, parse_note, sign_checkpoint
from signatures.log_leaf import event_leaf
from signatures.merkle import leaf_hash
from tests.access.conftest import make_person
from tests.conftest import ON_BOTH_BACKENDS, STUDY, Person, screening
from tests.web.conftest import Browser, text


@dataclass
class Trial:
    """RP-101 at site RP and SP-101 at site SP, their coordinators, an administrator, an
    auditor, and a checkpoint kept from before the last record."""

    store: Store
    people: dict[str, Person]
    kept: str

    def signed_in(self, browser: Browser, who: str) -> Browser:
        person = self.people[who]
        assert browser.sign_in(person.user_id, person.password).status_code == 302
        return browser

    def position(self, subject: str, version: int = 1) -> int:
        history = self.store.reads.history(subject_stream(STUDY, subject))
        return history[version - 1].position


@pytest.fixture
def trial(timed: Store) -> Trial:
    people = {
        "rp": make_person(timed, "coord-rp", role=Role.SITE_COORDINATOR, sites=("RP",)),
        "sp": make_person(timed, "coord-sp", role=Role.SITE_COORDINATOR, sites=("SP",)),
        "admin": make_person(timed, "admin2", role=Role.ADMINISTRATOR),
        "auditor": make_person(timed, "audit1", role=Role.AUDITOR),
    }
    people["rp"].record(timed, "RP-101", "Screened", screening())
    kept = timed.app.checkpoints.seal().note
    people["sp"].record(timed, "SP-101", "Screened", screening(site="SP"))
    timed.app.checkpoints.seal()
    return Trial(timed, people, kept)


def post_checkpoint(browser: Browser, **fields: Any) -> str:
    token = browser.csrf_token("/verify")
    answer = browser.client.post("/verify", data={**fields, "csrf_token": token})
    assert answer.status_code == 200, text(answer)
    return text(answer)


def json_of(browser: Browser, url: str, status: int = 200) -> dict[str, Any]:
    answer = browser.get(url)
    assert answer.status_code == status, text(answer)
    assert answer.mimetype == "application/json"
    found: dict[str, Any] = answer.get_json()
    return found


# -- the page: the server's claims, marked unchecked ---------------------------------------------


def test_the_page_shows_the_latest_checkpoint_marked_as_not_checked_in_the_browser(
    browser: Browser, trial: Trial
) -> None:
    latest = trial.store.app.checkpoints.latest()
    assert latest is not None

    page = text(trial.signed_in(browser, "sp").get("/verify"))

    assert '<h1 class="heading-l">Verify the log</h1>' in page
    assert "Not checked in your browser" in page
    assert latest.note.split("\n")[2] in page  # the root line of the signed note
    assert trial.store.app.server_key.key_id in page
    assert '<script type="module" src="/assets/js/verify-page.js"></script>' in page
    assert 'data-event-url="/verify/evidence/event"' in page


@ON_BOTH_BACKENDS
def test_a_kept_checkpoint_posted_is_said_consistent_with_the_consistency_proof(
    browser: Browser, trial: Trial
) -> None:
    then = parse_note(trial.kept)[0]
    now = trial.store.app.checkpoints.latest()
    assert now is not None and now.tree_size > then.size
    proof = trial.store.app.checkpoints.consistency(then.size, now.tree_size)
    trial.signed_in(browser, "rp")

    pasted = post_checkpoint(browser, checkpoint=trial.kept.replace("\n", "\r\n"))
    token = browser.csrf_token("/verify")
    uploaded = text(
        browser.client.post(
            "/verify",
            data={
                "csrf_token": token,
                "checkpoint_file": (io.BytesIO(trial.kept.encode()), "outside.note"),
            },
            content_type="multipart/form-data",
        )
    )

    for page in (pasted, uploaded):
        assert (
            f"the log of {now.tree_size} events extends your checkpoint of {then.size} events."
            in page
        )
        for hashed in proof:
            assert base64.b64encode(hashed).decode() in page


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"checkpoint": "not a checkpoint"}, "This is not a signed checkpoint: no blank line "),
        ({"checkpoint": "  \r\n "}, "Paste a checkpoint or choose its file"),
        ({}, "Paste a checkpoint or choose its file"),
        (
            {"checkpoint": "Log\n-1\nAAAA\n\n\u2014 Log AAAAAAAA\n"},
            "This is not a signed checkpoint: not a tree size: &#39;-1&#39;",
        ),
        (  # what the note says is shown as text, never as markup
            {"checkpoint": "Log\n1\nAAAA\n\n\u2014 <b>x</b> A&B\n"},
            "This is not a signed checkpoint: the signature by &lt;b&gt;x&lt;/b&gt; is not base64",
        ),
    ],
)
def test_a_text_that_is_no_checkpoint_is_refused_on_its_field_and_changes_nothing(
    browser: Browser, trial: Trial, fields: dict[str, str], error: str
) -> None:
    trial.signed_in(browser, "rp")
    before = trial.store.app.checkpoints.head()

    page = post_checkpoint(browser, **fields)

    assert 'class="error-summary"' in page and '<a href="#checkpoint">' + error in page
    assert 'id="checkpoint-error"' in page
    assert trial.store.app.checkpoints.head() == before
    assert trial.store.disclosures.of("coord-rp") == []


def test_a_file_that_is_not_text_is_refused_on_its_field(browser: Browser, trial: Trial) -> None:
    trial.signed_in(browser, "rp")
    token = browser.csrf_token("/verify")

    page = text(
        browser.client.post(
            "/verify",
            data={"csrf_token": token, "checkpoint_file": (io.BytesIO(b"\xff\xfe"), "x.note")},
            content_type="multipart/form-data",
        )
    )

    assert "This is not a signed checkpoint: a signed note is UTF-8 text" in page


@ON_BOTH_BACKENDS
def test_a_forged_rewritten_or_foreign_checkpoint_is_named_not_consistent(
    browser: Browser, trial: Trial
) -> None:
    then = parse_note(trial.kept)[0]
    app = trial.store.app
    origin = app.checkpoints.origin
    trial.signed_in(browser, "auditor")

    forged = post_checkpoint(
        browser, checkpoint=sign_checkpoint(Ed25519PrivateKey.generate(), origin, then)
    )
    rewritten = post_checkpoint(
        browser,
        checkpoint=sign_checkpoint(
            app.server_key.private_key, origin, Checkpoint(origin, then.size, bytes(32))
        ),
    )
    foreign = post_checkpoint(
        browser,
        checkpoint=sign_checkpoint(
            app.server_key.private_key,
            "other.example/log",
            Checkpoint("other.example/log", 1, bytes(32)),
        ),
    )
    beyond = post_checkpoint(
        browser,
        checkpoint=sign_checkpoint(
            app.server_key.private_key, origin, Checkpoint(origin, 10**6, bytes(32))
        ),
    )

    assert f"checkpoint-signature-invalid: the note carries no signature by {origin}" in forged
    assert "consistency-proof-invalid: the consistency proof does not lead to the old root" in (
        rewritten
    )
    assert "checkpoint-of-another-log: this checkpoint is of another log (other.example/log)" in (
        foreign
    )
    assert "log-truncated: your checkpoint has 1000000 events" in beyond
    assert trial.store.disclosures.of("audit1") == []


# -- the JSON the page's script reads -------------------------------------------------------------


def test_the_script_reads_the_latest_checkpoint_and_consistency_proofs_with_the_session(
    browser: Browser, trial: Trial
) -> None:
    app = trial.store.app
    latest = app.checkpoints.latest()
    assert latest is not None
    trial.signed_in(browser, "sp")

    found = json_of(browser, "/verify/evidence/latest")
    proof = json_of(browser, f"/verify/evidence/consistency?from=3&to={latest.tree_size}")

    assert found["note"] == latest.note and found["tree_size"] == latest.tree_size
    assert found["origin"] == app.checkpoints.origin
    assert found["key_id"] == app.server_key.key_id
    assert proof["proof"] == [
        base64.b64encode(h).decode() for h in app.checkpoints.consistency(3, latest.tree_size)
    ]
    assert json_of(browser, "/verify/evidence/consistency?from=x&to=2", 400) == {
        "status": 400,
        "detail": "from is a whole number from 0",
    }
    assert json_of(browser, "/verify/evidence/consistency?to=2", 400)["status"] == 400
    assert json_of(browser, "/verify/evidence/consistency?from=2&to=99999999", 404)[
        "detail"
    ].startswith("sizes must satisfy 0 <= from <= to <= ")
    assert trial.store.disclosures.of("coord-sp") == []


def test_the_json_routes_answer_a_browser_not_signed_in_with_the_sign_in_page(
    browser: Browser, trial: Trial
) -> None:
    answer = browser.get("/verify/evidence/latest")

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/verify/evidence/latest"


def evidence(browser: Browser, position: int) -> dict[str, Any]:
    return json_of(browser, f"/verify/evidence/event?position={position}")


@ON_BOTH_BACKENDS
def test_an_event_is_given_with_its_content_to_one_who_reads_it_and_recorded_as_a_copy(
    browser: Browser, trial: Trial
) -> None:
    position = trial.position("RP-101")
    trial.signed_in(browser, "rp")
    before = trial.store.app.checkpoints.head()

    answer = browser.get(f"/verify/evidence/event?position={position}")

    found = answer.get_json()
    stored = trial.store.reads.event_at(position).event
    event = found["event"]
    assert event["signed_body"] == stored.authorship.signed_body
    assert event["signature"] == stored.authorship.signature
    assert event["previous_hash"] == stored.previous_hash
    assert event["signer"]["user_id"] == "coord-rp"
    assert (
        event["public_key"]
        == trial.store.app.account("coord-rp").keys[event["signer"]["key_id"]].public_key
    )
    # The leaf the browser computes from these fields is the leaf the proof is of.
    leaf = event_leaf(
        position=position,
        stream_id=event["stream_id"],
        version=event["version"],
        recorded_at=event["recorded_at"],
        event_hash=event["event_hash"],
    )
    assert base64.b64encode(leaf_hash(leaf)).decode() == found["leaf_hash"]
    assert found["tree_size"] == before.size
    (copy,) = trial.store.disclosures.of("coord-rp")
    assert (copy.what, str(copy.scope), copy.channel) == (HISTORY, f"{STUDY}/RP-101", "web")
    assert copy.sha256 == hashlib.sha256(answer.get_data()).hexdigest()
    assert (copy.log_size, copy.log_root) == (before.size, before.root.hex())


@pytest.mark.parametrize(
    ("who", "whose", "readable", "what"),
    [
        ("sp", "RP-101", False, None),  # another site's subject: the leaf hash only
        ("admin", "RP-101", False, None),  # administrators read no clinical data
        ("auditor", "RP-101", True, HISTORY),
        ("admin", "account", True, ACCOUNT_HISTORY),
        ("rp", "account", False, None),  # a coordinator reads no accounts
    ],
)
def test_an_events_content_goes_only_to_those_who_may_read_it(
    browser: Browser, trial: Trial, who: str, whose: str, readable: bool, what: str | None
) -> None:
    position = 1 if whose == "account" else trial.position(whose)
    assert trial.store.reads.event_at(1).event.stream.startswith("accounts/")
    trial.signed_in(browser, who)

    found = evidence(browser, position)

    assert (found["event"] is not None) == readable
    assert found["leaf_hash"] and found["proof"]
    copies = trial.store.disclosures.of(trial.people[who].user_id)
    assert [copy.what for copy in copies] == ([what] if what else [])
    if not readable:
        assert "signed_body" not in json.dumps(found)


def test_no_event_or_a_wrong_position_is_said_and_changes_nothing(
    browser: Browser, trial: Trial
) -> None:
    trial.signed_in(browser, "auditor")
    before = trial.store.app.checkpoints.head()

    missing = json_of(browser, "/verify/evidence/event?position=99999", 404)
    zero = json_of(browser, "/verify/evidence/event?position=0", 400)
    huge = json_of(browser, f"/verify/evidence/event?position={2**70}", 400)
    small_tree = json_of(browser, "/verify/evidence/event?position=5&tree_size=2", 404)
    page = text(browser.get("/verify?position=abc"))
    gone = text(browser.get("/verify?position=99999"))

    assert missing["detail"] == "no event at log position 99999"
    assert zero["detail"] == huge["detail"] == "position is a whole number from 1"
    assert "tree size 2 must be above it" in small_tree["detail"]
    assert '<a href="#position">A log position is a whole number from 1</a>' in page
    assert '<a href="#position">no event at log position 99999</a>' in gone
    assert trial.store.app.checkpoints.head() == before
    assert trial.store.disclosures.of("audit1") == []


def test_without_javascript_an_event_asked_by_position_is_shown_and_recorded_as_a_copy(
    browser: Browser, trial: Trial
) -> None:
    position = trial.position("RP-101")
    trial.signed_in(browser, "rp")

    answer = browser.get(f"/verify?position={position}")

    page = text(answer)
    assert "Screened" in page and "Person coord-rp (coord-rp)" in page
    (copy,) = trial.store.disclosures.of("coord-rp")
    assert (copy.what, copy.channel) == (HISTORY, "web")
    assert copy.sha256 == hashlib.sha256(answer.get_data()).hexdigest()
