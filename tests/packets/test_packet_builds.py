"""Packets built in the background (``POST /v1/packets`` with ``Prefer: respond-async``), on
SQLite and PostgreSQL: 202 and a Location, its state while it builds, the zip once ready and
recorded as handed out only then, one build under way per person, another's build refused,
an unknown one not found, a failed one and an interrupted one said as problems.

tests/e2e/test_packet_builds_served.py builds one through gunicorn for longer than its
``--timeout``, and kills the worker building another.
"""

from __future__ import annotations

import base64
import hashlib
import stat
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from domain.account import Role
from domain.disclosure import PACKET
from infrastructure.application.commands import LockAccount, RevokeRole
from infrastructure.bootstrap import Store
from infrastructure.packets.build_rows import packet_builds
from infrastructure.packets.builds import FOLDER, STALE_SECONDS
from infrastructure.packets.verify import verify_packet
from tests.access.conftest import make_admin, make_person
from tests.conftest import Person, PersonFactory
from tests.e2e.conftest import Site
from tests.packets.test_packet_store import an_event_taken_out, checkpoint_size, followed_subject

pytestmark = pytest.mark.requirement("P11-11.10c-2")

ASYNC = {"Prefer": "respond-async"}
PROBLEM = "application/problem+json"


def ask(via: Site, person: Person, **body: object) -> TestResponse:
    """``POST /v1/packets`` with ``Prefer: respond-async`` (no PDFs unless ``body`` asks)."""
    return via.client.post(
        "/v1/packets", json={"documents": False, **body}, headers={**via.auth(person), **ASYNC}
    )


def until_built(site: Site, person: Person, location: str, seconds: float = 120) -> TestResponse:
    """GET the build's Location until it stops answering 202."""
    deadline = time.monotonic() + seconds
    while True:
        answer = site.client.get(location, headers=site.auth(person))
        if answer.status_code != 202 or time.monotonic() > deadline:
            return answer
        assert answer.headers["Retry-After"].isdigit()
        time.sleep(0.2)


def a_data_manager(store: Store, person_in: PersonFactory) -> tuple[Site, Person]:
    """The store with a followed subject, its sponsor data manager ``dm1``, and a client."""
    followed_subject(store, person_in)
    return Site(store), make_person(store, "dm1", role=Role.SPONSOR_DATA_MANAGER)


def a_packet_fetched(store: Store, person_in: PersonFactory) -> tuple[Site, Person, str]:
    """:func:`a_data_manager`'s packet, asked, built and fetched once (one copy handed out):
    the site, the data manager, and the build's Location."""
    site, manager = a_data_manager(store, person_in)
    asked = ask(site, manager)
    assert until_built(site, manager, asked.headers["Location"]).status_code == 200
    return site, manager, asked.headers["Location"]


@pytest.mark.requirement("LGPD-37-1")
def test_a_packet_asked_async_is_202_then_the_zip_recorded_as_handed_out_when_fetched(
    store: Store, person_in: PersonFactory
) -> None:
    site, manager = a_data_manager(store, person_in)

    asked = ask(site, manager)

    assert asked.status_code == 202, asked.get_data(as_text=True)
    assert asked.headers["Preference-Applied"] == "respond-async"
    state = asked.get_json()
    assert asked.headers["Location"] == f"/v1/packets/{state['id']}"
    assert state["state"] in ("building", "ready")
    assert (state["study"], state["site"], state["documents"]) == ("NCT01297972", None, False)
    assert state["requested_at"].endswith("Z")
    assert store.disclosures.of("dm1") == []  # nothing handed out yet

    answer = until_built(site, manager, asked.headers["Location"])

    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "application/zip"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="sealtrail-packet.zip"'
    data = answer.get_data()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert answer.headers["Repr-Digest"] == f"sha-256=:{digest}:"
    assert verify_packet(data).findings == []
    (handed_out,) = store.disclosures.of("dm1")
    assert handed_out.sha256 == hashlib.sha256(data).hexdigest()
    assert handed_out.channel == "api"
    assert handed_out.log_size == checkpoint_size(data)
    kept = store.settings.home / FOLDER / f"{state['id']}.zip"
    assert kept.read_bytes() == data
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    # Fetched again, it is handed out again, and recorded again.
    again = site.client.get(asked.headers["Location"], headers=site.auth(manager))
    assert again.get_data() == data
    assert len(store.disclosures.of("dm1")) == 2


@pytest.mark.parametrize(
    "prefer",
    [
        "return=minimal, wait=5",
        # respond-async within a parameter's quoted value is no preference of its own.
        'return=minimal; note="no, respond-async, please"',
    ],
)
def test_without_the_preference_the_packet_is_built_within_the_request(
    sqlite_store: Store, person_in: PersonFactory, prefer: str
) -> None:
    site, manager = a_data_manager(sqlite_store, person_in)

    answer = site.client.post(
        "/v1/packets",
        json={"documents": False},
        headers={**site.auth(manager), "Prefer": prefer},
    )

    assert answer.status_code == 200
    assert "Preference-Applied" not in answer.headers
    assert verify_packet(answer.get_data()).findings == []
    with sqlite_store.engine.connect() as connection:
        assert connection.execute(select(packet_builds)).all() == []


def test_one_build_under_way_per_person_and_its_state_read_by_no_one_else(
    store: Store, person_in: PersonFactory
) -> None:
    site, manager = a_data_manager(store, person_in)
    other = make_person(store, "dm2", role=Role.SPONSOR_DATA_MANAGER)

    first = ask(site, manager, documents=True)  # its PDFs take seconds: still building below
    second = ask(site, manager)
    someone_else = site.client.get(first.headers["Location"], headers=site.auth(other))
    unknown = site.client.get(
        "/v1/packets/6f1d2c3b-0000-4000-8000-000000000000", headers=site.auth(manager)
    )
    not_an_id = site.client.get("/v1/packets/..%2Fkeys", headers=site.auth(manager))
    with_nul = site.client.get(
        "/v1/packets/6f1d2c3b-0000-4000-8000-000000000000%00", headers=site.auth(manager)
    )
    anonymous = site.client.get(first.headers["Location"])
    others_own = ask(site, other)  # the limit is each person's

    assert first.status_code == 202
    assert second.status_code == 409
    assert second.mimetype == PROBLEM
    assert second.get_json()["title"] == "Packet build under way"
    assert first.get_json()["id"] in second.get_json()["detail"]
    assert (someone_else.status_code, someone_else.mimetype) == (403, PROBLEM)
    assert (unknown.status_code, unknown.mimetype) == (404, PROBLEM)
    assert unknown.get_json()["title"] == "Packet build not found"
    assert (not_an_id.status_code, not_an_id.mimetype) == (404, PROBLEM)
    assert (with_nul.status_code, with_nul.mimetype) == (404, PROBLEM)
    assert (anonymous.status_code, anonymous.mimetype) == (401, PROBLEM)
    assert others_own.status_code == 202
    assert until_built(site, manager, first.headers["Location"]).status_code == 200
    assert until_built(site, other, others_own.headers["Location"]).status_code == 200
    # Refused, the other data manager took no copy; once the first ended, a new one is asked.
    assert [copy.user_id for copy in store.disclosures.of("dm2")] == ["dm2"]
    again = ask(site, manager)
    assert again.status_code == 202
    # Waited for, so that its thread does not outlive the store it reads (closed after the test).
    assert until_built(site, manager, again.headers["Location"]).status_code == 200


def test_a_refusal_is_said_at_once_and_no_build_is_recorded(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    site, manager = a_data_manager(sqlite_store, person_in)
    coordinator = person_in(sqlite_store, "coord9", role=Role.SITE_COORDINATOR)

    not_allowed = ask(site, coordinator)
    unknown_study = ask(site, manager, study="NCT00000000")
    site_copy_by_sponsor = ask(site, manager, site="RP")

    assert [r.status_code for r in (not_allowed, unknown_study, site_copy_by_sponsor)] == [
        403,
        422,
        403,
    ]
    assert {r.mimetype for r in (not_allowed, unknown_study, site_copy_by_sponsor)} == {PROBLEM}
    with sqlite_store.engine.connect() as connection:
        assert connection.execute(select(packet_builds)).all() == []


def test_a_build_that_fails_says_why_and_which_error_and_hands_out_nothing(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    site, manager = a_data_manager(sqlite_store, person_in)
    an_event_taken_out(sqlite_store)

    asked = ask(site, manager)
    answer = until_built(site, manager, asked.headers["Location"])

    assert asked.status_code == 202
    assert answer.status_code == 409
    assert answer.mimetype == PROBLEM
    problem = answer.get_json()
    assert problem["title"] == "Packet build failed"
    assert "(PacketNotBuildable)" in problem["detail"]
    assert "do not give the root of its checkpoint" in problem["detail"]
    assert sqlite_store.disclosures.of("dm1") == []
    assert not (sqlite_store.settings.home / FOLDER / f"{asked.get_json()['id']}.zip").exists()
    again = ask(site, manager)  # a failed build is no longer under way
    assert again.status_code == 202
    # It fails as the first did; waited for, so that its thread does not outlive the store.
    assert until_built(site, manager, again.headers["Location"]).status_code == 409


def test_a_build_that_meets_a_fault_says_so_without_the_faults_text(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    site, manager = a_data_manager(sqlite_store, person_in)
    # The folder the zips are kept in cannot be made: a fault of the server, not a refusal.
    blocked = sqlite_store.settings.home / FOLDER
    blocked.write_text("not a folder")

    asked = ask(site, manager)
    answer = until_built(site, manager, asked.headers["Location"])

    assert asked.status_code == 202
    assert (answer.status_code, answer.mimetype) == (409, PROBLEM)
    detail = answer.get_json()["detail"]
    assert "(server-error)" in detail
    assert "the server failed while building it (its log says why)" in detail
    assert str(blocked) not in detail and "Errno" not in detail
    assert sqlite_store.disclosures.of("dm1") == []


def test_a_build_whose_process_fell_silent_is_failed_interrupted_and_may_be_asked_again(
    store: Store, person_in: PersonFactory
) -> None:
    site, manager = a_data_manager(store, person_in)
    asked = ask(site, manager, documents=True)
    build_id = asked.get_json()["id"]
    # As the row of a build on another host whose process stopped beating looks: the process
    # cannot be looked up from here, so the beat's age alone tells.
    silent_since = datetime.now(UTC) - timedelta(seconds=STALE_SECONDS + 1)
    with store.engine.begin() as connection:
        fell_silent = connection.execute(
            update(packet_builds)
            .where(packet_builds.c.id == build_id, packet_builds.c.state == "building")
            .values(owner="another-host:4242", heartbeat_at=silent_since)
        )
    assert fell_silent.rowcount == 1  # its PDFs take seconds: still building

    answer = site.client.get(asked.headers["Location"], headers=site.auth(manager))
    again = ask(site, manager)

    assert answer.status_code == 409
    assert answer.mimetype == PROBLEM
    assert "(interrupted)" in answer.get_json()["detail"]
    assert "ask again" in answer.get_json()["detail"]
    assert again.status_code == 202
    assert until_built(site, manager, again.headers["Location"]).status_code == 200
    # The thread that was building (alive here after all) ends without reviving its row, and
    # leaves no zip that is no one's. It may have ended already, while the second build was
    # awaited (a small store's PDFs are drawn in seconds): then there is nothing to wait for.
    building = [t for t in threading.enumerate() if t.name == f"packet-{build_id}"]
    assert len(building) <= 1
    for thread in building:
        thread.join(timeout=120)
        assert not thread.is_alive()
    late = site.client.get(asked.headers["Location"], headers=site.auth(manager))
    assert late.status_code == 409
    assert not (store.settings.home / FOLDER / f"{build_id}.zip").exists()
    assert [copy.what for copy in store.disclosures.of("dm1")] == [PACKET]


def test_a_kept_zip_changed_or_removed_is_not_handed_out(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    site, manager, location = a_packet_fetched(sqlite_store, person_in)
    kept = sqlite_store.settings.home / FOLDER / f"{location.rsplit('/', 1)[1]}.zip"
    data = kept.read_bytes()

    kept.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    changed = site.client.get(location, headers=site.auth(manager))
    kept.unlink()
    removed = site.client.get(location, headers=site.auth(manager))

    assert (changed.status_code, changed.mimetype) == (409, PROBLEM)
    assert "SHA-256 differs" in changed.get_json()["detail"]
    assert (removed.status_code, removed.mimetype) == (409, PROBLEM)
    assert "removed" in removed.get_json()["detail"]
    assert len(sqlite_store.disclosures.of("dm1")) == 1  # the first fetch only


def test_a_site_copy_asked_async_is_the_investigators_own(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    followed_subject(sqlite_store, person_in)
    investigator = person_in(sqlite_store, "inv7", role=Role.INVESTIGATOR, sites=("RP",))
    site = Site(sqlite_store)

    asked = ask(site, investigator, site="RP")
    answer = until_built(site, investigator, asked.headers["Location"])

    assert asked.get_json()["site"] == "RP"
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert 'filename="sealtrail-packet-RP.zip"' in answer.headers["Content-Disposition"]
    assert verify_packet(answer.get_data()).findings == []
    (handed_out,) = sqlite_store.disclosures.of("inv7")
    assert str(handed_out.scope) == "NCT01297972 site RP"


def test_a_person_whose_role_was_revoked_since_asking_is_not_handed_the_packet(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    site, manager, location = a_packet_fetched(sqlite_store, person_in)
    sqlite_store.administration.revoke_role(
        RevokeRole(user_id="dm1", role=Role.SPONSOR_DATA_MANAGER, reason="left the sponsor"),
        by=make_admin(sqlite_store).signatory,
    )

    answer = site.client.get(location, headers=site.auth(manager))

    assert (answer.status_code, answer.mimetype) == (403, PROBLEM)
    assert "does not build reports and packets" in answer.get_json()["detail"]
    assert len(sqlite_store.disclosures.of("dm1")) == 1  # the fetch while the role held


def test_a_locked_account_is_not_handed_the_packet_it_had_built(
    sqlite_store: Store, person_in: PersonFactory
) -> None:
    site, manager, location = a_packet_fetched(sqlite_store, person_in)
    headers = site.auth(manager)  # a session opened before the lock
    sqlite_store.administration.lock_account(
        LockAccount(user_id="dm1", reason="left the sponsor"),
        by=make_admin(sqlite_store).signatory,
    )

    answer = site.client.get(location, headers=headers)

    assert (answer.status_code, answer.mimetype) == (401, PROBLEM)
    assert answer.get_json()["title"] == "Account locked"
    assert len(sqlite_store.disclosures.of("dm1")) == 1  # the fetch before the lock
