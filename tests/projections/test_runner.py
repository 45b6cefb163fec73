"""The projection runner: each event applied once per view, rows and position committed together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from sqlalchemy import BigInteger, Column, Connection, MetaData, Table, func, select

from infrastructure.bootstrap import Store, open_store
from infrastructure.views.projection_runner import Applied, view_tracking
from infrastructure.views.tables import ProjectedViews, default_views, subject_summary
from tests.conftest import PersonFactory
from tests.projections.conftest import course, record_all

STREAM = "NCT01297972/RP-101"
PAGE = 5

ledger_metadata = MetaData()


class Ledger:
    """A view that writes one row per event it is given: a second application is an error."""

    name = "ledger"
    table = Table("test_ledger", ledger_metadata, Column("position", BigInteger, primary_key=True))
    tables = (table,)

    def apply(self, connection: Connection, page: Sequence[Applied]) -> None:
        for applied in page:
            connection.execute(self.table.insert().values(position=applied.position))

    def rows(self, connection: Connection) -> Iterable[tuple[str, Any]]:
        positions = connection.execute(select(self.table.c.position)).scalars()
        return [(str(p), p) for p in positions]


class FailsAt:
    """A view that raises when it meets one position, until it is told to stop failing."""

    name = "fails_at"
    tables = ()

    def __init__(self, position: int) -> None:
        self.position = position
        self.failing = True

    def apply(self, connection: Connection, page: Sequence[Applied]) -> None:
        for applied in page:
            if self.failing and applied.position == self.position:
                raise RuntimeError(f"the view broke at position {applied.position}")

    def rows(self, connection: Connection) -> Iterable[tuple[str, Any]]:
        return []


def views_of(store: Store, *extra: Any, page: int = PAGE) -> ProjectedViews:
    app = store.app
    return ProjectedViews(
        store.engine,
        app.recorder.select_notifications,
        app.recorder.max_notification_id,
        app.mapper.to_domain_event,
        app.subject_at,
        seal=store.views.seal,
        views=[*default_views(store.views.seal), *extra],
        page=page,
    )


def all_positions(store: Store) -> list[int]:
    return [n.id for n in store.app.recorder.select_notifications(1, 10_000)]


def subject_positions(store: Store) -> list[int]:
    return [record.position for record in store.reads.history(STREAM)]


def tracked(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        rows = connection.execute(select(view_tracking.c.view, view_tracking.c.position)).all()
    return {view: int(position) for view, position in rows}


def ledger(store: Store) -> list[int]:
    with store.engine.connect() as connection:
        return list(connection.execute(select(Ledger.table.c.position)).scalars())


def summary_version(store: Store) -> int | None:
    with store.engine.connect() as connection:
        version = connection.execute(
            select(subject_summary.c.version).where(subject_summary.c.stream == STREAM)
        ).scalar_one_or_none()
    return None if version is None else int(version)


def test_a_view_failing_mid_page_leaves_every_view_at_the_last_committed_page_and_a_restart_applies_the_rest_once(  # noqa: E501
    store: Store, person_in: PersonFactory
) -> None:
    record_all(store, person_in(store), course())
    positions = all_positions(store)
    subject = subject_positions(store)
    pages = [positions[i : i + PAGE] for i in range(0, len(positions), PAGE)]
    # A record of the subject past its tenth, in the middle of a page (neither end).
    failing_page, breaking = next(
        (page, p) for page in pages for p in page[1:-1] if p in subject[10:]
    )
    committed = positions[positions.index(failing_page[0]) - 1]
    fails = FailsAt(breaking)
    views = views_of(store, Ledger(), fails)

    with pytest.raises(RuntimeError, match="the view broke"):
        views.catch_up()

    assert set(tracked(store).values()) == {committed}
    assert ledger(store) == [p for p in subject if p <= committed]
    assert summary_version(store) == len([p for p in subject if p <= committed])

    fails.failing = False
    restarted = views_of(store, Ledger(), fails)  # as a new process would
    restarted.catch_up()

    assert sorted(ledger(store)) == subject  # every event once: the key refuses a second
    assert set(tracked(store).values()) == {positions[-1]}
    assert summary_version(store) == len(subject)
    assert restarted.digest() == views_of(store, Ledger()).rebuild()


def test_each_event_is_applied_once_when_two_processes_catch_up_one_after_the_other(
    store: Store, person_in: PersonFactory
) -> None:
    record_all(store, person_in(store), course()[:8])
    other = open_store(store.settings)
    try:
        first = views_of(other, Ledger()).catch_up()
        second = views_of(store, Ledger()).catch_up()
    finally:
        other.close()

    assert first == all_positions(store)[-1]
    assert second == 0
    assert sorted(ledger(store)) == subject_positions(store)


def test_a_view_added_later_is_built_from_the_start_while_the_others_skip_what_they_have(
    store: Store, person_in: PersonFactory
) -> None:
    record_all(store, person_in(store), course()[:10])
    store.views.catch_up()
    before = tracked(store)

    views_of(store, Ledger()).catch_up()

    assert sorted(ledger(store)) == subject_positions(store)
    assert {k: v for k, v in tracked(store).items() if k != "ledger"} == before
    with store.engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(subject_summary)).scalar()
    assert rows == 1


def test_reads_catch_up_first_so_a_new_record_shows_at_once(
    store: Store, person_in: PersonFactory
) -> None:
    person = person_in(store)
    record_all(store, person, course()[:9])
    assert store.views.subject_weekly(STREAM)["first_infusion"]["entry"] == 9  # type: ignore[index]

    record_all(store, person, course()[9:11])

    weeks = store.views.subject_weekly(STREAM)["weeks"]  # type: ignore[index]
    assert weeks[1]["blood_count"]["entry"] == 11
