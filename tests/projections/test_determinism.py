"""The views are a function of the signed events: the same events give the same digest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.schemas.submissions import submission_from
from infrastructure.application.commands import RecordEvent
from infrastructure.bootstrap import Store
from infrastructure.views.tables import audit_index
from signatures.keys import generate_private_key
from tests.conftest import Person, PersonFactory, make_settings, new_store, open_person
from tests.projections.conftest import course, record_all

SEALTRAIL = str(Path(sys.executable).parent / "sealtrail")


def test_rebuild_gives_the_same_digest_run_after_run_and_as_built_page_by_page(
    store: Store, person_in: PersonFactory
) -> None:
    person = person_in(store)
    records = course()
    record_all(store, person, records[:12])
    store.views.catch_up()  # built in two steps, pages split wherever they fall
    record_all(store, person, records[12:])
    store.views.catch_up()
    incremental = store.views.digest()

    assert store.views.rebuild() == incremental
    assert store.views.rebuild() == incremental


def test_sealtrail_rebuild_prints_the_same_digest_twice_and_nothing_else_on_stdout(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    record_all(sqlite_store, person_in(sqlite_store), course())
    sqlite_store.views.catch_up()
    expected = sqlite_store.views.digest()  # as built incrementally, in this process
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEALTRAIL_")}
    env["SEALTRAIL_HOME"] = str(sqlite_store.settings.home)
    env["SEALTRAIL_DATABASE_URL"] = str(sqlite_store.settings.database_url)

    runs = [
        subprocess.run(
            [SEALTRAIL, "rebuild"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        for _ in range(2)
    ]

    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr
    assert [run.stdout.strip() for run in runs] == [expected, expected]
    # stderr, off a terminal, holds at most a progress line every few seconds
    assert all(line.startswith("rebuild: ") for run in runs for line in run.stderr.splitlines())


def open_person_in_both(stores: list[Store]) -> Person:
    """One coordinator with one key, registered in every store."""
    private_key = generate_private_key()
    for store in stores:
        open_person(store, private_key=private_key)
    return Person("coord1", "Ana Souza", private_key, "unused")


def record_signed(store: Store, person: Person, signed: list[tuple[dict[str, Any], str]]) -> None:
    for body, signature in signed:
        store.records.record(
            RecordEvent(submission=submission_from(body, signature), actor_id=person.user_id)
        )


def audit_documents(store: Store) -> list[Any]:
    with store.engine.connect() as connection:
        return [json.loads(d) for d in connection.execute(select(audit_index.c.document)).scalars()]


@pytest.mark.postgres
def test_the_same_signed_events_give_the_same_digest_on_sqlite_and_on_postgresql(
    tmp_path: Path, postgres_database: str
) -> None:
    sqlite = new_store(make_settings(tmp_path / "sqlite"))
    postgres = new_store(make_settings(tmp_path / "postgres", postgres_database))
    try:
        person = open_person_in_both([sqlite, postgres])
        signed = []
        for version, (kind, data) in enumerate(course(), start=1):
            fields = {k: v for k, v in data.items() if v is not None}
            body = person.body("RP-101", kind, fields, version=version)
            signed.append((body, person.sign(body)))
        for store in (sqlite, postgres):
            record_signed(store, person, signed)

        digests = [store.views.rebuild() for store in (sqlite, postgres)]

        assert digests[0] == digests[1]
        # Not vacuous: the stored documents do differ, in this store's recording times.
        assert audit_documents(sqlite) != audit_documents(postgres)

        # And the digest follows the events: one more record in one store changes it.
        extra = person.body("RP-101", "ResponseAssessed", {
            "month": 6, "response": "partial", "assessed_on": "2011-09-10",
        }, version=len(signed) + 1)  # fmt: skip
        record_signed(sqlite, person, [(extra, person.sign(extra))])
        sqlite.views.catch_up()
        assert sqlite.views.digest() != digests[1]
    finally:
        sqlite.close()
        postgres.close()
