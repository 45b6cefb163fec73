"""gunicorn's settings file: gunicorn reads it when started in this folder, as
docs/deployment.md section 4 starts it (``gunicorn --workers 4 ... 'wsgi:app'``).

Before any worker starts, it checks that the workers' connections fit under PostgreSQL's
``max_connections`` (``sealtrail serve`` makes the same check): one line and exit 2 otherwise.
Once a worker has built its app, it compiles its templates and sets up its garbage collector
(:mod:`api.warm_up`; ``sealtrail serve`` does the same).
"""

from __future__ import annotations

import sys
from typing import Any


def on_starting(server: Any) -> None:
    """Refuse to start workers the database cannot hold, or a store that cannot be reached."""
    from api.console.server import check_workers_fit
    from infrastructure.errors import ConfigurationError, StoreUnavailable
    from infrastructure.settings import Settings

    try:
        check_workers_fit(Settings.from_environ(), int(server.cfg.workers))
    except (ConfigurationError, StoreUnavailable) as error:
        sys.stderr.write(f"sealtrail: {error}\n")
        sys.exit(2)


def post_worker_init(worker: Any) -> None:
    """Once the worker has built its app: compile its templates, then freeze it out of the
    garbage collector's walks and collect the young generation less often
    (:mod:`api.warm_up`)."""
    from api.warm_up import ready_worker

    ready_worker(worker.wsgi)
