"""The rate limit of the public endpoints (Flask-Limiter): the evidence anyone may read.

Checkpoints, proofs, the server's key and the witnesses' cosignatures need no account (they hold
no clinical data, and witnesses and auditors' scripts read them), so nothing but a limit per
client address keeps one client from keeping the server busy. The limit,
``SEALTRAIL_PUBLIC_RATE_LIMIT`` (default :data:`DEFAULT_PUBLIC_LIMIT`, in Flask-Limiter's
notation), is one budget shared by every public endpoint; past it the answer is 429
problem+json with ``Retry-After``.

Counts are kept where ``SEALTRAIL_RATE_LIMIT_STORAGE`` says (a Flask-Limiter storage URI;
default ``memory://``: each server process counts alone, so with N gunicorn workers a client
gets up to N times the budget). A deployment with several processes or hosts sets a shared
store (``redis://host:6379``, docs/deployment.md). Behind a reverse proxy the client address is
the proxy's unless the proxy's ``X-Forwarded-For`` is trusted (werkzeug's ProxyFix).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from infrastructure.errors import ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_PUBLIC_LIMIT = "1200 per minute"
"""Twenty a second, sustained: a witness makes three requests a round, an auditor's script
checking a day's inclusion proofs a few hundred."""
SCOPE = "public-evidence"

limiter = Limiter(get_remote_address, headers_enabled=True, strategy="fixed-window")


def public_limit() -> str:
    """The limit in force for this app (``PUBLIC_RATE_LIMIT``)."""
    return str(current_app.config["PUBLIC_RATE_LIMIT"])


def rate_limited(view: F) -> F:
    """Count ``view`` against the public endpoints' shared budget of the client's address."""
    return cast(F, limiter.shared_limit(public_limit, scope=SCOPE)(view))


def register(app: Flask) -> None:
    """Read the limit and the counters' store from the environment unless the app's config
    (a test's) sets them, and attach the limiter."""
    app.config.setdefault(
        "PUBLIC_RATE_LIMIT", os.environ.get("SEALTRAIL_PUBLIC_RATE_LIMIT") or DEFAULT_PUBLIC_LIMIT
    )
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", os.environ.get("SEALTRAIL_RATE_LIMIT_STORAGE") or "memory://"
    )
    try:
        parse_many(str(app.config["PUBLIC_RATE_LIMIT"]))
    except ValueError:
        raise ConfigurationError(
            "SEALTRAIL_PUBLIC_RATE_LIMIT is a rate limit such as '1200 per "
            "minute', not %(public_rate_limit)r",
            public_rate_limit=app.config["PUBLIC_RATE_LIMIT"],
        ) from None
    limiter.init_app(app)
