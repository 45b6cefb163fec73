"""The one place that builds sealtrail from its settings (cosmicpython's bootstrap).

:func:`open_store` opens the database and the application beside its views and credentials;
:func:`bootstrap` builds the services over them, each given what it needs.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eventsourcing.persistence import PersistenceError
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError as SQLAlchemyOperationalError

from domain.account import server_anchor
from infrastructure.application.access import AccessControl
from infrastructure.application.account_changes import AccountChanges
from infrastructure.application.administration import Administration
from infrastructure.application.disclosures import Disclosures
from infrastructure.application.policy import AccessPolicy
from infrastructure.application.reads import Reads
from infrastructure.application.receipts import Receipts
from infrastructure.application.records import Records
from infrastructure.application.sealtrail import SealTrail
from infrastructure.errors import StoreUnavailable
from infrastructure.identity.credentials import CredentialStore
from infrastructure.identity.server_key import (
    load_server_key,
    load_server_public_key,
    view_seal_key,
)
from infrastructure.packets import build_rows
from infrastructure.settings import Settings
from infrastructure.store import merkle_log
from infrastructure.store.checkpoints import CheckpointKeeper, store_origin
from infrastructure.store.log_reader import log_infrastructure
from infrastructure.store.schema_lock import schema_changes_serialised
from infrastructure.store.timestamps import stamper_from
from infrastructure.store.transcodings import domain_mapper
from infrastructure.views.tables import SubjectSummaryView, ViewSeal, create_view_engine
from signatures.keys import key_id, public_key_to_text

if TYPE_CHECKING:
    from infrastructure.verification.verifier import LogVerifier

UNAVAILABLE = (sqlite3.Error, PersistenceError, SQLAlchemyOperationalError, OSError)
"""What says the store cannot be opened or reached, on any backend; :func:`unavailable` adds
psycopg's errors."""


def unavailable() -> tuple[type[BaseException], ...]:
    """The errors that say the store cannot be opened or reached: psycopg's among them once it
    is imported (by a PostgreSQL store; a SQLite store's command never imports it, and so can
    meet none of its errors)."""
    psycopg = sys.modules.get("psycopg")
    return UNAVAILABLE if psycopg is None else (*UNAVAILABLE, psycopg.Error)


@dataclass(frozen=True)
class Services:
    """What the ways in ask of a store: its records, administration, reads and access."""

    records: Records
    administration: Administration
    reads: Reads
    access: AccessControl
    disclosures: Disclosures


def bootstrap(
    app: SealTrail,
    credentials: CredentialStore,
    policy: AccessPolicy | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Services:
    """The services over one application and its credentials, on one clock and policy."""
    clock = clock or (lambda: datetime.now(UTC))
    receipts = Receipts(app)
    administration = Administration(AccountChanges(app), receipts, credentials, clock)
    access = AccessControl(administration, credentials, policy, clock)
    return Services(
        Records(app, receipts, access), administration, Reads(app), access, Disclosures(app)
    )


@dataclass
class Store:
    """The application, what stands beside it and its services, built from one set of
    settings."""

    settings: Settings
    app: SealTrail
    engine: Engine
    views: SubjectSummaryView
    credentials: CredentialStore
    services: Services
    _closed: bool = field(default=False, init=False)

    @property
    def records(self) -> Records:
        """Writes of subjects' records."""
        return self.services.records

    @property
    def administration(self) -> Administration:
        """Accounts and their changes."""
        return self.services.administration

    @property
    def reads(self) -> Reads:
        """Histories and account lists."""
        return self.services.reads

    @property
    def access(self) -> AccessControl:
        """Authentication and sessions."""
        return self.services.access

    @property
    def disclosures(self) -> Disclosures:
        """The copies of data handed out, and to whom."""
        return self.services.disclosures

    def verifier(self, workers: int | None = None, range_size: int | None = None) -> LogVerifier:
        """A verifier over this store's log, anchored on the server's public key (of ranges of
        ``range_size`` events, the verifier's own by default)."""
        # Imported here: only a verify pays for the verifier's modules.
        from infrastructure.verification.verifier import RANGE, LogVerifier

        return LogVerifier(
            settings=self.settings,
            engine=self.engine,
            notifications=self.app.recorder.select_notifications,
            last_position=self.app.recorder.max_notification_id,
            decode=self.app.mapper.to_domain_event,
            anchor=server_anchor(public_key_to_text(self.app.server_key.public_key)),
            origin=self.app.checkpoints.origin,
            workers=workers,
            range_size=RANGE if range_size is None else range_size,
            events_table=self.app.recorder.events_table_name,  # type: ignore[attr-defined]
        )

    def close(self) -> None:
        """Release connections."""
        if not self._closed:
            self._closed = True
            self.app.close()
            self.engine.dispose()


def open_store(settings: Settings | None = None) -> Store:
    """Open the store named by the settings (the environment by default).

    Raises:
        ConfigurationError: a setting is malformed.
        StoreNotInitialised: there is no server key yet.
        StoreUnavailable: the database cannot be opened or reached.
    """
    settings = settings or Settings.from_environ()
    server_key = load_server_key(settings)
    policy = AccessPolicy.from_environ()
    # Workers starting together would otherwise race to create the same tables.
    with schema_changes_serialised(settings):
        try:
            settings.ensure_directories()
            engine = create_view_engine(settings)
            merkle_log.metadata.create_all(engine)
            merkle_log.add_columns(engine)
            build_rows.metadata.create_all(engine)
            keeper = CheckpointKeeper(
                engine,
                server_key,
                store_origin(engine, settings.log_origin, server_key.key_id, keep=True),
                every=settings.checkpoint_every,
                seconds=settings.checkpoint_seconds,
                stamper=stamper_from(engine, settings.tsa_url, settings.tsa_certificates),
            )
            app = SealTrail(settings, server_key, keeper)
        except unavailable() as error:
            raise StoreUnavailable(
                "cannot open the store at %(safe)s: %(reason)s",
                safe=_safe(settings),
                reason=_reason(error),
            ) from None
        try:
            views = SubjectSummaryView(
                engine,
                notifications=app.recorder.select_notifications,
                last_position=app.recorder.max_notification_id,
                decode=app.mapper.to_domain_event,
                subject_at=app.subject_at,
                seal=ViewSeal(view_seal_key(settings)),
            )
            credentials = CredentialStore(engine, settings.password_hashing)
            services = bootstrap(app, credentials, policy)
            # An older store kept its attempts in a table: they become events of the log.
            services.access.log.carry_over(engine)
        except unavailable() as error:
            app.close()
            raise StoreUnavailable(
                "cannot open the store at %(safe)s: %(reason)s",
                safe=_safe(settings),
                reason=_reason(error),
            ) from None
        return Store(settings, app, engine, views, credentials, services)


@contextmanager
def log_verifier(
    settings: Settings | None = None, workers: int | None = None
) -> Iterator[LogVerifier]:
    """A verifier of the log alone: it reads, and creates or changes nothing.

    Unlike :func:`open_store` it needs only the server's public key and a connection that may
    read, so it runs on a hot standby (a read replica) with an auditor's home that holds no
    private key (docs/deployment.md, section 7).

    Raises:
        ConfigurationError, StoreNotInitialised, StoreUnavailable: as :func:`open_store`.
    """
    from infrastructure.verification.verifier import LogVerifier

    settings = settings or Settings.from_environ()
    public_key = load_server_public_key(settings)
    try:
        infrastructure = log_infrastructure(settings)
        recorder = infrastructure.application_recorder()
        engine = create_view_engine(settings)
    except unavailable() as error:
        raise StoreUnavailable(
            "cannot open the store at %(safe)s: %(reason)s",
            safe=_safe(settings),
            reason=_reason(error),
        ) from None
    try:
        try:
            origin = store_origin(engine, settings.log_origin, key_id(public_key), keep=False)
        except unavailable() as error:
            raise StoreUnavailable(
                "cannot open the store at %(safe)s: %(reason)s",
                safe=_safe(settings),
                reason=_reason(error),
            ) from None
        yield LogVerifier(
            settings=settings,
            engine=engine,
            notifications=recorder.select_notifications,
            last_position=recorder.max_notification_id,
            decode=domain_mapper().to_domain_event,
            anchor=server_anchor(public_key_to_text(public_key)),
            origin=origin,
            workers=workers,
            events_table=recorder.events_table_name,  # type: ignore[attr-defined]
        )
    finally:
        engine.dispose()
        infrastructure.close()


def _reason(error: BaseException) -> str:
    # SQLAlchemy wraps the driver's error and adds a second line of links: keep the driver's.
    cause = getattr(error, "orig", None) or error
    return " ".join(str(cause).split())


def _safe(settings: Settings) -> str:
    return settings.database_url.render_as_string(hide_password=True)
