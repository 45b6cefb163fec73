"""``sealtrail project`` and ``sealtrail rebuild``: keep the views (projections) up to date with
the log, or drop them and rebuild them from it.

``sealtrail project`` catches every view up once and exits; ``--follow`` keeps following the
log (eventsourcing's LISTEN/NOTIFY subscription on PostgreSQL, polling on SQLite) until SIGINT
or SIGTERM, after which it finishes the page in hand and exits 0. The web process needs no
follower (its reads catch up first); a follower keeps reads fast on a busy store.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import click

from api.console.command import one_line_errors, store_command
from api.console.progress import progress
from infrastructure.bootstrap import Store
from infrastructure.views.projection_runner import subscriber
from infrastructure.views.tables import ProjectedViews


@contextmanager
def progress_of(views: ProjectedViews, label: str) -> Iterator[Callable[[int], None]]:
    """Catching up, reported on stderr (api.console.progress): log positions applied so far."""
    with progress(label, max(views.behind(), 1)) as shown:
        yield shown.advance


@click.command()
@click.option("--follow", is_flag=True, help="Keep following the log until SIGINT/SIGTERM.")
@click.option(
    "--poll-interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.05, 3600),
    help="Seconds between polls of the log (SQLite); on PostgreSQL new events wake the "
    "follower at once and this only bounds a missed wake-up.",
)
@one_line_errors
@store_command
def project(store: Store, follow: bool, poll_interval: float) -> None:
    """Bring every view up to date with the log; with --follow, keep it there."""
    views = store.views
    restore = _stop_on_signals(views)  # before any work, so a signal is never a traceback
    try:
        with progress_of(views, "project") as shown:
            passed = views.catch_up(progress=shown, should_stop=views.stopped)
        if not follow:
            click.echo(f"views up to date: {passed} log positions applied")
            return
        if sys.stderr.isatty():
            click.echo("following the log (Ctrl-C to stop)", err=True)
        views.follow(subscriber(store.app.recorder, poll_interval), poll_interval=poll_interval)
    finally:
        restore()


@click.command()
@one_line_errors
@store_command
def rebuild(store: Store) -> None:
    """Drop the projections, rebuild them from the log and print their digest."""
    store.views.runner.clear()  # first, so that the progress bar knows the whole length
    with progress_of(store.views, "rebuild") as shown:
        digest = store.views.rebuild(progress=shown)
    click.echo(digest)


def _stop_on_signals(views: ProjectedViews) -> Callable[[], None]:
    """Make SIGINT and SIGTERM stop the follower cleanly; returns how to put them back."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        views.stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
