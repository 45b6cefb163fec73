"""Where a test's store lives: a home folder, and the database it names.

A home the tests made on PostgreSQL (``tests.cli_stores.initialised`` with a URL) names its
database in a file of its own, so that the tests' ``sealtrail`` runs and ``make_settings`` open
it as they open a home's SQLite file, and a test written for a home runs on either backend.
"""

from __future__ import annotations

from pathlib import Path

DATABASE_FILE = "database-url.test"
"""The tests' own file: sealtrail itself reads only ``SEALTRAIL_DATABASE_URL``."""


def database_of(home: Path) -> str:
    """The database of the store under ``home``: the one named in its :data:`DATABASE_FILE`,
    else its SQLite file."""
    named = home / DATABASE_FILE
    return named.read_text().strip() if named.exists() else f"sqlite:///{home / 'store.sqlite3'}"
