"""The tables that hold projections, and the reads the API and the CLI make of them.

Each view is a pure function of ``projections/`` stored as a SQL table beside the events:

==================== ========================= ================================================
view                 table                     function
==================== ========================= ================================================
``subject_summary``  ``view_subject_summary``  :func:`projections.subject_summary.summarise`
``subject_weekly``   ``view_subject_weekly``   :func:`projections.weekly_outcomes.subject_weeks`
``audit_index``      ``view_audit_index``      :func:`projections.audit_index.index_event`
``study_dashboard``  ``view_study_dashboard``  :func:`projections.study_dashboard.dashboard`
``study_weekly``     ``view_study_weekly``     :func:`projections.weekly_outcomes.study_weeks`
==================== ========================= ================================================

The study-level views are recomputed, in the same transaction, from the subject-level rows of
the studies a page of events touched.
:class:`~infrastructure.views.projection_runner.ProjectionRunner` keeps them all up to date
(one transaction per page, each view's position in it); reads catch up first.

Every row is sealed: its ``seal`` column is an HMAC-SHA256, under a key kept with the store's
keys (:func:`~infrastructure.identity.server_key.view_seal_key`), of the table, the row's key
and its document. The views read a row only once its seal holds, and refuse it otherwise
(:class:`~infrastructure.errors.ViewNotVerified`): a row edited in the database, which no one
without the key can seal again, is never served, nor folded into the next page or a study's
view.
``sealtrail verify`` checks the rows from the other side, without the key: it derives every view
again from the events and names each row that differs (``view-mismatch``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, Subscription
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    select,
)

from domain.protocol import protocol_for
from domain.subject import Subject
from infrastructure.errors import ViewNotVerified
from infrastructure.settings import Settings
from infrastructure.store.postgres_pool import sqlalchemy_pool_arguments
from infrastructure.views.projection_runner import (
    PAGE,
    Applied,
    LogSource,
    ProjectionRunner,
    View,
    view_tracking,
)
from projections.audit_index import AuditIndex, index_event
from projections.study_dashboard import Dashboard, as_of, dashboard
from projections.subject_summary import Summary, summarise
from projections.weekly_outcomes import WeeklyTable, study_weeks, subject_weeks

__all__ = [
    "ProjectedViews",
    "SubjectSummaryView",
    "ViewNotVerified",
    "ViewSeal",
    "create_view_engine",
    "default_views",
    "view_tracking",
]

metadata = MetaData()


class ViewSeal:
    """Seals view rows and checks their seals (HMAC-SHA256 under the store's view key)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, table: Table, key: str, document: str) -> str:
        """The seal of one row: its table, key and document text."""
        message = json.dumps([table.name, key, document], ensure_ascii=False).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def checked(self, table: Table, key: str, document: str, seal: str | None) -> Any:
        """The row's document, parsed, once its seal holds.

        Raises:
            ViewNotVerified: the row is not as sealtrail wrote it.
        """
        if seal is None or not hmac.compare_digest(self.seal(table, key, document), seal):
            raise ViewNotVerified(
                "the row %(key)r of %(name)s is not as sealtrail wrote it (changed "
                "in the database): it is not served; run 'sealtrail verify', then "
                "'sealtrail rebuild'",
                key=key,
                name=table.name,
            )
        return json.loads(document)


def _subject_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("stream", String(200), primary_key=True),
        Column("study", String(100), nullable=False, index=True),
        Column("subject", String(100), nullable=False),
        Column("version", Integer, nullable=False),
        Column("position", BigInteger, nullable=False),
        Column("document", Text, nullable=False),
        Column("seal", String(64), nullable=False),
    )


def _study_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("study", String(100), primary_key=True),
        Column("document", Text, nullable=False),
        Column("seal", String(64), nullable=False),
    )


subject_summary = _subject_table("view_subject_summary")
subject_weekly = _subject_table("view_subject_weekly")
audit_index = _subject_table("view_audit_index")
study_dashboard = _study_table("view_study_dashboard")
study_weekly = _study_table("view_study_weekly")

SUBJECT_SUMMARY = "subject_summary"


def create_view_engine(settings: Settings) -> Engine:
    """A SQLAlchemy engine on the store's database, for the view tables."""
    if settings.is_sqlite:
        engine = create_engine(settings.database_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: Any, _: Any) -> None:
            # Let SQLAlchemy's begin() issue BEGIN IMMEDIATE so two catch-ups serialise.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    url = settings.database_url
    return create_engine(url, **sqlalchemy_pool_arguments(url.query))


# -- the views ---------------------------------------------------------------------------------


def _dumps(document: Any) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def _upsert(
    connection: Connection, table: Table, seal: ViewSeal, key: dict[str, Any], **values: Any
) -> None:
    ((column, value),) = key.items()
    values["seal"] = seal.seal(table, str(value), values["document"])
    updated = connection.execute(table.update().where(table.c[column] == value).values(**values))
    if updated.rowcount == 0:
        connection.execute(table.insert().values(**key, **values))


def _upsert_subject(
    connection: Connection, table: Table, seal: ViewSeal, applied: Applied, document: Any
) -> None:
    """Write a subject's row: its document as of the event applied last."""
    _upsert(
        connection,
        table,
        seal,
        {"stream": applied.stream},
        study=applied.subject.study_id,
        subject=applied.subject.subject_code,
        version=applied.event.originator_version,
        position=applied.position,
        document=_dumps(document),
    )


def _documents(connection: Connection, table: Table, key: str) -> Iterable[tuple[str, Any]]:
    rows = connection.execute(select(table.c[key], table.c.document).order_by(table.c[key]))
    return [(str(k), json.loads(document)) for k, document in rows]


class SealedTableView:
    """A view kept in one table whose every row carries its seal: its name, the table, the
    seal, and its documents by the column they are kept under (``key``)."""

    key = "stream"

    def __init__(self, name: str, table: Table, seal: ViewSeal) -> None:
        self.name = name
        self.table = table
        self.tables: Sequence[Table] = (table,)
        self._seal = seal

    def rows(self, connection: Connection) -> Iterable[tuple[str, Any]]:
        """Every document, by its key (a subject's stream, or a study)."""
        return _documents(connection, self.table, self.key)


class SubjectStateView(SealedTableView):
    """A document per subject, rendered from the subject as it stands (once per page)."""

    def __init__(
        self, name: str, table: Table, render: Callable[[Applied], Any], seal: ViewSeal
    ) -> None:
        super().__init__(name, table, seal)
        self._render = render

    def apply(self, connection: Connection, page: Sequence[Applied]) -> None:
        """Write each subject's document after its last event in the page."""
        latest = {applied.stream: applied for applied in page}
        for applied in latest.values():
            _upsert_subject(connection, self.table, self._seal, applied, self._render(applied))


class AuditIndexView(SealedTableView):
    """The audit index of each subject, folded event by event."""

    def __init__(self, seal: ViewSeal) -> None:
        super().__init__("audit_index", audit_index, seal)

    def apply(self, connection: Connection, page: Sequence[Applied]) -> None:
        """Fold each event into its subject's index."""
        indexes: dict[str, AuditIndex | None] = {}
        last: dict[str, Applied] = {}
        for applied in page:
            stream = applied.stream
            if stream not in indexes:
                indexes[stream] = self._stored(connection, stream)
            indexes[stream] = index_event(indexes[stream], applied.event, applied.position)
            last[stream] = applied
        for stream, index in indexes.items():
            _upsert_subject(connection, self.table, self._seal, last[stream], index)

    def _stored(self, connection: Connection, stream: str) -> AuditIndex | None:
        # The index is folded onto the stored one: an edited row must not be carried forward.
        row = connection.execute(
            select(self.table.c.document, self.table.c.seal).where(self.table.c.stream == stream)
        ).one_or_none()
        if row is None:
            return None
        return dict(self._seal.checked(self.table, stream, row.document, row.seal))


class StudyView(SealedTableView):
    """A document per study, recomputed from a subject-level table's rows of that study."""

    key = "study"

    def __init__(
        self,
        name: str,
        table: Table,
        source: Table,
        compute: Callable[[str, list[Any]], Any],
        seal: ViewSeal,
    ) -> None:
        super().__init__(name, table, seal)
        self._source = source
        self._compute = compute

    def apply(self, connection: Connection, page: Sequence[Applied]) -> None:
        """Recompute every study the page touched (its subject rows are already written)."""
        for study in sorted({applied.subject.study_id for applied in page}):
            rows = connection.execute(
                select(self._source.c.stream, self._source.c.document, self._source.c.seal)
                .where(self._source.c.study == study)
                .order_by(self._source.c.stream)
            ).all()
            # A subject row edited in the database must not pass into the study's figures.
            documents = [
                self._seal.checked(self._source, stream, document, seal)
                for stream, document, seal in rows
            ]
            computed = self._compute(study, documents)
            _upsert(connection, self.table, self._seal, {"study": study}, document=_dumps(computed))


def default_views(seal: ViewSeal) -> list[View]:
    """sealtrail's views, subject-level first (the study-level ones read them)."""
    return [
        SubjectStateView(
            SUBJECT_SUMMARY,
            subject_summary,
            lambda applied: {**summarise(applied.subject), "position": applied.position},
            seal,
        ),
        SubjectStateView(
            "subject_weekly", subject_weekly, lambda applied: subject_weeks(applied.subject), seal
        ),
        AuditIndexView(seal),
        StudyView("study_dashboard", study_dashboard, subject_summary, dashboard, seal),
        StudyView("study_weekly", study_weekly, subject_weekly, study_weeks, seal),
    ]


VIEW_TABLES = (subject_summary, subject_weekly, audit_index, study_dashboard, study_weekly)


def upgrade_view_tables(engine: Engine) -> None:
    """Drop the view tables of an older store whose rows carry no seal, and forget their
    positions: the runner builds them again, sealed, from the log (a view is derived data)."""
    inspector = inspect(engine)
    # One catalog query for every view table (this runs whenever a process opens the store).
    stored = inspector.get_multi_columns(filter_names=[table.name for table in VIEW_TABLES])
    unsealed = [
        table
        for table in VIEW_TABLES
        if (None, table.name) in stored
        and "seal" not in {column["name"] for column in stored[(None, table.name)]}
    ]
    if not unsealed:
        return
    with engine.begin() as connection:
        for table in unsealed:
            table.drop(connection)
        if inspector.has_table(view_tracking.name):
            connection.execute(view_tracking.delete())


# -- reading them ------------------------------------------------------------------------------


class ProjectedViews:
    """Every view of the log, kept current by a :class:`ProjectionRunner`; reads catch up first.

    ``catch_up``, ``rebuild`` and ``digest`` cover every view; ``get`` and ``of_study`` read the
    subject summaries, as they always have.
    """

    def __init__(
        self,
        engine: Engine,
        notifications: Callable[[int, int], Sequence[Notification]],
        last_position: Callable[[], int | None],
        decode: Callable[[Notification], Any],
        subject_at: Callable[[UUID, int], Subject],
        *,
        seal: ViewSeal,
        views: Sequence[View] | None = None,
        page: int = PAGE,
    ) -> None:
        self.engine = engine
        self.seal = seal
        upgrade_view_tables(engine)
        self.runner = ProjectionRunner(
            engine,
            LogSource(notifications, last_position, decode, subject_at),
            default_views(seal) if views is None else views,
            page=page,
        )

    # -- keeping up ---------------------------------------------------------------------------

    def catch_up(
        self,
        *,
        progress: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> int:
        """Apply every event past the tracked positions; returns how many positions passed."""
        return self.runner.catch_up(progress=progress, should_stop=should_stop)

    def behind(self) -> int:
        """How far the slowest view is behind the log (positions)."""
        return self.runner.behind()

    def rebuild(self, *, progress: Callable[[int], None] | None = None) -> str:
        """Drop every view, replay the whole log into them and return their digest."""
        return self.runner.rebuild(progress=progress)

    def digest(self) -> str:
        """SHA-256 of every view's rows without store-local keys (see ``STORE_LOCAL``)."""
        return self.runner.digest()

    def follow(self, subscribe: Callable[[int], Subscription[Any]], poll_interval: float) -> None:
        """Follow the log until :meth:`stop` (``sealtrail project --follow``); see
        :meth:`ProjectionRunner.follow`."""
        self.runner.follow(subscribe, poll_interval=poll_interval)

    def stop(self) -> None:
        """Stop catching up or following after the page in hand (safe from a signal handler)."""
        self.runner.stop()

    def stopped(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self.runner.stopped()

    # -- reads ----------------------------------------------------------------------------------

    def get(self, stream: str) -> Summary | None:
        """One subject's summary, or None."""
        return self._subject_document(subject_summary, stream)

    def of_study(self, study: str) -> list[Summary]:
        """Every subject summary of a study, by subject code."""
        self.catch_up()
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(subject_summary.c.stream, subject_summary.c.document, subject_summary.c.seal)
                .where(subject_summary.c.study == study)
                .order_by(subject_summary.c.subject)
            ).all()
        return [dict(self.seal.checked(subject_summary, *row)) for row in rows]

    def subject_weekly(self, stream: str) -> WeeklyTable | None:
        """One subject's weekly outcome table, or None if never screened."""
        return self._subject_document(subject_weekly, stream)

    def audit(self, stream: str) -> AuditIndex | None:
        """One subject's audit index, or None if never screened."""
        return self._subject_document(audit_index, stream)

    def study_weekly(self, study: str) -> WeeklyTable:
        """The study's weekly outcome table (empty weeks before any subject is infused)."""
        stored = self._study_document(study_weekly, study)
        return stored if stored is not None else study_weeks(study, [])

    def dashboard(
        self, study: str, today: date | None = None, sites: Collection[str] | None = None
    ) -> Dashboard:
        """The study dashboard, its notification clocks judged on ``today`` (the site's); of
        ``sites`` alone, when named, computed from their subjects' summaries."""
        if sites is not None:
            stored = dashboard(study, [s for s in self.of_study(study) if s["site"] in sites])
        else:
            stored = self._study_document(study_dashboard, study) or dashboard(study, [])
        if today is None:
            today = datetime.now(protocol_for(study).time_zone).date()
        return as_of(stored, today)

    def _subject_document(self, table: Table, stream: str) -> dict[str, Any] | None:
        return self._document(table, "stream", stream)

    def _study_document(self, table: Table, study: str) -> dict[str, Any] | None:
        return self._document(table, "study", study)

    def _document(self, table: Table, key: str, value: str) -> dict[str, Any] | None:
        """The row whose ``key`` column is ``value``, once its seal holds; None if none."""
        self.catch_up()
        with self.engine.connect() as connection:
            row = connection.execute(
                select(table.c.document, table.c.seal).where(table.c[key] == value)
            ).one_or_none()
        return None if row is None else dict(self.seal.checked(table, value, *row))


SubjectSummaryView = ProjectedViews
"""The name the rest of the code has known this class by (it began with the summary alone)."""
