"""``sealtrail serve``: gunicorn, embedded, serving ``wsgi:app``."""

from __future__ import annotations

from typing import Any

import click
import psycopg
from gunicorn.app.base import BaseApplication
from gunicorn.util import import_app

from api.console.command import one_line_errors
from api.warm_up import ready_worker
from infrastructure.bootstrap import open_store
from infrastructure.errors import ConfigurationError, StoreUnavailable
from infrastructure.settings import Settings
from infrastructure.store.postgres_pool import POOL_OVERFLOW, POOL_SIZE, beyond_max_connections

WSGI_APP = "wsgi:app"
MAX_THREADS = POOL_SIZE + POOL_OVERFLOW
"""A worker's threads share its two pools, of this many connections each, and a request holds
a connection of a pool for each statement or transaction it runs: more threads than that would
queue for connections (and time out after the pool's wait) under load."""


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        # Named, not imported: each worker builds its own app (and its own connections), and
        # the console never imports the HTTP API.
        return import_app(WSGI_APP)


def check_workers_fit(settings: Settings, workers: int) -> None:
    """Refuse to start more workers than PostgreSQL's ``max_connections`` can hold.

    Raises:
        ConfigurationError: they do not fit.
        StoreUnavailable: the server cannot be asked.
    """
    if settings.is_sqlite:
        return
    url = settings.database_url
    try:
        problem = beyond_max_connections(
            workers,
            host=url.host or "127.0.0.1",
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or None,
            dbname=url.database or "postgres",
        )
    except psycopg.Error as error:
        safe = url.render_as_string(hide_password=True)
        raise StoreUnavailable(
            "cannot open the store at %(safe)s: %(join)s",
            safe=safe,
            join=" ".join(str(error).split()),
        ) from None
    if problem is not None:
        raise ConfigurationError(problem)


def _ready_worker(worker: Any) -> None:
    # In each worker once it has loaded its app, as gunicorn.conf.py does for `gunicorn 'wsgi:app'`.
    ready_worker(worker.wsgi)


def gunicorn_options(
    host: str, port: int, workers: int, *, threads: int = 1, log_level: str = "info"
) -> dict[str, Any]:
    """gunicorn's settings for ``sealtrail serve``: those of docs/deployment.md section 4
    (``threads`` above 1: gunicorn's gthread worker, whose threads' concurrent writes share
    commits, :mod:`infrastructure.store.write_groups`)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "loglevel": log_level,
        "accesslog": "-",
        "timeout": 60,
        "graceful_timeout": 10,
        "post_worker_init": _ready_worker,
    }


def run_gunicorn(
    host: str, port: int, workers: int, *, threads: int = 1, log_level: str = "info"
) -> None:
    """Run gunicorn in the foreground until interrupted."""
    _Gunicorn(gunicorn_options(host, port, workers, threads=threads, log_level=log_level)).run()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=click.IntRange(1, MAX_THREADS),
    help="Threads per worker (above 1: writes arriving together share one commit).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="gunicorn's log on stderr (warning: no start-up lines; the access log is on stdout).",
)
@one_line_errors
def serve(host: str, port: int, workers: int, threads: int, log_level: str) -> None:
    """Serve the API with gunicorn (a production WSGI server)."""
    settings = Settings.from_environ()
    check_workers_fit(settings, workers)  # workers x connections under max_connections
    open_store(settings).close()  # fail here, in one line, rather than in every worker
    run_gunicorn(host, port, workers, threads=threads, log_level=log_level)
