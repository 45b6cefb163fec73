"""The authentication log and the views are evidence too (issue 15.3), on SQLite and PostgreSQL.

An insider with the owner's SQL prompt and no key deletes the authentication log and invents
a success, or edits a view row that the API serves: ``verify`` names it, and the API does not
serve the edited row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, inspect

from domain.authentication import SUCCEEDED, AuthenticationLog
from domain.authorship import Authorship, authored
from infrastructure.application.server_logs import server_body
from infrastructure.bootstrap import Store, open_store
from infrastructure.errors import AuthenticationFailed
from infrastructure.identity.authentication_log import OLD_TABLE
from signatures.authorship import sign_body
from signatures.keys import generate_private_key, key_id
from tests.conftest import STUDY, PersonFactory
from tests.e2e.conftest import Site
from tests.integration.test_tamper_evidence import drop_triggers, table
from tests.integration.test_tamper_suite import database, insert_raw
from tests.projections.conftest import opening

RP101 = f"{STUDY}/RP-101"


def forged(key: str, version: int, kind: str, fields: dict[str, object]) -> Authorship:
    """A body that claims the server's authorship, signed by a key that is not the server's."""
    impostor = generate_private_key()
    body = server_body(
        {"authentication": key}, version, kind, fields, key_id(impostor.public_key())
    )
    return Authorship(*sign_body(impostor, body))


def authentication_positions(store: Store) -> list[int]:
    return [
        n.id
        for n in store.app.recorder.select_notifications(1, 10_000)
        if n.topic.startswith("domain.authentication:")
    ]


@pytest.mark.requirement("E6-4.2.2-1")
def test_the_authentication_log_deleted_and_a_success_invented_is_found(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    with pytest.raises(AuthenticationFailed):
        store.access.authenticate("coord1", "a wrong password", channel="token")
    store.access.authenticate("coord1", coordinator.password, channel="token")
    coordinator.record(store, "RP-101", *opening()[0])  # the attempts are mid-log, not its end
    deleted = authentication_positions(store)
    assert len(deleted) == 3  # the log's start, the failure, the success
    assert store.verifier(workers=1).verify().ok

    drop_triggers(store)
    with database(store) as execute:
        execute(f"DELETE FROM {table(store)} WHERE topic LIKE ?", ("domain.authentication:%",))
    with authored(forged("coord1", 1, "Started", {})):
        log = AuthenticationLog.start("coord1")
    fields = {
        "user_id": "coord1",
        "channel": "token",
        "outcome": SUCCEEDED,
        "detail": "password accepted",
        "occurred_at": datetime.now(UTC).replace(microsecond=0),
    }
    with authored(forged("coord1", 2, "Attempted", fields)):
        log.record(**fields)  # type: ignore[arg-type]
    for event in log.collect_events():
        insert_raw(store, store.app.mapper.to_stored_event(event))

    report = store.verifier(workers=1).verify()
    found = {(f.position, f.kind) for f in report.findings}
    assert not report.ok
    assert {(position, "event-missing") for position in deleted} <= found
    invented = authentication_positions(store)
    assert {(position, "unknown-key") for position in invented} <= found
    assert {(position, "leaf-missing") for position in invented} <= found
    assert {f.stream for f in report.findings if f.kind == "unknown-key"} == {
        "authentication/coord1"
    }


def test_an_edited_view_row_is_named_by_verify_and_never_served(
    store: Store, person_in: PersonFactory
) -> None:
    coordinator = person_in(store)
    for kind, data in opening():
        coordinator.record(store, "RP-101", kind, data)
    coordinator.record(
        store, "RP-101", "SubjectDied", {"died_on": "2011-06-01", "cause": "heart failure"}
    )
    site = Site(store)
    headers = site.auth(coordinator)
    served = site.client.get(f"/v1/studies/{STUDY}/subjects/RP-101", headers=headers)
    assert served.get_json()["status"] == "died"
    assert store.verifier(workers=1).verify().ok

    with database(store) as execute:
        ((document,),) = execute(
            "SELECT document FROM view_subject_summary WHERE stream = ?", (RP101,)
        )
        edited = json.loads(document)
        edited["status"] = "in_follow_up"
        execute(
            "UPDATE view_subject_summary SET document = ? WHERE stream = ?",
            (json.dumps(edited, sort_keys=True, ensure_ascii=False), RP101),
        )

    findings = store.verifier(workers=1).verify().findings
    response = site.client.get(f"/v1/studies/{STUDY}/subjects/RP-101", headers=headers)

    assert [(f.position, f.stream, f.version, f.kind) for f in findings] == [
        (None, RP101, None, "view-mismatch")
    ]
    assert 'status stored "in_follow_up", the events give "died"' in findings[0].detail
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "View not verified"
    assert "in_follow_up" not in response.get_data(as_text=True)
    # Rebuilding the views from the log puts the true row back, sealed.
    store.views.rebuild()
    assert (
        site.client.get(f"/v1/studies/{STUDY}/subjects/RP-101", headers=headers).get_json()[
            "status"
        ]
        == "died"
    )
    assert store.verifier(workers=1).verify().ok


def test_an_older_stores_attempts_table_is_carried_into_the_log_once(
    store: Store, person_in: PersonFactory
) -> None:
    person_in(store)
    old = Table(
        OLD_TABLE,
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("user_id", String(100), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("channel", String(20), nullable=False),
        Column("outcome", String(20), nullable=False),
        Column("detail", String(200), nullable=False),
    )
    then = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    rows = [
        ("coord1", "token", "succeeded", "password accepted"),
        ("coord1", "token", "failed", "wrong user id or password"),
        ("nobody", "console", "failed", "wrong user id or password"),
        ("coord1", "token", "failed", "wrong user id or password"),
    ]
    with store.engine.begin() as connection:
        old.create(connection)
        for user_id, channel, outcome, detail in rows:
            connection.execute(
                old.insert().values(
                    user_id=user_id,
                    occurred_at=then,
                    channel=channel,
                    outcome=outcome,
                    detail=detail,
                )
            )

    reopened = open_store(store.settings)
    again = open_store(store.settings)
    try:
        carried = [a for a in reopened.access.attempts() if a.occurred_at == then]
        assert sorted((a.user_id, a.outcome) for a in carried) == sorted(
            (user_id, outcome) for user_id, _, outcome, _ in rows
        )
        assert not inspect(reopened.engine).has_table(OLD_TABLE)
        # The lockout counts the carried failures since the carried success, and the new ones.
        assert reopened.access.log.failures_since("coord1", None) == 2
        with pytest.raises(AuthenticationFailed):
            reopened.access.authenticate("coord1", "a wrong password", channel="token")
        assert again.access.log.failures_since("coord1", None) == 3
        # its start, the three rows carried over, the new failure
        assert len(reopened.reads.history("authentication/coord1")) == 1 + 3 + 1
        assert reopened.verifier(workers=1).verify().ok
    finally:
        again.close()
        reopened.close()
