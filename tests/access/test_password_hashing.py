"""Passwords are hashed at RFC 9106's recommended Argon2id cost wherever a store is opened from
the environment, as every deployment opens it; the rest of the suite lowers the cost in code
(tests/conftest.py ``make_settings``), which no variable can do."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import select

from infrastructure.identity.credentials import credentials
from infrastructure.settings import Settings
from tests.conftest import new_store, open_person


def environment(home: Path) -> dict[str, str]:
    return {
        "SEALTRAIL_HOME": str(home),
        "SEALTRAIL_DATABASE_URL": f"sqlite:///{home / 'store.sqlite3'}",
        "SEALTRAIL_PASSWORD_HASHING": "cheapest",  # not a variable sealtrail reads
    }


def test_a_store_opened_from_the_environment_hashes_at_rfc_9106s_cost(tmp_path: Path) -> None:
    store = new_store(Settings.from_environ(environment(tmp_path)))
    try:
        person = open_person(store, "coord1")
        with store.engine.connect() as connection:
            stored = connection.execute(
                select(credentials.c.password_hash).where(credentials.c.user_id == "coord1")
            ).scalar_one()
        account = store.access.authenticate("coord1", person.password, channel="token")
    finally:
        store.close()

    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert extract_parameters(stored) == RFC_9106_LOW_MEMORY
    assert account.user_id == "coord1"


@pytest.mark.parametrize("variable", ["SEALTRAIL_PASSWORD_HASHING", "SEALTRAIL_ARGON2_MEMORY"])
def test_no_variable_lowers_the_cost(tmp_path: Path, variable: str) -> None:
    settings = Settings.from_environ({**environment(tmp_path), variable: "8"})

    assert settings.password_hashing == RFC_9106_LOW_MEMORY
