"""Fixtures shared by every tier: stores on SQLite and PostgreSQL, people with real keys.

PostgreSQL tests run against the server ``SEALTRAIL_TEST_POSTGRES_URL`` names, or, left unset, the
local one at 127.0.0.1:5432 when it answers (tests/postgres.py); the report's header says which.
Each test gets a database of its own that is dropped afterwards. Initialising a store costs about
half a second on SQLite and two on PostgreSQL (its tables, triggers and first events), so each
test process initialises one store per backend, a template, and a test's ``store`` is a copy:
the SQLite file copied, or ``CREATE DATABASE ... TEMPLATE`` (made ahead on a thread), with the
template's keys beside it. With no server the PostgreSQL tests skip, except under ``CI=true``
where a skip would hide a failure: there the run stops before any test, in one line. The same
holds for the browser tests' Chromium (tests/browser/chromium.py), also named in the header.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from argon2.profiles import CHEAPEST
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from api.schemas.submissions import submission_from
from domain.account import Role
from domain.wire import instant_to_wire
from infrastructure.application.commands import OpenAccount, RecordEvent, RegisterKey, Training
from infrastructure.bootstrap import Store, open_store
from infrastructure.garbage_collector import settle
from infrastructure.identity.server_key import create_server_key
from infrastructure.settings import Settings
from signatures.authorship import sign_body
from signatures.keys import generate_private_key, key_id, public_key_to_text
from tests.browser.chromium import Chromium, find_chromium
from tests.homes import database_of
from tests.postgres import VARIABLE, TestServer, conninfo, find_test_server
from tests.tsa import LocalAuthority, running_authority

pytest_plugins = [
    "tests.shared_templates",
    "tests.cli_stores",
    "tests.traceability",
    "tests.xdist_groups",
]

STUDY = "NCT01297972"
ELIGIBLE = {**{f"IN{n}": True for n in range(1, 4)}, **{f"EX{n}": False for n in range(1, 10)}}


TEST_SERVER = pytest.StashKey[TestServer]()
CHROMIUM = pytest.StashKey[Chromium]()


def under_ci() -> bool:
    return os.environ.get("CI") == "true"


def pytest_configure(config: pytest.Config) -> None:
    """Find the PostgreSQL server and the browser once, before any test, and hand the server
    on to the workers."""
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller resolved it into the environment it inherited
    server = find_test_server(os.environ)
    config.stash[TEST_SERVER] = server
    if under_ci() and server.url is None:
        raise pytest.UsageError(
            f"CI=true, so the PostgreSQL tests must run, but they would be {server.state}"
        )
    chromium = config.stash[CHROMIUM] = find_chromium(os.environ)
    if under_ci() and chromium.executable is None:
        raise pytest.UsageError(
            f"CI=true, so the browser tests must run, but they would be {chromium.state}"
        )
    if server.problem is not None and server.url is not None:
        raise pytest.UsageError(f"{server.header}; {VARIABLE} names it")
    # Workers and require_postgres read the answer from here; "" is "no PostgreSQL tests".
    os.environ[VARIABLE] = server.url or ""


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups it is handed
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A module's tests stay on one worker when they share a fixture made once a module (a
    served store, a browser, a demonstration cohort): handed out one by one, as xdist does, they
    made that fixture again on every worker they reached (`make test` runs ``--dist
    loadgroup``). Then slow tests first among the tests handed out alone: xdist hands out the
    groups first, the largest first (``--loadscope-reorder``, its default), then the tests of
    no group in this order; a test of a minute started last would keep one worker busy alone at
    the end of the run (measured 2026-12-05: no tail, docs/benchmarks.md)."""
    for item in items:
        if shares_a_module_fixture(item) and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The garbage collector of each test process set up as a server's worker's is
    (:func:`infrastructure.garbage_collector.settle`): what collection made (the modules, the
    app's declarations, thousands of test items) is frozen, and the young generation collected
    after 50,000 allocations instead of 700. A test process lives through thousands of tests and
    keeps all that alive, and the default thresholds walked it again and again: measured on
    tests/web and tests/access/test_administration.py in one process, 70.8-72.4 s of CPU before
    and 63.1-64.4 s after, in five runs (docs/benchmarks.md). Cycles are still collected,
    later; what a test proves of the product does not depend on when."""
    settle()


def shares_a_module_fixture(item: pytest.Item) -> bool:
    fixtures = getattr(item, "_fixtureinfo", None)
    if fixtures is None:
        return False
    return any(
        definition.scope == "module"
        for definitions in fixtures.name2fixturedefs.values()
        for definition in definitions
    )


def pytest_report_header(config: pytest.Config) -> list[str]:
    found = (config.stash.get(TEST_SERVER, None), config.stash.get(CHROMIUM, None))
    return [each.header for each in found if each is not None]


def postgres_admin_url() -> str | None:
    """The PostgreSQL server the tests may create databases on, if any."""
    return os.environ.get(VARIABLE) or None


def require_postgres() -> str:
    """The admin URL, or skip (fail under CI)."""
    url = postgres_admin_url()
    if url:
        return url
    if under_ci():
        pytest.fail(f"no PostgreSQL server for the tests but CI=true: they must run ({VARIABLE})")
    pytest.skip(f"no PostgreSQL server answers ({VARIABLE})")


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards: its URL."""
    name = f"sealtrail_test_{uuid.uuid4().hex[:16]}"
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(name: str) -> str:
    """The SQLAlchemy URL of the test server's database ``name``."""
    return make_url(require_postgres()).set(database=name).render_as_string(hide_password=False)


def admin_sql(statement: str) -> None:
    """One statement on the test server's admin database, outside a transaction."""
    with psycopg.connect(conninfo(make_url(require_postgres())), autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database's SQLAlchemy URL, dropped after the test."""
    with scratch_database() as url:
        yield url


def make_settings(home: Path, database_url: str | None = None) -> Settings:
    """Settings for a store under ``home`` (SQLite there unless a URL is given).

    Passwords are hashed with argon2-cffi's profile for tests: Argon2id at its production cost
    (64 MiB) took most of a typical test's time, where one person signs in or is given a
    password. tests/access/test_password_hashing.py holds the production cost.
    """
    settings = Settings.from_environ(
        {
            "SEALTRAIL_HOME": str(home),
            "SEALTRAIL_DATABASE_URL": database_url or database_of(home),
        }
    )
    return replace(settings, password_hashing=CHEAPEST)


def new_store(settings: Settings) -> Store:
    """Create the server key, open and initialise the store."""
    create_server_key(settings)
    store = open_store(settings)
    store.administration.initialise()
    return store


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""The parameters of a fixture that runs its tests once per backend."""

ON_BOTH_BACKENDS = pytest.mark.parametrize("backend", BACKENDS, indirect=True)
"""Runs a test once per backend where its folder's tests run on SQLite alone (tests/web): for
the tests whose way in reaches the database in a way of its own (a session, a signed write, a
copy recorded, a proof read), so that each such path is also run on PostgreSQL."""


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each store test runs once per backend."""
    return str(request.param)


@pytest.fixture
def store_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings of a store not yet made (no keys, an empty database) on the backend under test."""
    if backend == "postgres":
        return make_settings(tmp_path, request.getfixturevalue("postgres_database"))
    return make_settings(tmp_path)


class AdminSession:
    """A connection to the test server's admin database, opened on first use and kept: for
    one thread's statements (a new connection cost the server about 5 ms of CPU each)."""

    def __init__(self) -> None:
        self._connection: psycopg.Connection[Any] | None = None

    def _connected(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(
                conninfo(make_url(require_postgres())), autocommit=True
            )
        return self._connection

    def run(self, statement: str) -> None:
        self._connected().execute(statement)  # type: ignore[arg-type]

    def copy_database(self, name: str, template: str) -> None:
        """``CREATE DATABASE name TEMPLATE template``, by copying its files where the server
        can (PostgreSQL 15's ``FILE_COPY``): for a template this small, about 20 ms of the
        server's CPU to make and 7 to drop, against 25 and 19 by the write-ahead log
        (``WAL_LOG``, the default), measured a hundred times each."""
        by_files = " STRATEGY FILE_COPY" if self._connected().info.server_version >= 150000 else ""
        self.run(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{by_files}')

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()


class Copies:
    """Copies of one PostgreSQL database, made and dropped on threads of their own.

    ``CREATE DATABASE ... TEMPLATE`` and ``DROP DATABASE`` each take from a tenth of a second to
    over a second, mostly waiting on the server's disk; one copy is made ahead while a test
    runs, and a test's copy is dropped on another thread, so that the next copy is never made
    behind a drop and tests seldom wait for either. Each thread keeps its connection.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        self._making = AdminSession()
        self._dropping = AdminSession()
        self._maker = ThreadPoolExecutor(1, thread_name_prefix="postgres-copies")
        self._dropper = ThreadPoolExecutor(1, thread_name_prefix="postgres-drops")
        self._next: Future[str] | None = self._maker.submit(self._create)
        self._drops: list[Future[None]] = []

    def _create(self) -> str:
        name = f"sealtrail_test_{uuid.uuid4().hex[:16]}"
        self._making.copy_database(name, self.template)
        return name

    def take(self) -> str:
        """A new copy's name; its owner gives it back."""
        assert self._next is not None, "taken after close"
        name = self._next.result()
        self._next = self._maker.submit(self._create)
        return name

    def give_back(self, name: str) -> None:
        """Drop the copy (later, on the dropping thread)."""
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        self._drops.append(self._dropper.submit(self._dropping.run, drop))

    def settle(self) -> None:
        """Wait for what the threads were given so far (the drops of copies given back)."""
        self._dropper.submit(lambda: None).result()

    def close(self) -> None:
        """Drop the copy made ahead and wait for every drop (a failed one fails here)."""
        if self._next is not None:
            self.give_back(self._next.result())
            self._next = None
        self._maker.shutdown(wait=True)
        self._dropper.shutdown(wait=True)
        self._making.close()
        self._dropping.close()
        for drop in self._drops:
            drop.result()


@dataclass(frozen=True)
class StoreTemplate:
    """An initialised store that tests copy: its home (keys; the SQLite file) and, on
    PostgreSQL, the copies of its database."""

    home: Path
    copies: Copies | None = None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> StoreTemplate:
    """One initialised SQLite store per test process."""
    home = tmp_path_factory.mktemp("sqlite-template")
    new_store(make_settings(home)).close()
    return StoreTemplate(home)


@pytest.fixture(scope="session")
def postgres_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoreTemplate]:
    """One initialised PostgreSQL store per test process; closed, since PostgreSQL copies a
    database only while nobody is connected to it."""
    home = tmp_path_factory.mktemp("postgres-template")
    with scratch_database() as url:
        new_store(make_settings(home, url)).close()
        copies = Copies(str(make_url(url).database))
        try:
            yield StoreTemplate(home, copies)
        finally:
            copies.close()


@contextmanager
def copy_of(template: StoreTemplate, home: Path) -> Iterator[Settings]:
    """The settings of a copy of the template's store under ``home`` (its database dropped
    afterwards on PostgreSQL)."""
    shutil.copytree(template.home, home, dirs_exist_ok=True)
    if template.copies is None:
        yield make_settings(home)
        return
    name = template.copies.take()
    try:
        yield make_settings(home, database_url(name))
    finally:
        template.copies.give_back(name)


@contextmanager
def opened_copy(template: StoreTemplate, home: Path) -> Iterator[Store]:
    """A copy of the template's store, open."""
    with copy_of(template, home) as settings:
        opened = open_store(settings)
        try:
            yield opened
        finally:
            opened.close()


@contextmanager
def store_on(backend: str, home: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A fresh, initialised store on ``backend`` under ``home``, open (for fixtures of any scope,
    such as a module's store parametrised by ``BACKENDS``)."""
    with opened_copy(request.getfixturevalue(f"{backend}_template"), home) as opened:
        yield opened


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A fresh, initialised store on the backend under test."""
    with store_on(backend, tmp_path, request) as opened:
        yield opened


@pytest.fixture
def sqlite_store(sqlite_template: StoreTemplate, tmp_path: Path) -> Iterator[Store]:
    """A fresh, initialised SQLite store (for what only SQLite has)."""
    with opened_copy(sqlite_template, tmp_path) as opened:
        yield opened


def store_asked_for(request: pytest.FixtureRequest) -> Store:
    """For a fixture a test may parametrise indirectly by backend (``"sqlite"`` unless asked):
    the fresh store of that backend."""
    return request.getfixturevalue(f"{getattr(request, 'param', 'sqlite')}_store")  # type: ignore[no-any-return]


@pytest.fixture
def postgres_store(postgres_template: StoreTemplate, tmp_path: Path) -> Iterator[Store]:
    """A fresh, initialised PostgreSQL store (for what only PostgreSQL has)."""
    with opened_copy(postgres_template, tmp_path) as opened:
        yield opened


@dataclass
class Person:
    """Someone with an account, a password and a real Ed25519 key.

    ``store`` is where the person records, if known: the version a body signs is read from it.
    """

    user_id: str
    printed_name: str
    private_key: Ed25519PrivateKey
    password: str
    store: Store | None = field(default=None, repr=False, compare=False)

    @property
    def key_id(self) -> str:
        return key_id(self.private_key.public_key())

    def next_version(self, subject: str, study: str = STUDY) -> int:
        """The version the next event of ``subject`` takes in the person's store, as a site's
        client reads it before signing (docs/signing.md)."""
        if self.store is None:
            raise ValueError(f"{self.user_id} knows no store to read the version from: give one")
        return next_version(self.store, subject, study)

    def body(
        self,
        subject: str,
        kind: str,
        data: dict[str, Any],
        *,
        version: int | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        """An event body this person would sign: version ``version`` of the subject's stream,
        by default the next one in the person's store."""
        study = overrides.get("study", STUDY)
        return {
            "study": STUDY,
            "subject": subject,
            "version": version if version is not None else self.next_version(subject, study),
            "kind": kind,
            "data": data,
            "signer": {"user_id": self.user_id, "printed_name": self.printed_name},
            "key_id": self.key_id,
            "signed_at": instant_to_wire(datetime.now(UTC)),
            "meaning": "authorship",
            **overrides,
        }

    def sign(self, body: dict[str, Any]) -> str:
        """The person's signature over the body's canonical form."""
        return sign_body(self.private_key, body)[1]

    def record(
        self, store: Store, subject: str, kind: str, data: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        """Submit through the application, as the API does; returns the receipt."""
        body = self.body(subject, kind, data, version=next_version(store, subject))
        receipt: dict[str, Any] = store.records.record(
            RecordEvent(
                submission=submission_from(body, self.sign(body), **kwargs), actor_id=self.user_id
            )
        )
        return receipt


def next_version(store: Store, subject: str, study: str = STUDY) -> int:
    """The version the next event of ``subject`` takes in ``store`` (1 before its screening)."""
    # The command's copy (pointers to the cached subject's entries), not the reader's deep copy:
    # only its version is read, and a deep copy per event made a long casebook quadratic.
    current = store.app.find_subject(f"{study}/{subject}", to_change=True)
    return 1 if current is None else current.version + 1


PersonFactory = Callable[..., Person]


def open_person(
    store: Store,
    user_id: str = "coord1",
    *,
    printed_name: str = "Ana Souza",
    role: Role = Role.SITE_COORDINATOR,
    sites: tuple[str, ...] = ("RP",),
    private_key: Ed25519PrivateKey | None = None,
) -> Person:
    """An account in force (role, training, sites, key, password), opened at the console; its
    key ``private_key``'s (a new one if None)."""
    private_key = private_key or generate_private_key()
    password = f"pw-{uuid.uuid4().hex}"
    store.administration.open_account(
        OpenAccount(
            user_id=user_id,
            printed_name=printed_name,
            role=role,
            sites=sites,
            # A role is in force only once training for it is attested (21 CFR 11.10(i)).
            training=Training("GCP and sealtrail data entry", date(2011, 1, 10)),
        )
    )
    store.administration.register_key(
        RegisterKey(user_id=user_id, public_key=public_key_to_text(private_key.public_key()))
    )
    store.credentials.set_password(user_id, password)
    return Person(user_id, printed_name, private_key, password, store)


@pytest.fixture
def person_in() -> PersonFactory:
    """Make a person in a store: ``person_in(store, "coord1", role=..., sites=(...))``."""
    return open_person


def console_env(person: Person) -> dict[str, str]:
    """The environment in which the console's person commands act as ``person``."""
    return {"SEALTRAIL_USER": person.user_id, "SEALTRAIL_PASSWORD": person.password}


def reader_env(
    store: Store, role: Role = Role.AUDITOR, user_id: str = "audit1", sites: tuple[str, ...] = ()
) -> dict[str, str]:
    """A new person of ``role`` in the store, as the environment of their console commands."""
    return console_env(
        open_person(store, user_id, printed_name="Lia Prado", role=role, sites=sites)
    )


def screening(**overrides: Any) -> dict[str, Any]:
    """The data of a screening at site RP."""
    return {"site": "RP", "sex": "F", "age": 34, "screened_on": "2011-02-14", **overrides}


def consent() -> dict[str, Any]:
    """The data of a TCLE signature."""
    return {"tcle_version": "2.0", "consented_on": "2011-02-14"}


def eligibility(**answers: bool) -> dict[str, Any]:
    """The data of an eligibility assessment, every criterion answered (override any)."""
    return {"criteria": {**ELIGIBLE, **answers}, "assessed_on": "2011-02-18"}


def enrolment() -> dict[str, Any]:
    """The data of an enrolment (after an assessment that found the subject eligible)."""
    return {"enrolled_on": "2011-02-21"}


def haemoglobin(
    value: str = "7.2", unit: str = "g/dL", collected_on: str = "2011-02-21"
) -> dict[str, Any]:
    """The data of a blood count (``BloodCountRecorded``) that measured haemoglobin only."""
    return {
        "collected_on": collected_on,
        "results": {"haemoglobin": {"value": value, "unit": unit}},
        "reticulocyte_method": "automated",
    }


def haemoglobin_correction(entry: int = 3, old: str = "7.2", new: str = "7.4") -> dict[str, Any]:
    """The data of an ``EntryCorrected`` of blood count ``entry``'s haemoglobin (g/dL)."""
    return {
        "entry": entry,
        "entry_kind": "BloodCountRecorded",
        "changes": {
            "results": {
                "old": {"haemoglobin": {"value": old, "unit": "g/dL"}},
                "new": {"haemoglobin": {"value": new, "unit": "g/dL"}},
            }
        },
        "reason": "transcription error",
    }


def infusion(number: int = 1, dose: str = "2.7", given_at: str | None = None) -> dict[str, Any]:
    """The data of MSC infusion ``number`` of a weekly schedule from 10 March 2011."""
    vital_signs = {
        "heart_rate": {"value": "82", "unit": "/min"},
        "temperature": {"value": "36.7", "unit": "Cel"},
    }
    return {
        "infusion_number": number,
        "dose": {"value": dose, "unit": "10^6 cells/kg"},
        "product_lot": f"MSC-2011-01{number}",
        "donor_code": "D-07",
        "viability": {"value": "94.5", "unit": "%"},
        "given_at": given_at
        or instant_to_wire(
            datetime(2011, 3, 10, 13, tzinfo=UTC) + timedelta(days=7 * (number - 1))
        ),
        "vital_signs_before": vital_signs,
        "vital_signs_after": vital_signs,
        "infusion_reaction": False,
    }


@pytest.fixture
def authority(tmp_path: Path) -> Iterator[LocalAuthority]:
    """A time-stamping authority on 127.0.0.1 (tests/tsa.py) for the test."""
    with running_authority(tmp_path / "tsa") as running:
        yield running
