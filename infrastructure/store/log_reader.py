"""Reading the log without the rest of the application: for verification workers.

Each process of ``sealtrail verify``'s pool opens its own connection to the store and reads its
ranges of the log; it needs eventsourcing's recorder and a mapper that knows our value types,
nothing else (no tables are created, no triggers installed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Notification
from eventsourcing.utils import Environment

from infrastructure.settings import APPLICATION_NAME, Settings
from infrastructure.store.transcodings import domain_mapper

LogReader = tuple[Callable[..., Sequence[Notification]], Callable[[Notification], Any]]


def log_infrastructure(settings: Settings) -> InfrastructureFactory[Any]:
    """eventsourcing's infrastructure for the store's log, creating no table."""
    env = Environment(APPLICATION_NAME, {**settings.eventsourcing_env(), "CREATE_TABLE": "n"})
    return InfrastructureFactory.construct(env)


def open_log_reader(settings: Settings) -> LogReader:
    """The log's ``select_notifications`` and a decoder of its events."""
    recorder = log_infrastructure(settings).application_recorder()
    return recorder.select_notifications, domain_mapper().to_domain_event
