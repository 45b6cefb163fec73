"""Fixtures the integration tests share: two site coordinators of site RP, on the test's store."""

from __future__ import annotations

import pytest

from domain.account import Role
from infrastructure.bootstrap import Store
from tests.access.conftest import make_person
from tests.conftest import Person


@pytest.fixture
def coord1(store: Store) -> Person:
    return make_person(store, "coord1", role=Role.SITE_COORDINATOR, sites=("RP",))


@pytest.fixture
def coord2(store: Store) -> Person:
    return make_person(store, "coord2", role=Role.SITE_COORDINATOR, sites=("RP",))
