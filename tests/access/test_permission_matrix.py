"""The permission matrix: every role, at its own site and at another, on every endpoint.

The expected table below is written out by hand from issue 5, not derived from
``domain.permissions.MATRIX``, so that a change to the matrix shows up here as a failing cell.
Each person acts for site RP; "own" is a subject (or a write) at RP, "other" one at SP.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from werkzeug.test import TestResponse

from domain.account import Account, Role
from domain.authorship import Authorship, authored
from domain.errors import NotPermitted
from domain.permissions import MATRIX, Action, check_may, reads_every_site, reads_site
from infrastructure.application.commands import OpenAccount
from infrastructure.bootstrap import Store
from infrastructure.identity.sponsor_key import open_sponsor_account
from signatures.authorship import encode_signature
from tests.access.conftest import Admin, bearer, make_admin, make_person
from tests.conftest import BACKENDS, STUDY, Person, screening, store_on
from tests.e2e.conftest import Site
from tests.web.conftest import Browser

OWN, OTHER = "RP", "SP"
# In-memory accounts are never saved, so their events carry a well-formed placeholder only.
PLACEHOLDER = Authorship('{"in": "memory only"}', encode_signature(bytes(64)))
ROLES = [role for role in Role if role is not Role.SYSTEM]

PAGES_ON_SQLITE = pytest.mark.parametrize("world", ["sqlite"], indirect=True)
"""A page's cells run on SQLite alone: a page asks the same application services as the API,
whose cells here run on both backends, and adds nothing that reaches the database (the pages'
own paths that do are run on both in tests/web). The cells of what each site's person is shown
of another site run on both."""

# -- the domain's matrix, cell by cell ----------------------------------------------------------

ALLOWED: dict[Role, dict[Action, set[str]]] = {
    Role.SITE_COORDINATOR: {
        Action.RECORD_CLINICAL_DATA: {OWN},
        Action.READ_CLINICAL_DATA: {OWN},
        Action.READ_LOG_EVIDENCE: {OWN, OTHER},
    },
    Role.INVESTIGATOR: {
        Action.RECORD_CLINICAL_DATA: {OWN},
        Action.SIGN_CLINICAL_RECORDS: {OWN},
        Action.DELEGATE_TASKS: {OWN},
        Action.READ_CLINICAL_DATA: {OWN},
        Action.READ_LOG_EVIDENCE: {OWN, OTHER},
        Action.BUILD_SITE_COPY: {OWN},
        Action.REVIEW_ACCESS: {OWN},
    },
    Role.MONITOR: {
        Action.READ_CLINICAL_DATA: {OWN},
        Action.RAISE_QUERIES: {OWN},
        Action.VERIFY_SOURCE: {OWN},
        Action.READ_LOG_EVIDENCE: {OWN, OTHER},
    },
    Role.AUDITOR: {
        Action.READ_CLINICAL_DATA: {OWN, OTHER},
        Action.READ_LOG_EVIDENCE: {OWN, OTHER},
        Action.VERIFY_AND_REPLAY: {OWN, OTHER},
        Action.READ_ACCOUNTS: {OWN, OTHER},
        Action.REVIEW_AUDIT_TRAIL: {OWN, OTHER},
    },
    Role.SPONSOR_DATA_MANAGER: {
        Action.READ_CLINICAL_DATA: {OWN, OTHER},
        Action.READ_LOG_EVIDENCE: {OWN, OTHER},
        Action.BUILD_REPORTS_AND_PACKETS: {OWN, OTHER},
        Action.REVIEW_AUDIT_TRAIL: {OWN, OTHER},
        Action.FREEZE_AND_LOCK: {OWN, OTHER},
    },
    Role.ADMINISTRATOR: {
        Action.READ_LOG_EVIDENCE: {OWN, OTHER},
        Action.READ_ACCOUNTS: {OWN, OTHER},
        Action.ADMINISTER_ACCOUNTS: {OWN, OTHER},
        Action.REVIEW_ACCESS: {OWN, OTHER},
    },
    Role.WITNESS: {
        Action.COSIGN_CHECKPOINTS: {OWN, OTHER},
        Action.READ_LOG_EVIDENCE: {OWN, OTHER},
    },
}


def person_account(
    role: Role | None, *, trained: bool = True, sites: tuple[str, ...] = (OWN,)
) -> Account:
    """An account in memory, made by the same domain methods the store records.

    Never saved, so the authorship its events carry is a placeholder, not a signature.
    """
    with authored(PLACEHOLDER):
        account = Account.open(user_id="p1", printed_name="P One")
        if role is not None:
            account.grant_role(role=role)
            if trained:
                account.attest_training(role=role, course="c", completed_on=date(2011, 1, 1))
        for site in sites:
            account.assign_site(site=site)
    return account


@pytest.mark.requirement("P11-11.10d-1")
@pytest.mark.parametrize(
    ("role", "action", "site"),
    list(itertools.product(ROLES, list(Action), [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_each_cell_of_the_matrix_allows_exactly_what_issue_5_says(
    role: Role, action: Action, site: str
) -> None:
    actor = person_account(role)
    allowed = site in ALLOWED[role].get(action, set())

    if allowed:
        check_may(actor, action, site)
    else:
        with pytest.raises(NotPermitted):
            check_may(actor, action, site)


@pytest.mark.parametrize(
    ("role", "site"),
    list(itertools.product(ROLES, [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_a_list_of_every_sites_subjects_keeps_the_sites_the_matrix_lets_them_read(
    role: Role, site: str
) -> None:
    readable = site in ALLOWED[role].get(Action.READ_CLINICAL_DATA, set())

    assert reads_site(person_account(role), site) is readable


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.name)
def test_who_reads_every_site_is_who_the_matrix_lets_read_the_other_site(role: Role) -> None:
    every = OTHER in ALLOWED[role].get(Action.READ_CLINICAL_DATA, set())

    assert reads_every_site(person_account(role)) is every


def test_the_matrix_names_no_role_or_action_the_table_above_does_not() -> None:
    for role in ROLES:
        assert set(MATRIX[role]) == set(ALLOWED[role]), role


@pytest.mark.requirement("P11-11.10d-2")
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.name)
def test_a_role_awaiting_training_is_allowed_nothing(action: Action) -> None:
    actor = person_account(Role.AUDITOR, trained=False)

    with pytest.raises(NotPermitted, match="awaits training attestation"):
        check_may(actor, action, OWN)


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.name)
def test_an_account_without_a_role_is_allowed_nothing(action: Action) -> None:
    with pytest.raises(NotPermitted, match="has no role"):
        check_may(person_account(None), action, OWN)


@pytest.mark.requirement("P11-11.10d-2")
@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.name)
def test_a_lapsed_role_is_allowed_nothing(action: Action) -> None:
    actor = person_account(None)
    ended = datetime.now(UTC) - timedelta(seconds=1)
    with authored(PLACEHOLDER):
        # As the log holds a grant whose end has since come (the command takes no past end).
        actor.trigger_event(Account.RoleGranted, role=Role.AUDITOR, until=ended)
        actor.attest_training(role=Role.AUDITOR, course="c", completed_on=date(2011, 1, 1))

    assert actor.role_in_force(ended - timedelta(seconds=1)) is Role.AUDITOR
    with pytest.raises(NotPermitted, match="p1's role auditor lapsed at "):
        check_may(actor, action, OWN)


@pytest.mark.requirement("P11-11.10d-2")
def test_training_for_another_role_does_not_put_a_role_in_force() -> None:
    actor = person_account(Role.INVESTIGATOR, trained=False)
    with authored(PLACEHOLDER):
        actor.attest_training(role=Role.MONITOR, course="c", completed_on=date(2011, 1, 1))

    assert actor.effective_role is None
    with pytest.raises(NotPermitted):
        check_may(actor, Action.READ_CLINICAL_DATA, OWN)


def test_an_own_sites_action_without_a_site_is_not_allowed() -> None:
    with pytest.raises(NotPermitted, match="only at their own sites"):
        check_may(person_account(Role.MONITOR), Action.READ_CLINICAL_DATA, None)


# -- every endpoint, over HTTP ---------------------------------------------------------------------


@dataclass
class World:
    """A store with a subject at each site, a checkpoint, and one person per role."""

    site: Site
    store: Store
    admin: Admin
    people: dict[str, Person]
    counter: itertools.count[int]
    tokens: dict[str, dict[str, str]]

    def auth(self, person: Person) -> dict[str, str]:
        """A bearer header per person, asked for once (a token opens a session)."""
        if person.user_id not in self.tokens:
            self.tokens[person.user_id] = bearer(self.site, person)
        return self.tokens[person.user_id]


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One world per module and backend: its cells write only subjects and accounts of their
    own, so they share it."""
    backend = str(request.param)
    with store_on(backend, tmp_path_factory.mktemp(f"matrix-{backend}"), request) as store:
        yield from populated(store)


def populated(store: Store) -> Iterator[World]:
    site = Site(store)
    admin = make_admin(store, "matrix.admin")
    people: dict[str, Person] = {}
    for role in ROLES:
        people[role.value] = make_person(
            store, role.value.replace("_", "-"), role=role, sites=(OWN,)
        )
    people["untrained"] = make_person(
        store, "untrained", role=Role.INVESTIGATOR, trained=False, sites=(OWN,)
    )
    people["no-role"] = make_person(store, "no-role", role=None, sites=(OWN,))
    writers = {
        OWN: make_person(store, "writer-rp", role=Role.SITE_COORDINATOR, sites=(OWN,)),
        OTHER: make_person(store, "writer-sp", role=Role.SITE_COORDINATOR, sites=(OTHER,)),
    }
    for where, writer in writers.items():
        writer.record(store, f"{where}-1", "Screened", screening(site=where))
        # Entry 2 of each subject: an open query, for the cells that answer one.
        monitor = make_person(store, f"monitor-{where.lower()}", role=Role.MONITOR, sites=(where,))
        monitor.record(store, f"{where}-1", "QueryRaised", ABOUT_THE_SCREENING)
    open_sponsor_account(store.administration, store.settings)
    store.app.checkpoints.seal()
    yield World(site, store, admin, people, itertools.count(1), {})


def subject_url(where: str) -> str:
    return f"/v1/studies/{STUDY}/subjects/{where}-1"


Call = Callable[[World, Person, str], TestResponse]


def get(path: Callable[[World, str], str]) -> Call:
    def call(world: World, person: Person, where: str) -> TestResponse:
        return world.site.client.get(path(world, where), headers=world.auth(person))

    return call


def write(batch: bool) -> Call:
    def call(world: World, person: Person, where: str) -> TestResponse:
        body = person.body(
            f"{where}-{next(world.counter) + 100}", "Screened", screening(site=where)
        )
        signed = {"event": body, "signature": person.sign(body)}
        url, payload = ("/v1/events/batch", [signed]) if batch else ("/v1/events", signed)
        return world.site.client.post(url, json=payload, headers=world.auth(person))

    return call


ABOUT_THE_SCREENING = {"entry": 1, "entry_kind": "Screened", "question": "Age at screening?"}


def submit_to_subject(kind: str, data: dict[str, Any]) -> Call:
    """POST /v1/events: one event of ``kind`` about the subject at ``where``."""

    def call(world: World, person: Person, where: str) -> TestResponse:
        body = person.body(f"{where}-1", kind, data)
        signed = {"event": body, "signature": person.sign(body)}
        return world.site.client.post("/v1/events", json=signed, headers=world.auth(person))

    return call


def sign_records(world: World, person: Person, where: str) -> TestResponse:
    """Sign the screening record of the subject at ``where``, with the signing ceremony."""
    subject = world.store.app.find_subject(f"{STUDY}/{where}-1")
    assert subject is not None
    covered = [{"entry": 1, "record_hash": subject.entries[1].record_hash}]
    body = person.body(f"{where}-1", "RecordsSigned", {"entries": covered}, meaning="review")
    payload = {
        "event": body,
        "signature": person.sign(body),
        "password": person.password,
        "user_id": person.user_id,
    }
    return world.site.client.post("/v1/signatures", json=payload, headers=world.auth(person))


def verify_source(world: World, person: Person, where: str) -> TestResponse:
    """Verify the screening record of the subject at ``where`` against source, as it stands."""
    subject = world.store.app.find_subject(f"{STUDY}/{where}-1")
    assert subject is not None
    verified = {"entry": 1, "entry_kind": "Screened", "record_hash": subject.entries[1].record_hash}
    return submit_to_subject("SourceVerified", verified)(world, person, where)


SDV = "/source-verification"


def coverage(path: Callable[[str], str]) -> tuple[Call, Action]:
    """A read of source data verification coverage at ``path(where)``."""
    return get(lambda w, where: path(where)), Action.READ_CLINICAL_DATA


def administer(world: World, person: Person, where: str) -> TestResponse:
    target = f"target-{next(world.counter)}"
    world.store.administration.open_account(OpenAccount(user_id=target, printed_name="Target"))
    signer = Admin(
        person.user_id, person.printed_name, person.private_key, person.password, world.store
    )
    payload = {"events": [signer.signed(target, "SiteAssigned", {"site": where})]}
    return world.site.client.post("/v1/accounts", json=payload, headers=world.auth(person))


def build_packet(world: World, person: Person, where: str) -> TestResponse:
    return world.site.client.post(
        "/v1/packets", json={"documents": False}, headers=world.auth(person)
    )


def build_site_copy(world: World, person: Person, where: str) -> TestResponse:
    return world.site.client.post(
        "/v1/packets", json={"documents": False, "site": where}, headers=world.auth(person)
    )


ENDPOINTS: dict[str, tuple[Call, Action | None]] = {
    "GET study/dashboard": (
        get(lambda w, where: f"/v1/study/dashboard?study={STUDY}"),
        Action.READ_CLINICAL_DATA,
    ),
    "GET study/weekly": (
        get(lambda w, where: f"/v1/study/weekly?study={STUDY}"),
        Action.READ_CLINICAL_DATA,
    ),
    "GET subject weekly": (
        get(lambda w, where: subject_url(where) + "/weekly"),
        Action.READ_CLINICAL_DATA,
    ),
    "GET subject audit": (
        get(lambda w, where: subject_url(where) + "/audit"),
        Action.READ_CLINICAL_DATA,
    ),
    "GET study/outcomes": (
        get(lambda w, where: f"/v1/study/outcomes?study={STUDY}"),
        Action.READ_CLINICAL_DATA,
    ),
    "GET study/audit-review": (
        get(lambda w, where: f"/v1/study/audit-review?study={STUDY}"),
        Action.REVIEW_AUDIT_TRAIL,
    ),
    "GET subject": (get(lambda w, where: subject_url(where)), Action.READ_CLINICAL_DATA),
    "GET history": (
        get(lambda w, where: subject_url(where) + "/history"),
        Action.READ_CLINICAL_DATA,
    ),
    "POST events": (write(batch=False), Action.RECORD_CLINICAL_DATA),
    "POST events/batch": (write(batch=True), Action.RECORD_CLINICAL_DATA),
    "POST events QueryRaised": (
        submit_to_subject("QueryRaised", ABOUT_THE_SCREENING),
        Action.RAISE_QUERIES,
    ),
    "POST events QueryAnswered": (
        submit_to_subject("QueryAnswered", {"query": 2, "answer": "34, as on the source"}),
        Action.RECORD_CLINICAL_DATA,
    ),
    "POST signatures": (sign_records, Action.SIGN_CLINICAL_RECORDS),
    "POST events SubjectFrozen": (
        submit_to_subject("SubjectFrozen", {"reason": "cleaning before the analysis"}),
        Action.FREEZE_AND_LOCK,
    ),
    "POST events SourceVerified": (verify_source, Action.VERIFY_SOURCE),
    "GET subject source-verification": coverage(lambda where: subject_url(where) + SDV),
    "GET study/source-verification": coverage(lambda where: f"/v1/study{SDV}?study={STUDY}"),
    "GET study/source-verification of a site": coverage(
        lambda where: f"/v1/study{SDV}?study={STUDY}&site={where}"
    ),
    "GET accounts": (get(lambda w, where: "/v1/accounts"), Action.READ_ACCOUNTS),
    "GET account": (get(lambda w, where: "/v1/accounts/writer-rp"), Action.READ_ACCOUNTS),
    "GET account history": (
        get(lambda w, where: "/v1/accounts/writer-rp/history"),
        Action.READ_ACCOUNTS,
    ),
    "GET authentication-attempts": (
        get(lambda w, where: "/v1/authentication-attempts"),
        Action.READ_ACCOUNTS,
    ),
    "GET access-review": (get(lambda w, where: "/v1/access-review"), Action.READ_ACCOUNTS),
    "GET disclosures": (get(lambda w, where: "/v1/disclosures"), Action.READ_ACCOUNTS),
    "GET study/unsigned-records": (
        get(lambda w, where: f"/v1/study/unsigned-records?study={STUDY}"),
        Action.READ_CLINICAL_DATA,
    ),
    "POST accounts": (administer, Action.ADMINISTER_ACCOUNTS),
    "POST packets": (build_packet, Action.BUILD_REPORTS_AND_PACKETS),
    "POST packets site": (build_site_copy, Action.BUILD_SITE_COPY),
    "GET me": (get(lambda w, where: "/v1/me"), None),
}
ABOUT_A_SUBJECT = {
    "GET subject weekly",
    "GET subject audit",
    "GET subject",
    "GET history",
    "POST events QueryRaised",
    "POST events QueryAnswered",
    "POST signatures",
    "POST events SubjectFrozen",
    "POST events SourceVerified",
    "GET subject source-verification",
}
"""Endpoints about an existing subject, whose site is the subject's (not one the body names)."""

SITE_LESS = {
    name for name in ENDPOINTS if not name.startswith(("GET subject", "GET history", "POST"))
} - {"GET study/source-verification of a site"} | {"POST packets"}
"""Endpoints that name no site: only a role that does the action at every site may call them."""
SUCCESS = {
    "POST events": 201,
    "POST events/batch": 201,
    "POST events QueryRaised": 201,
    "POST events QueryAnswered": 201,
    "POST signatures": 201,
    "POST events SubjectFrozen": 201,
    "POST events SourceVerified": 201,
    "POST accounts": 201,
}


@pytest.mark.requirement("P11-11.10d-1")
@pytest.mark.parametrize(
    ("who", "endpoint", "where"),
    list(
        itertools.product(
            [r.value for r in ROLES] + ["untrained", "no-role"], ENDPOINTS, [OWN, OTHER]
        )
    ),
)
def test_every_endpoint_answers_each_role_at_each_site_as_the_matrix_says(
    world: World, who: str, endpoint: str, where: str
) -> None:
    call, action = ENDPOINTS[endpoint]
    role = None if who in ("untrained", "no-role") else Role(who)
    reach: set[str] = set()
    if action is None:
        allowed = True  # your own account: any authenticated person
    else:
        reach = set() if role is None else ALLOWED[role].get(action, set())
        allowed = reach == {OWN, OTHER} if endpoint in SITE_LESS else where in reach

    response = call(world, world.people[who], where)

    if allowed:
        assert response.status_code == SUCCESS.get(endpoint, 200), response.get_data(as_text=True)
    elif endpoint in ABOUT_A_SUBJECT and reach:
        # The role does this, but not at this site: the subject answers as one that does not
        # exist (issue 15, point 11; tests/e2e/test_site_privacy.py).
        assert response.status_code == 404, response.get_data(as_text=True)
        assert response.get_json()["title"] == "Subject not found"
    else:
        assert response.status_code == 403, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["title"] == "Not permitted"


DELEGATION_LOG_READERS: dict[str, set[str]] = {
    Role.ADMINISTRATOR.value: {OWN, OTHER},
    Role.AUDITOR.value: {OWN, OTHER},
    Role.SPONSOR_DATA_MANAGER.value: {OWN, OTHER},
    Role.SITE_COORDINATOR.value: {OWN},
    Role.INVESTIGATOR.value: {OWN},
    Role.MONITOR.value: {OWN},
}
"""Who reads a site's delegation log: who reads accounts, every site's; who reads a site's
clinical data, that site's (it names staff, not subjects)."""


@pytest.mark.parametrize(
    ("who", "where"),
    list(itertools.product([r.value for r in ROLES] + ["untrained", "no-role"], [OWN, OTHER])),
)
def test_the_delegation_log_is_read_by_readers_of_accounts_and_of_the_site(
    world: World, who: str, where: str
) -> None:
    call = get(lambda w, site: f"/v1/sites/{site}/delegation-log")
    response = call(world, world.people[who], where)

    if where in DELEGATION_LOG_READERS.get(who, set()):
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/csv"
    else:
        assert response.status_code == 403, response.get_data(as_text=True)
        assert response.get_json()["title"] == "Not permitted"


def test_the_server_key_is_public(world: World) -> None:
    response = world.site.client.get("/v1/server-key")

    assert response.status_code == 200
    assert response.get_json()["key_id"] == world.store.app.server_key.key_id


@pytest.mark.requirement("P11-11.10d-1")
@pytest.mark.parametrize("endpoint", [name for name in ENDPOINTS if name.startswith("GET")])
def test_every_read_needs_a_token(world: World, endpoint: str) -> None:
    path = {
        "GET subject": subject_url(OWN),
        "GET history": subject_url(OWN) + "/history",
        "GET accounts": "/v1/accounts",
        "GET account": "/v1/accounts/writer-rp",
        "GET account history": "/v1/accounts/writer-rp/history",
        "GET access-review": "/v1/access-review",
        "GET disclosures": "/v1/disclosures",
        "GET study/unsigned-records": f"/v1/study/unsigned-records?study={STUDY}",
        "GET authentication-attempts": "/v1/authentication-attempts",
        "GET me": "/v1/me",
        "GET study/outcomes": f"/v1/study/outcomes?study={STUDY}",
        "GET study/dashboard": f"/v1/study/dashboard?study={STUDY}",
        "GET study/weekly": f"/v1/study/weekly?study={STUDY}",
        "GET study/audit-review": f"/v1/study/audit-review?study={STUDY}",
        "GET subject weekly": subject_url(OWN) + "/weekly",
        "GET subject audit": subject_url(OWN) + "/audit",
        "GET subject source-verification": subject_url(OWN) + "/source-verification",
        "GET study/source-verification": "/v1/study/source-verification",
        "GET study/source-verification of a site": "/v1/study/source-verification?site=RP",
    }[endpoint]

    response = world.site.client.get(path)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_the_matrix_covers_every_route_of_the_api(world: World) -> None:
    covered = {
        "/v1/studies/<study>/subjects/<subject>",
        "/v1/studies/<study>/subjects/<subject>/history",
        "/v1/events",
        "/v1/events/batch",
        "/v1/signatures",
        "/v1/accounts",
        "/v1/accounts/<user_id>",
        "/v1/accounts/<user_id>/history",
        "/v1/authentication-attempts",
        "/v1/access-review",
        "/v1/disclosures",
        "/v1/study/unsigned-records",
        "/v1/me",
        "/v1/study/outcomes",
        "/v1/study/dashboard",
        "/v1/study/weekly",
        "/v1/study/audit-review",
        "/v1/studies/<study>/subjects/<subject>/weekly",
        "/v1/studies/<study>/subjects/<subject>/audit",
        "/v1/studies/<study>/subjects/<subject>/source-verification",
        "/v1/study/source-verification",
        "/v1/packets",
        # A packet build is its requester's alone, whose asking the matrix covers above:
        # tests/packets/test_packet_builds.py refuses anyone else (403) and no such id (404).
        "/v1/packets/<uuid:build_id>",
        # Read by a union of two actions: test_the_delegation_log_is_read_by_...
        "/v1/sites/<site>/delegation-log",
        # Public, or authentication itself: tested in test_authentication_controls.py, and the
        # log's evidence in tests/e2e/test_proofs_api.py.
        "/v1/server-key",
        "/v1/checkpoints/latest",
        "/v1/checkpoints/consistency",
        "/v1/events/<int:position>/proof",
        # A checkpoint's time-stamp, public too: tests/e2e/test_timestamps_api.py.
        "/v1/checkpoints/<int:tree_size>/timestamp",
        # A witness's cosignature authenticates itself: tests/e2e/test_cosignatures_api.py.
        "/v1/checkpoints/<int:tree_size>/cosignatures",
        "/v1/auth/token",
        "/v1/auth/password",
        "/v1/auth/session",
    }
    routes = {
        rule.rule for rule in world.site.app.url_map.iter_rules() if rule.rule.startswith("/v1")
    }

    assert routes - covered == set(), "an endpoint the permission matrix does not cover"


# -- every page, in a browser signed in as each person --------------------------------------------

PAGES: dict[str, Action | tuple[Action, ...] | None] = {
    # page: the action its decorator asks, or the actions one of which it asks (None: any
    # signed-in person's own page)
    "/study": Action.READ_CLINICAL_DATA,
    "/account": None,
    "/logout": None,
    "/sign": Action.SIGN_CLINICAL_RECORDS,
    "/audit": Action.READ_CLINICAL_DATA,
    "/subjects/<code>/audit": Action.READ_CLINICAL_DATA,
    "/verify": Action.READ_LOG_EVIDENCE,
    "/subjects": Action.READ_CLINICAL_DATA,
    "/subjects/<code>": Action.READ_CLINICAL_DATA,
    "/subjects/<code>/blood-counts.svg": Action.READ_CLINICAL_DATA,
    "/subjects/<code>/troughs.svg": Action.READ_CLINICAL_DATA,
    "/subjects/<code>/as-of": Action.READ_CLINICAL_DATA,
    "/queries": Action.READ_CLINICAL_DATA,
    "/packets": None,
    "/queries/raise": Action.RAISE_QUERIES,
    "/queries/<code>/<int:number>": Action.READ_CLINICAL_DATA,
    "/admin": Action.READ_ACCOUNTS,
    "/admin/accounts/<user_id>/<change>": Action.ADMINISTER_ACCOUNTS,
    "/subjects/<code>/record/<kind>": Action.RECORD_CLINICAL_DATA,
    "/subjects/screen": Action.RECORD_CLINICAL_DATA,
    "/admin/accounts/new": Action.ADMINISTER_ACCOUNTS,
    "/subjects/<code>/source-verification": Action.VERIFY_SOURCE,
    "/subjects/<code>/lock-steps/<step>": Action.FREEZE_AND_LOCK,
    # The investigator's log and changes; the administrator's log of every site, and the
    # designation of each site's principal investigator.
    "/delegation": (Action.DELEGATE_TASKS, Action.ADMINISTER_ACCOUNTS),
    "/delegation/<site>/<user_id>/<change>": (Action.DELEGATE_TASKS, Action.ADMINISTER_ACCOUNTS),
    "/access-review": Action.REVIEW_ACCESS,
    "/study/database-lock": Action.FREEZE_AND_LOCK,
    "/study/database-lock/reopen": Action.FREEZE_AND_LOCK,
    "/audit/review": Action.REVIEW_AUDIT_TRAIL,
}
"""The pages behind a sign-in."""

SHOWS_SITES: dict[str, Action | tuple[Action, ...]] = {
    "/study": Action.READ_CLINICAL_DATA,
    "/delegation": (Action.DELEGATE_TASKS, Action.ADMINISTER_ACCOUNTS),
}
"""Pages that show each site the person may read by the action, and no other: each site's row
is ``id="site-<site>"``."""

SUBJECT_PAGES = {
    "/subjects/<code>": "/subjects/{where}-1",
    "/subjects/<code>/blood-counts.svg": "/subjects/{where}-1/blood-counts.svg",
    "/subjects/<code>/troughs.svg": "/subjects/{where}-1/troughs.svg",
    "/subjects/<code>/as-of": "/subjects/{where}-1/as-of?time={today}",
}
"""The pages of one subject, asked of the subject at ``where`` (as of today, for as-of)."""

PAGE_URLS = {
    # The form that would lock an account of the world (reading it changes nothing).
    "/admin/accounts/<user_id>/<change>": "/admin/accounts/no-role/lock",
    # The first step of a delegation to a person of the site (reading it changes nothing).
    "/delegation/<site>/<user_id>/<change>": f"/delegation/{OWN}/no-role/delegate",
    "/subjects/<code>/audit": f"/subjects/{OWN}-1/audit",
    "/queries/raise": f"/queries/raise?subject={OWN}-1&entry=1",
    "/queries/<code>/<int:number>": f"/queries/{OWN}-1/2",
    "/subjects/<code>/record/<kind>": f"/subjects/{OWN}-1/record/BloodCountRecorded",
    "/subjects/<code>/source-verification": f"/subjects/{OWN}-1/source-verification",
    # The lock of a subject not locked, open or frozen by the cells above (reading the form
    # changes nothing).
    "/subjects/<code>/lock-steps/<step>": f"/subjects/{OWN}-1/lock-steps/lock",
    **{
        rule: url.replace("{where}", OWN)  # {today} is filled in as it is asked (at_today)
        for rule, url in SUBJECT_PAGES.items()
    },
}
"""Where a page whose rule names a subject is asked for: of the person's own site."""


def at_today(url: str) -> str:
    """``url`` with ``{today}`` the UTC day it is asked on: fixed when the tests were collected,
    a run that crossed midnight asked for the end of yesterday of a store made today."""
    return url.replace("{today}", datetime.now(UTC).date().isoformat())


ROLE_PAGE_URLS = {
    # An administrator's change of a delegation: the designation of an investigator of the site
    # as its principal investigator (the form; reading it changes nothing).
    ("/delegation/<site>/<user_id>/<change>", Role.ADMINISTRATOR): (
        f"/delegation/{OWN}/untrained/designate"
    ),
}
"""Where a page is asked for by one role, when its change is that role's alone."""


def reach(role: Role | None, actions: Action | tuple[Action, ...] | None) -> set[str]:
    """The sites at which ``role`` does ``actions`` (one of them)."""
    if role is None or actions is None:
        return set()
    wanted = actions if isinstance(actions, tuple) else (actions,)
    return set().union(*(ALLOWED[role].get(action, set()) for action in wanted))


PAGE_DATA: dict[str, tuple[str, Action]] = {
    # route: (a request that succeeds, the action its decorator asks)
    "/verify/evidence/latest": ("/verify/evidence/latest", Action.READ_LOG_EVIDENCE),
    "/verify/evidence/consistency": (
        "/verify/evidence/consistency?from=1&to=2",
        Action.READ_LOG_EVIDENCE,
    ),
    "/verify/evidence/event": ("/verify/evidence/event?position=1", Action.READ_LOG_EVIDENCE),
}
"""What a page's script reads (JSON), behind the same sign-in and matrix as its page."""

QUERY_FORMS: dict[str, tuple[str, Action]] = {
    # route that only takes a form (POST): (where it is sent, the action its decorator asks)
    "/queries/<code>/<int:number>/answer": (
        f"/queries/{OWN}-1/2/answer",
        Action.RECORD_CLINICAL_DATA,
    ),
    "/queries/<code>/<int:number>/close": (f"/queries/{OWN}-1/2/close", Action.RAISE_QUERIES),
}
"""The query forms' own routes; each, sent unsigned, is refused for a role that does not do its
action (403) and shown again to one that does, saying nothing was signed (200)."""

PAGE_FORMS: dict[str, Action] = {
    # a form's own route, sent only (POST): the action it asks (tested below with the form)
    "/packets/build": Action.BUILD_REPORTS_AND_PACKETS,
    **{route: action for route, (_url, action) in QUERY_FORMS.items()},
}
"""Routes of a page that only take its form."""

REQUESTERS_PAGES = {"/packets/builds/<uuid:build_id>", "/packets/builds/<uuid:build_id>/packet.zip"}
"""A packet build's page and download: its requester's alone, whose asking (``/packets/build``)
the matrix covers; tests/web/test_packet_pages.py refuses anyone else (403) and no such id
(404)."""

PUBLIC_PAGES = {"/", "/login", "/language", "/assets/<path:filename>"}
"""Pages anyone may ask for: the start page (a redirect), sign-in, the language switch, the
stylesheet."""


def browser_of(world: World, person: Person) -> Browser:
    """A browser of the world's store, signed in as ``person``."""
    browser = Browser(world.store)
    answer = browser.sign_in(person.user_id, person.password)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return browser


@PAGES_ON_SQLITE
@pytest.mark.parametrize(
    ("who", "page"),
    list(itertools.product([r.value for r in ROLES] + ["untrained", "no-role"], PAGES)),
)
def test_every_page_answers_each_role_as_the_matrix_says(world: World, who: str, page: str) -> None:
    action = PAGES[page]
    role = None if who in ("untrained", "no-role") else Role(who)
    allowed = action is None or bool(reach(role, action))
    url = ROLE_PAGE_URLS.get((page, role)) if role else None

    response = browser_of(world, world.people[who]).get(at_today(url or PAGE_URLS.get(page, page)))

    if allowed:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert response.status_code == 403, response.get_data(as_text=True)
    assert response.mimetype == (
        "image/svg+xml" if allowed and page.endswith(".svg") else "text/html"
    )
    if allowed and page in SHOWS_SITES:
        reached = reach(role, SHOWS_SITES[page])
        shown = response.get_data(as_text=True)
        for where in (OWN, OTHER):
            assert (f'id="site-{where}"' in shown) == (where in reached), (who, where)


@PAGES_ON_SQLITE
@pytest.mark.parametrize(
    ("who", "route"),
    list(itertools.product([r.value for r in ROLES] + ["untrained", "no-role"], PAGE_DATA)),
)
def test_what_each_pages_script_reads_answers_each_role_as_the_matrix_says(
    world: World, who: str, route: str
) -> None:
    url, action = PAGE_DATA[route]
    role = None if who in ("untrained", "no-role") else Role(who)
    allowed = role is not None and bool(ALLOWED[role].get(action))

    response = browser_of(world, world.people[who]).get(url)

    assert response.status_code == (200 if allowed else 403), response.get_data(as_text=True)
    assert response.mimetype == ("application/json" if allowed else "text/html")


@PAGES_ON_SQLITE
@pytest.mark.parametrize(
    ("who", "route"),
    list(itertools.product([r.value for r in ROLES] + ["untrained", "no-role"], QUERY_FORMS)),
)
def test_each_form_of_its_own_route_answers_each_role_as_the_matrix_says(
    world: World, who: str, route: str
) -> None:
    url, action = QUERY_FORMS[route]
    role = None if who in ("untrained", "no-role") else Role(who)
    allowed = role is not None and bool(ALLOWED[role].get(action))
    browser = browser_of(world, world.people[who])

    response = browser.client.post(url, data={"csrf_token": browser.csrf_token("/account")})

    assert response.status_code == (200 if allowed else 403), response.get_data(as_text=True)
    if allowed:
        assert "Nothing was signed" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "where"),
    list(itertools.product(ROLES, [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_a_querys_page_shows_it_only_to_those_who_read_its_site(
    world: World, role: Role, where: str
) -> None:
    reads = ALLOWED[role].get(Action.READ_CLINICAL_DATA, set())
    raises = ALLOWED[role].get(Action.RAISE_QUERIES, set())
    browser = browser_of(world, world.people[role.value])

    shown = browser.get(f"/queries/{where}-1/2")
    raising = browser.get(f"/queries/raise?subject={where}-1&entry=1")

    assert shown.status_code == (200 if where in reads else 404 if reads else 403)
    assert raising.status_code == (200 if where in raises else 404 if raises else 403)


@PAGES_ON_SQLITE
@pytest.mark.parametrize(
    ("role", "where"),
    list(itertools.product(ROLES, [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_a_record_form_is_shown_only_to_those_who_record_at_its_subjects_site(
    world: World, role: Role, where: str
) -> None:
    records = ALLOWED[role].get(Action.RECORD_CLINICAL_DATA, set())
    browser = browser_of(world, world.people[role.value])
    url = f"/subjects/{where}-1/record/BloodCountRecorded"

    shown = browser.get(url)
    sent = browser.client.post(url, data={"csrf_token": browser.csrf_token("/account")})
    subject_page = browser.get(f"/subjects/{where}-1")

    expected = 200 if where in records else 404 if records else 403
    assert (shown.status_code, sent.status_code) == (expected, expected)
    # Offered on the subject's page to no one else (to them while the subject is open: the
    # world's subject may be frozen by then, tests/web/test_record_forms.py holds both).
    offered = f'href="/subjects/{where}-1/record/BloodCountRecorded"'
    if where not in records:
        assert offered not in subject_page.get_data(as_text=True)


@PAGES_ON_SQLITE
@pytest.mark.parametrize(
    ("role", "where"),
    list(itertools.product(ROLES, [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_source_verification_is_offered_only_to_those_who_verify_at_its_subjects_site(
    world: World, role: Role, where: str
) -> None:
    verifies = ALLOWED[role].get(Action.VERIFY_SOURCE, set())
    browser = browser_of(world, world.people[role.value])
    url = f"/subjects/{where}-1/source-verification"

    shown = browser.get(url)
    sent = browser.client.post(url, data={"csrf_token": browser.csrf_token("/account")})
    subject_page = browser.get(f"/subjects/{where}-1")

    expected = 200 if where in verifies else 404 if verifies else 403
    # Sent with nothing chosen, the page is shown again saying so (400), to a monitor there.
    assert (shown.status_code, sent.status_code) == (expected, 400 if expected == 200 else expected)
    offered = f'href="{url}"' in subject_page.get_data(as_text=True)
    assert offered == (where in verifies)


@PAGES_ON_SQLITE
@pytest.mark.parametrize(
    ("role", "where"),
    list(itertools.product(ROLES, [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_an_unlock_approval_is_refused_to_all_but_the_investigator_of_its_site(
    world: World, role: Role, where: str
) -> None:
    approves = ALLOWED[role].get(Action.SIGN_CLINICAL_RECORDS, set())
    browser = browser_of(world, world.people[role.value])

    # No unlock is pending in the world: the site's investigator is told it does not apply.
    shown = browser.get(f"/subjects/{where}-1/lock-steps/approve-unlock")

    assert shown.status_code == (409 if where in approves else 404 if approves else 403)


@PAGES_ON_SQLITE
@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_sends_a_stranger_to_sign_in(world: World, page: str) -> None:
    url = at_today(PAGE_URLS.get(page, page))
    response = Browser(world.store).get(url)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={quote(url, safe='/?')}"


def test_the_matrix_covers_every_page(world: World) -> None:
    pages = {
        rule.rule
        for rule in world.site.app.url_map.iter_rules()
        if rule.endpoint.startswith("web.")
    }

    covered = set(PAGES) | set(PAGE_DATA) | set(PAGE_FORMS) | PUBLIC_PAGES | REQUESTERS_PAGES
    assert pages == covered, "a page the permission matrix does not cover"


@PAGES_ON_SQLITE
@pytest.mark.parametrize(
    ("role", "where", "page"),
    list(itertools.product(ROLES, [OWN, OTHER], SUBJECT_PAGES)),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_a_subjects_pages_answer_as_the_api_answers_the_same_read(
    world: World, role: Role, where: str, page: str
) -> None:
    person = world.people[role.value]
    url = SUBJECT_PAGES[page].format(where=where, today=datetime.now(UTC).date().isoformat())

    shown = browser_of(world, person).get(url)
    api = world.site.client.get(subject_url(where), headers=world.auth(person))

    # The API's answer to reading the subject: 200, 404 for another site's, 403 for a role
    # that reads no clinical data; the page answers the same, as a page.
    assert shown.status_code == api.status_code, shown.get_data(as_text=True)
    if shown.status_code != 200:
        assert shown.mimetype == "text/html"
    if shown.status_code == 403:  # refused for the role, before the subject is looked up
        assert f"{where}-1" not in shown.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "where"),
    list(itertools.product(ROLES, [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_the_audit_pages_show_a_site_only_to_those_who_read_it(
    world: World, role: Role, where: str
) -> None:
    reads = ALLOWED[role].get(Action.READ_CLINICAL_DATA, set())
    browser = browser_of(world, world.people[role.value])

    subject_page = browser.get(f"/subjects/{where}-1/audit")
    site_filter = browser.get(f"/audit?site={where}&size=500")

    if where in reads:
        assert (subject_page.status_code, site_filter.status_code) == (200, 200)
        assert f'href="/subjects/{where}-1/audit"' in site_filter.get_data(as_text=True)
    elif reads:  # their own sites only: another site's subject is one never screened
        assert (subject_page.status_code, site_filter.status_code) == (404, 400)
        assert f"/subjects/{where}-1/audit" not in site_filter.get_data(as_text=True)
    else:
        assert (subject_page.status_code, site_filter.status_code) == (403, 403)


@pytest.mark.parametrize(
    ("role", "where"),
    list(itertools.product(ROLES, [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_the_list_of_subjects_shows_a_site_only_to_those_who_read_it(
    world: World, role: Role, where: str
) -> None:
    reads = ALLOWED[role].get(Action.READ_CLINICAL_DATA, set())

    listed = browser_of(world, world.people[role.value]).get("/subjects")

    if not reads:
        assert listed.status_code == 403
    else:
        assert listed.status_code == 200
        link = f'href="/subjects/{where}-1"'
        assert (link in listed.get_data(as_text=True)) is (where in reads)


@pytest.mark.parametrize(
    ("role", "where"),
    list(itertools.product(ROLES, [OWN, OTHER])),
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_the_list_of_queries_offers_a_site_only_to_those_who_read_it(
    world: World, role: Role, where: str
) -> None:
    reads = ALLOWED[role].get(Action.READ_CLINICAL_DATA, set())
    browser = browser_of(world, world.people[role.value])

    of_site = browser.get(f"/queries?site={where}")
    of_subject = browser.get(f"/queries?subject={where}-1")

    if not reads:
        assert (of_site.status_code, of_subject.status_code) == (403, 403)
    elif where in reads:
        assert (of_site.status_code, of_subject.status_code) == (200, 200)
    else:  # their own sites only: another site, and its subject, are not theirs to list
        assert (of_site.status_code, of_subject.status_code) == (400, 400)


@PAGES_ON_SQLITE
@pytest.mark.parametrize(
    ("who", "packet"),
    list(
        itertools.product(
            [r.value for r in ROLES] + ["untrained", "no-role"], ["study", OWN, OTHER]
        )
    ),
)
def test_a_packet_is_built_on_the_pages_for_whom_the_matrix_says(
    world: World, who: str, packet: str
) -> None:
    role = None if who in ("untrained", "no-role") else Role(who)
    allowed = role is not None and (
        bool(ALLOWED[role].get(Action.BUILD_REPORTS_AND_PACKETS))
        if packet == "study"
        else packet in ALLOWED[role].get(Action.BUILD_SITE_COPY, set())
    )
    browser = browser_of(world, world.people[who])

    response = browser.submit("/packets", "/packets/build", {"packet": packet})

    assert response.status_code == (303 if allowed else 403), response.get_data(as_text=True)
    if allowed:  # asked: built in the background, then downloaded from the build's page
        response = until_built(browser, response.headers["Location"])
    assert response.mimetype == ("application/zip" if allowed else "text/html")


def until_built(browser: Browser, location: str, seconds: float = 180) -> TestResponse:
    """The packet asked for on the pages, once its build's page no longer says it is being
    built: its download."""
    deadline = time.monotonic() + seconds
    while "Your packet is being built" in browser.get(location).get_data(as_text=True):
        assert time.monotonic() < deadline, "the packet was not built in time"
        time.sleep(0.2)
    return browser.get(f"{location}/packet.zip")
