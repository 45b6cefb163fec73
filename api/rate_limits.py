"""The rate limit of the public endpoints (Flask-Limiter): the evidence anyone may read.

Checkpoints, proofs, the server's key and the witnesses' cosignatures need no account (they hold
no clinical data, and witnesses and auditors' scripts read them), so nothing but a limit per
client address keeps one client from keeping the server busy. The limit,
``SEALTRAIL_PUBLIC_RATE_LIMIT`` (default :data:`DEFAULT_PUBLIC_LIMIT`, in Flask-Limiter's
notation), is one budget shared by every public endpoint; past it the answer is 429
problem+json with ``Retry-After``.

Signing in (``POST /v1/auth/token`` and the ``/login`` form) has a budget of its own per client
address, ``SEALTRAIL_SIGN_IN_RATE_LIMIT`` (default :data:`DEFAULT_SIGN_IN_LIMIT`), counting
**failed** attempts only: lockout stops guessing one account's password, and this stops one
address guessing a few common passwords across every account (password spraying), which lockout
never sees; people behind one hospital's address who type their password right are never
counted. Past it the API answers 429 problem+json and the page 429 with the form, the user id
kept, both with ``Retry-After``.

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

from flask import Flask, Response, current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from infrastructure.errors import ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_PUBLIC_LIMIT = "1200 per minute"
"""Twenty a second, sustained: a witness makes three requests a round, an auditor's script
checking a day's inclusion proofs a few hundred."""
SCOPE = "public-evidence"
DEFAULT_SIGN_IN_LIMIT = "10 per minute;100 per hour"
"""Failed sign-ins from one address: a person who mistypes tries again a few times; a site's
staff behind one address seldom fail a hundred times an hour; a spraying client is slowed to
a hundred guesses an hour across all accounts (each account also locks after its own failures,
``SEALTRAIL_LOCKOUT_AFTER``)."""
SIGN_IN_SCOPE = "sign-in"
TOO_MANY_SIGN_INS = (
    "Too many failed sign-ins from this address (SEALTRAIL_SIGN_IN_RATE_LIMIT): try again later"
)
SIGN_IN_FAILED = "sign_in_failed"
"""Set on ``g`` by a sign-in page that answered a failed attempt with its form again (200)."""

limiter = Limiter(get_remote_address, headers_enabled=True, strategy="fixed-window")


def public_limit() -> str:
    """The limit in force for this app (``PUBLIC_RATE_LIMIT``)."""
    return str(current_app.config["PUBLIC_RATE_LIMIT"])


def rate_limited(view: F) -> F:
    """Count ``view`` against the public endpoints' shared budget of the client's address."""
    return cast(F, limiter.shared_limit(public_limit, scope=SCOPE)(view))


def sign_in_limit() -> str:
    """The failed sign-ins allowed per address for this app (``SIGN_IN_RATE_LIMIT``)."""
    return str(current_app.config["SIGN_IN_RATE_LIMIT"])


def failed_sign_in(response: Response) -> bool:
    """Whether this answer refused a sign-in: 401 from the API, or the page's form again."""
    return response.status_code == 401 or bool(g.get(SIGN_IN_FAILED, False))


def sign_in_limited(view: F) -> F:
    """Count the failed sign-ins of ``view`` (its POSTs) against the address's budget, shared by
    the API's token endpoint and the sign-in page."""
    return cast(
        F,
        limiter.shared_limit(
            sign_in_limit,
            scope=SIGN_IN_SCOPE,
            methods=["POST"],
            deduct_when=failed_sign_in,
            error_message=TOO_MANY_SIGN_INS,
        )(view),
    )


def register(app: Flask) -> None:
    """Read the limits and the counters' store from the environment unless the app's config
    (a test's) sets them, and attach the limiter.

    Raises:
        ConfigurationError: a limit that is not one in Flask-Limiter's notation.
    """
    for key, default in (
        ("PUBLIC_RATE_LIMIT", DEFAULT_PUBLIC_LIMIT),
        ("SIGN_IN_RATE_LIMIT", DEFAULT_SIGN_IN_LIMIT),
    ):
        app.config.setdefault(key, os.environ.get(f"SEALTRAIL_{key}") or default)
        try:
            parse_many(str(app.config[key]))
        except ValueError:
            raise ConfigurationError(
                "SEALTRAIL_%(key)s is a rate limit such as %(default)r, not %(limit)r",
                key=key,
                default=default,
                limit=app.config[key],
            ) from None
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", os.environ.get("SEALTRAIL_RATE_LIMIT_STORAGE") or "memory://"
    )
    limiter.init_app(app)
