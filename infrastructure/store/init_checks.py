"""What ``sealtrail init`` must know of the database before it writes a single file.

That the database can be reached, that this connection may create tables in it (a hot standby,
a database set ``default_transaction_read_only``, a SQLite file the account may not write, or a
role without ``CREATE`` may not), and whether a log is already there. The write is tried in a
transaction that is rolled back, so the check itself leaves nothing behind. A SQLite file that
does not exist yet is not created here: its folder must be one this account may write.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from infrastructure.errors import StoreUnavailable
from infrastructure.settings import Settings
from infrastructure.store.merkle_log import merkle_leaves
from infrastructure.views.tables import create_view_engine

PROBE_TABLE = "sealtrail_write_probe"


def check_writable(settings: Settings) -> bool:
    """Whether the store's log already holds events, once the database is known to take writes.

    Raises:
        StoreUnavailable: the database cannot be reached, or refuses to create a table.
    """
    where = settings.database_url.render_as_string(hide_password=True)
    if settings.is_sqlite and settings.database_url.database not in (None, ":memory:"):
        database = Path(str(settings.database_url.database))
        if not database.exists():
            folder = next(parent for parent in database.parents if parent.exists())
            if not os.access(folder, os.W_OK | os.X_OK):
                raise StoreUnavailable(
                    "the store at %(where)s cannot be created: %(folder)s is read-only "
                    "for this account; nothing was written",
                    where=where,
                    folder=folder,
                )
            return False
    engine = create_view_engine(settings)
    try:
        with engine.connect() as connection:
            try:
                transaction = connection.begin()
                try:
                    connection.execute(text(f"CREATE TABLE {PROBE_TABLE} (probe INTEGER)"))
                finally:
                    transaction.rollback()
            except DBAPIError as error:
                raise StoreUnavailable(
                    "the store at %(where)s refuses writes (%(reason)s): run 'sealtrail "
                    "init' against the primary, as a role that may create tables (a "
                    "read-only standby cannot be initialised); nothing was written",
                    where=where,
                    reason=_reason(error),
                ) from None
            if not inspect(connection).has_table(merkle_leaves.name):
                return False
            leaves = connection.execute(select(func.count()).select_from(merkle_leaves))
            return bool(leaves.scalar())
    except DBAPIError as error:
        raise StoreUnavailable(
            "cannot open the store at %(where)s: %(reason)s", where=where, reason=_reason(error)
        ) from None
    finally:
        engine.dispose()


def _reason(error: DBAPIError) -> str:
    return " ".join(str(error.orig).split())
