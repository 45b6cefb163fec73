"""eventsourcing as it comes, over sealtrail's database settings: what the benchmarks compare to.

The database, driver, pool and lock settings are sealtrail's; a recorder (or mapper,
transcoder...) topic that names one of sealtrail's own classes is dropped, so the application
runs eventsourcing's own. sealtrail's transcodings are registered, so the same Python values
(dates, quantities, enums) are stored the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from infrastructure.settings import Settings
from infrastructure.store.transcodings import register_domain_transcodings
from infrastructure.store.write_turns import WriteTurns

SEALTRAIL_PACKAGES = ("api.", "domain.", "infrastructure.", "projections.", "signatures.")


class PlainApplication(Application[uuid.UUID]):
    """A plain eventsourcing application: no signatures, no chain, no receipts."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


class TurnTakingSQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder, its writers queued as sealtrail's are
    (:mod:`infrastructure.store.write_turns`), so that several processes writing at once do not
    sleep in SQLite's busy handler beside a free database."""

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._turns = WriteTurns(Path(datastore.pool.db_name))

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        with self._turns.turn():
            return super().insert_events(stored_events, **kwargs)


def plain_env(settings: Settings, *, take_turns: bool = False) -> dict[str, str]:
    """sealtrail's persistence settings without the topics that name sealtrail's own classes.

    ``take_turns``: on SQLite, writers in several processes queue for their inserts as
    sealtrail's do (:class:`TurnTakingSQLiteRecorder`).
    """
    env = {
        name: value
        for name, value in settings.eventsourcing_env().items()
        if not (name.endswith("_TOPIC") and value.startswith(SEALTRAIL_PACKAGES))
    }
    if take_turns and settings.is_sqlite:
        env["APPLICATION_RECORDER_TOPIC"] = f"{__name__}:{TurnTakingSQLiteRecorder.__name__}"
    return env
