"""A person's signing keys changed on the pages (api/web/administering.py, api/web/public_keys.py),
as ``sealtrail key register|rotate|revoke`` changes them: the administrator gives the person's
public key (pasted, or its file opened), the server derives its key id as the console does, and
the administrator's browser signs the event (sign-form.js's steps, in Python, with real keys).
The key is then read back from the log and signs for its holder. Each refusal records nothing.

On SQLite, as tests/web's (the account changes' own path runs on both backends in
tests/web/test_admin_changes.py and tests/web/test_admin_opening.py).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from domain.account import next_whole_second
from domain.wire import instant_to_wire
from infrastructure.bootstrap import Store
from signatures.keys import (
    generate_private_key,
    key_id,
    private_key_to_pem,
    public_key_to_pem,
)
from tests.access.conftest import make_admin, make_person
from tests.web.conftest import Browser, text
from tests.web.signed_forms import SigningPage


class KeyStaff:
    """An administrator and a monitor at RP (with a key registered), the administrator signed in."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.admin = make_admin(store)
        self.monitor = make_person(store, "mon1", role=None, sites=("RP",))
        self.browser = Browser(store)
        assert self.browser.sign_in(self.admin.user_id, self.admin.password).status_code == 302

    def version(self) -> int:
        return int(self.store.app.account("mon1").version)

    def given(self, change: str, **fields: object) -> SigningPage:
        """The second step of ``change`` of mon1's account, once ``fields`` were given."""
        url = f"/admin/accounts/mon1/{change}"
        first = self.browser.get(url)
        assert first.status_code == 200 and 'id="signing-body"' not in text(first)
        token = self.browser.csrf_token(url)
        answer = self.browser.client.post(
            url, data={"csrf_token": token, **fields}, content_type="multipart/form-data"
        )
        return SigningPage(answer)


@pytest.fixture
def staff(timed: Store) -> KeyStaff:
    return KeyStaff(timed)


def a_public_key() -> tuple[bytes, str]:
    """A new key pair's public key PEM, as ``sealtrail key generate`` writes it, and its id."""
    private_key = generate_private_key()
    return public_key_to_pem(private_key.public_key()), key_id(private_key.public_key())


def test_a_key_pasted_is_registered_under_the_id_the_console_derives(staff: KeyStaff) -> None:
    pem, expected = a_public_key()
    page = staff.given("register-key", public_key=pem.decode("ascii"))

    assert expected in page.page
    assert page.body["data"]["key_id"] == expected
    # One instant for the empty field and the body's signed_at, as sign-form.js takes it.
    signed_at = instant_to_wire(datetime.now(UTC))
    answer = staff.browser.client.post(
        "/admin/accounts/mon1/register-key",
        data=page.signed(
            staff.admin, {"valid_from": ""}, {"valid_from": signed_at}, signed_at=signed_at
        ),
    )

    assert answer.status_code == 302, text(answer)
    key = staff.store.app.account("mon1").keys[expected]
    # What was signed is kept; the key takes effect no earlier than its registration, which
    # the server records a moment later (the next second, now and then).
    assert instant_to_wire(key.valid_from) == signed_at
    assert key.effective_from == max(key.valid_from, key.registered_at)
    record = staff.store.reads.account_history("mon1")[-1]
    assert record.event.kind() == "KeyRegistered"
    assert record.event.authorship.body()["signer"]["user_id"] == "admin1"


def test_a_key_file_opened_is_registered_too(staff: KeyStaff) -> None:
    pem, expected = a_public_key()

    page = staff.given(
        "register-key", public_key="", public_key_file=(io.BytesIO(pem), "mon1.pub.pem")
    )

    assert page.body["data"]["key_id"] == expected
    answer = staff.browser.client.post(
        "/admin/accounts/mon1/register-key",
        data=page.signed(staff.admin, {"valid_from": "2026-01-01T00:00:00Z"}),
    )
    assert answer.status_code == 302, text(answer)
    assert expected in staff.store.app.account("mon1").keys


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("", "Paste the person&#39;s public key"),
        ("not a key", "This is not an Ed25519 public key"),
        ("-----BEGIN PUBLIC KEY-----\x00\n-----END PUBLIC KEY-----", "not an Ed25519"),
        ("A" * 5000, "Field cannot be longer than 4096"),
        ("ÿ" * 44, "This is not an Ed25519 public key"),
    ],
)
def test_what_is_no_public_key_is_refused_on_its_field(
    staff: KeyStaff, given: str, said: str
) -> None:
    url = "/admin/accounts/mon1/register-key"
    token = staff.browser.csrf_token(url)

    answer = staff.browser.client.post(url, data={"csrf_token": token, "public_key": given})

    assert answer.status_code == 200
    assert 'class="error-summary"' in text(answer) and said in text(answer)
    assert 'id="signing-body"' not in text(answer)


def test_a_private_key_given_by_mistake_is_refused_and_never_shown_again(staff: KeyStaff) -> None:
    url = "/admin/accounts/mon1/register-key"
    private_pem = private_key_to_pem(generate_private_key()).decode("ascii")

    answer = staff.browser.client.post(
        url, data={"csrf_token": staff.browser.csrf_token(url), "public_key": private_pem}
    )

    assert answer.status_code == 200
    assert "This is a private key" in text(answer)
    body = private_pem.splitlines()[1]
    assert body not in text(answer)


def test_a_key_rotated_ends_the_old_where_the_new_begins(staff: KeyStaff) -> None:
    old = key_id(staff.monitor.private_key.public_key())
    pem, new = a_public_key()
    page = staff.given("rotate-key", old_key_id=old, public_key=pem.decode("ascii"))
    assert page.body["data"] == {
        "old_key_id": old,
        "key_id": new,
        "public_key": page.hidden["public_key"],
    }
    at = instant_to_wire(next_whole_second(datetime.now(UTC)) + timedelta(minutes=1))

    answer = staff.browser.client.post(
        "/admin/accounts/mon1/rotate-key",
        data=page.signed(staff.admin, {"rotated_at": ""}, {"rotated_at": at}),
    )

    assert answer.status_code == 302, text(answer)
    keys = staff.store.app.account("mon1").keys
    assert instant_to_wire(keys[old].revoked_at) == at == instant_to_wire(keys[new].effective_from)


def test_a_rotation_of_no_key_of_the_account_is_refused(staff: KeyStaff) -> None:
    pem, _new = a_public_key()
    url = "/admin/accounts/mon1/rotate-key"

    answer = staff.browser.client.post(
        url,
        data={
            "csrf_token": staff.browser.csrf_token(url),
            "old_key_id": key_id(staff.admin.private_key.public_key()),  # another's key
            "public_key": pem.decode("ascii"),
        },
    )

    assert answer.status_code == 200 and "Choose a key" in text(answer)


def test_a_key_revoked_from_an_instant_to_come_then_no_longer_offered(staff: KeyStaff) -> None:
    old = key_id(staff.monitor.private_key.public_key())
    page = SigningPage(staff.browser.get("/admin/accounts/mon1/revoke-key"))
    # An instant a minute ahead: "the second after you sign" (sign-form.js's default) is
    # refused if the change reaches the store's write turn later, as on a loaded machine.
    at = instant_to_wire(next_whole_second(datetime.now(UTC)) + timedelta(minutes=1))

    answer = staff.browser.client.post(
        "/admin/accounts/mon1/revoke-key",
        data=page.signed(
            staff.admin,
            {"key_id": old, "reason": "Laptop stolen.", "revoked_at": at},
        ),
    )

    assert answer.status_code == 302, text(answer)
    record = staff.store.reads.account_history("mon1")[-1]
    assert record.event.signed_data() == {
        "key_id": old,
        "revoked_at": at,
        "reason": "Laptop stolen.",
    }
    # No key left to end: the change no longer applies.
    assert staff.browser.get("/admin/accounts/mon1/revoke-key").status_code == 409


def test_a_past_end_is_refused_unless_stated_retroactive(staff: KeyStaff) -> None:
    old = key_id(staff.monitor.private_key.public_key())
    url = "/admin/accounts/mon1/revoke-key"
    past = instant_to_wire(datetime.now(UTC) - timedelta(hours=1))
    typed = {"key_id": old, "reason": "Compromised.", "revoked_at": past}
    before = staff.version()

    refused = staff.browser.client.post(
        url, data=SigningPage(staff.browser.get(url)).signed(staff.admin, typed)
    )

    assert refused.status_code == 200
    assert "already past" in text(refused) and f'value="{past}"' in text(refused)
    assert staff.version() == before

    stated = staff.browser.client.post(
        url,
        data=SigningPage(staff.browser.get(url)).signed(
            staff.admin, {**typed, "retroactive": "y"}, {"retroactive": True}
        ),
    )

    assert stated.status_code == 302, text(stated)
    assert staff.store.app.account("mon1").keys[old].revoked_retroactively


def test_a_key_of_the_administrator_revoked_on_another_account_is_refused(
    staff: KeyStaff,
) -> None:
    url = "/admin/accounts/mon1/revoke-key"
    theirs = key_id(staff.admin.private_key.public_key())
    before = staff.version()

    refused = staff.browser.client.post(
        url,
        data=SigningPage(staff.browser.get(url)).signed(
            staff.admin, {"key_id": theirs, "reason": "x", "revoked_at": ""},
            {"revoked_at": instant_to_wire(datetime.now(UTC) + timedelta(minutes=1))},
        ),
    )  # fmt: skip

    assert refused.status_code == 200 and 'class="error-summary"' in text(refused)
    assert staff.version() == before


def test_the_server_and_sponsor_keys_are_changed_on_no_page(staff: KeyStaff) -> None:
    for change in ("register-key", "rotate-key", "revoke-key"):
        assert staff.browser.get(f"/admin/accounts/system/{change}").status_code == 409
