"""The keys of the ``sponsor`` and ``system`` accounts change only by the key-custody procedure.

The server's key is registered once, at initialisation, by the server itself. The sponsor's
packet key is registered by the server as ``sealtrail init`` opens the account, and from then
on registered, rotated or revoked only by a sponsor data manager in force, signing with their own
key (docs/deployment.md). An administrator administers people, not these keys: otherwise the
store's administrator could re-sign a packet's manifest as the sponsor. A key event on these
accounts outside the procedure, written into the log by someone with access to the database, is
a ``key-custody-broken`` finding of ``verify`` and ``packet verify``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.account import SPONSOR_ACCOUNT, SYSTEM_USER, Role
from domain.authorship import Authorship, authored
from domain.errors import KeyCustodyViolated
from infrastructure.application.account_changes import account_body
from infrastructure.application.commands import RegisterKey, RevokeKey, RotateKey, Signatory
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from infrastructure.packets.build import PacketSignatory, build_packet
from infrastructure.packets.verify import verify_packet
from infrastructure.store.event_store import KNOWN_ACCOUNTS
from signatures.authorship import sign_body
from signatures.keys import key_id
from tests.access.conftest import Admin, assert_problem, bearer, make_admin, make_person, new_key
from tests.e2e.conftest import Site


@pytest.fixture
def custody_store(timed: Store) -> Store:
    """A store with the sponsor's account opened, as ``sealtrail init`` leaves it."""
    open_sponsor_account(timed.administration, timed.settings)
    return timed


def sponsor_key_id(store: Store) -> str:
    (only,) = store.app.account(SPONSOR_ACCOUNT).keys
    return only


def findings(store: Store) -> list[tuple[str | None, int | None, str]]:
    return [(f.stream, f.version, f.kind) for f in store.verifier(workers=1).verify().findings]


@pytest.mark.parametrize("account", [SPONSOR_ACCOUNT, SYSTEM_USER])
def test_an_administrator_cannot_register_a_key_on_the_sponsor_or_the_server(
    custody_store: Store, account: str
) -> None:
    admin = make_admin(custody_store)
    before = len(custody_store.reads.account_history(account))

    with pytest.raises(KeyCustodyViolated, match="key custody"):
        custody_store.administration.register_key(
            RegisterKey(user_id=account, public_key=new_key()[1]), by=admin.signatory
        )

    assert len(custody_store.reads.account_history(account)) == before
    assert findings(custody_store) == []


def test_an_administrator_cannot_rotate_or_revoke_the_sponsor_key(custody_store: Store) -> None:
    admin = make_admin(custody_store)
    old = sponsor_key_id(custody_store)

    with pytest.raises(KeyCustodyViolated):
        custody_store.administration.rotate_key(
            RotateKey(user_id=SPONSOR_ACCOUNT, old_key_id=old, public_key=new_key()[1]),
            by=admin.signatory,
        )
    with pytest.raises(KeyCustodyViolated):
        custody_store.administration.revoke_key(
            RevokeKey(user_id=SPONSOR_ACCOUNT, key_id=old, revoked_at=None, reason="x"),
            by=admin.signatory,
        )


def test_a_sponsor_data_manager_rotates_the_sponsor_packet_key(custody_store: Store) -> None:
    manager = make_person(custody_store, "dm1", role=Role.SPONSOR_DATA_MANAGER)
    by = Signatory(manager.user_id, manager.printed_name, manager.private_key)
    _, public_key, new_id = new_key()

    custody_store.administration.rotate_key(
        RotateKey(
            user_id=SPONSOR_ACCOUNT, old_key_id=sponsor_key_id(custody_store), public_key=public_key
        ),
        by=by,
    )

    assert new_id in custody_store.app.account(SPONSOR_ACCOUNT).keys
    assert findings(custody_store) == []


def test_a_sponsor_data_manager_cannot_touch_the_server_key(custody_store: Store) -> None:
    manager = make_person(custody_store, "dm1", role=Role.SPONSOR_DATA_MANAGER)
    by = Signatory(manager.user_id, manager.printed_name, manager.private_key)

    with pytest.raises(KeyCustodyViolated):
        custody_store.administration.register_key(
            RegisterKey(user_id=SYSTEM_USER, public_key=new_key()[1]), by=by
        )


def test_a_key_registered_on_the_sponsor_over_the_api_is_refused_with_a_problem(
    timed: Store, admin: Admin
) -> None:
    open_sponsor_account(timed.administration, timed.settings)
    site = Site(timed)
    _, public_key, new_id = new_key()

    response = site.client.post(
        "/v1/accounts",
        json={
            "events": [
                admin.signed(
                    SPONSOR_ACCOUNT,
                    "KeyRegistered",
                    {
                        "key_id": new_id,
                        "public_key": public_key,
                        "valid_from": "2011-01-01T00:00:00Z",
                    },
                )
            ]
        },
        headers=bearer(site, admin),
    )

    assert_problem(response, 403, title="Key custody", detail="sponsor data manager")
    assert new_id not in timed.app.account(SPONSOR_ACCOUNT).keys


def insider_registers_a_sponsor_key(store: Store, admin: Admin) -> Any:
    """What someone with write access to the database and an administrator's key can do:
    run the store's own code past its permission checks, so the event is signed, chained and
    in the Merkle log like any other. Returns the private key now on the sponsor's account."""
    private_key, public_key, new_id = new_key()
    fields = {"key_id": new_id, "public_key": public_key, "valid_from": "2011-01-01T00:00:00Z"}
    sponsor = store.app.account(SPONSOR_ACCOUNT, to_change=True)
    body = account_body(
        user_id=SPONSOR_ACCOUNT,
        kind="KeyRegistered",
        data=fields,
        signer_id=admin.user_id,
        printed_name=admin.printed_name,
        signer_key_id=admin.key_id,
        version=sponsor.version + 1,
    )
    with authored(Authorship(*sign_body(admin.private_key, body))):
        sponsor.register_key(
            key_id=new_id, public_key=public_key, valid_from=datetime(2011, 1, 1, tzinfo=UTC)
        )
    store.app.save(sponsor, **{KNOWN_ACCOUNTS: {admin.user_id: store.app.account(admin.user_id)}})
    return private_key


def test_a_sponsor_key_written_into_the_log_by_an_insider_is_a_finding(
    custody_store: Store,
) -> None:
    admin = make_admin(custody_store)
    insider_key = insider_registers_a_sponsor_key(custody_store, admin)
    version = len(custody_store.reads.account_history(SPONSOR_ACCOUNT))

    assert findings(custody_store) == [
        (f"accounts/{SPONSOR_ACCOUNT}", version, "key-custody-broken")
    ]
    # The packet the insider signs with that key names it too.
    packet = build_packet(
        custody_store,
        signatory=PacketSignatory(SPONSOR_ACCOUNT, insider_key),
        documents=False,
    )
    report = verify_packet(packet, redraw_documents=False)
    assert "key-custody-broken" in [finding.kind for finding in report.findings]
    assert key_id(insider_key.public_key()) in custody_store.app.account(SPONSOR_ACCOUNT).keys
