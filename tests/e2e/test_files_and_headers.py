"""Files and headers (issue 15, point 13).

The store's folder and SQLite files hold keys, password hashes and sessions: they are made
private (0700 / 0600) from the start, whatever the umask. Every answer carries the security
headers, set once in the app factory, and no token or clinical answer may stay in a cache.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.bootstrap import Store
from tests.conftest import STUDY, Person, PersonFactory, make_settings, new_store, screening
from tests.e2e.conftest import Site


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A permissive umask (as on many servers), so that only explicit modes keep files private."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.requirement("P11-11.30-2")
def test_a_new_home_and_sqlite_store_are_private_wal_and_shm_included(
    tmp_path: Path, open_umask: None, person_in: PersonFactory
) -> None:
    home = tmp_path / "deployment" / "var"
    store = new_store(make_settings(home))
    try:
        person = person_in(store, "coord1", sites=("RP",))
        person.record(store, "RP-101", "Screened", screening())
        database = home / "store.sqlite3"
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]

        assert all(path.exists() for path in files), [p.name for p in home.iterdir()]
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
        assert mode(home) == 0o700
        assert mode(home / "keys") == 0o700
    finally:
        store.close()


def test_a_home_that_exists_is_left_as_its_owner_set_it(tmp_path: Path, open_umask: None) -> None:
    home = tmp_path / "shared"
    home.mkdir(mode=0o750)
    store = new_store(make_settings(home))
    store.close()

    assert mode(home) == 0o750
    assert mode(home / "keys") == 0o700


@pytest.fixture
def ana(store: Store, person_in: PersonFactory) -> Person:
    return person_in(store, "coord1", printed_name="Ana Souza", sites=("RP",))


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@pytest.mark.requirement("P11-11.30-2")
def test_every_kind_of_answer_carries_the_security_headers(site: Site, ana: Person) -> None:
    assert site.submit(ana, "Screened", screening()).status_code == 201
    answers = {
        "token": site.client.post(
            "/v1/auth/token", json={"username": ana.user_id, "password": ana.password}
        ),
        "clinical": site.client.get(f"/v1/studies/{STUDY}/subjects/RP-101", headers=site.auth(ana)),
        "problem": site.client.get(f"/v1/studies/{STUDY}/subjects/RP-999", headers=site.auth(ana)),
        "unauthenticated": site.client.get("/v1/me"),
        "unknown route": site.client.get("/nowhere"),
        "openapi": site.client.get("/openapi.json"),
        "docs page": site.client.get("/docs"),
    }

    for name, response in answers.items():
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy, name
        assert response.headers.get("Cache-Control") == "no-store", name


def test_a_page_may_load_its_own_assets_and_its_own_inline_script_only(site: Site) -> None:
    page = site.client.get("/docs")

    policy = page.headers["Content-Security-Policy"]
    assert page.status_code == 200
    assert "default-src 'self'" in policy
    assert "script-src 'self' 'sha256-" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in policy


def test_a_json_answer_loads_nothing(site: Site, ana: Person) -> None:
    response = site.client.get("/v1/me", headers=site.auth(ana))

    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_docs_static_assets_may_be_cached(site: Site) -> None:
    asset = site.client.get("/docs/assets/swagger-ui.css")

    assert asset.status_code == 200
    assert asset.headers.get("Cache-Control") != "no-store"
    assert asset.headers["X-Content-Type-Options"] == "nosniff"
