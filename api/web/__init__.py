"""The pages: server-rendered HTML for the people in the loop (issue 19), a way in of its own.

The HTTP app's factory finds :func:`register` through the ``sealtrail.ways_in`` entry point and
never imports this package; this package never imports the API (:mod:`api.http`) or the console:
its pages call the same application services, on the store :mod:`api.store` gives every way in
that answers inside the Flask app. docs/pages.md says how a page is written.
"""

from __future__ import annotations

from flask import Flask

from api.routing import answer_unrouted_with
from api.web import (
    access_review,
    account,
    admin,
    administering,
    as_of,
    audit,
    audit_review,
    coded,
    database_lock,
    delegation,
    errors,
    headers,
    lock_steps,
    navigation,
    opening,
    packets,
    queries,
    query_forms,
    record_forms,
    sign,
    sign_in,
    source_verification,
    study,
    subjects,
    verify,
    wording,
)
from api.web.blueprint import web
from api.web.dates import install_date_filters
from api.web.sessions import install_sessions, protect_forms

__all__ = ["register"]

PAGE_MODULES = (
    sign_in,
    study,
    account,
    sign,
    audit,
    verify,
    subjects,
    as_of,
    queries,
    query_forms,
    record_forms,
    packets,
    admin,
    administering,
    opening,
    source_verification,
    lock_steps,
    delegation,
    access_review,
    database_lock,
    audit_review,
)
"""The modules whose views the blueprint holds (imported for their routes)."""

# The blueprint's own hooks, once (register may be called for several apps).
web.before_request(protect_forms)
errors.install(web)
headers.install(web)


def register(app: Flask) -> None:
    """Add the pages to ``app``: sessions, CSRF, language, dates, navigation, the blueprint."""
    install_sessions(app)
    wording.install(app)
    install_date_filters(app)
    coded.install(app)
    navigation.install(app)
    app.register_blueprint(web)
    answer_unrouted_with(app, errors.http_error)
