"""Errors as RFC 9457 problem details, mapped in this one place.

Every domain and verification error is a typed exception; :mod:`api.statuses` says which HTTP
status each family is (for the pages too), and this module renders ``application/problem+json``
with ``type``, ``title``, ``status``, ``detail`` and, for validation errors, a field-by-field
``errors`` object.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import Flask, Response, current_app, json
from werkzeug.exceptions import HTTPException

from api.statuses import STATUS_OF
from api.store import EXTENSION
from infrastructure.settings import Settings
from infrastructure.store.outage import STORE_OUTAGES, outage_cause
from signatures.errors import VerificationError

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation of the error payload)."""

    type = ma.fields.String(metadata={"description": "URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "Short summary of the kind of problem"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong this time"})
    errors = ma.fields.Dict(metadata={"description": "Field-by-field validation errors"})


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    errors: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response."""
    payload: dict[str, Any] = {
        "type": f"urn:sealtrail:problem:{slug or _slug(title)}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        payload["errors"] = errors
    response = Response(json.dumps(payload), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_exception(error: Exception) -> Response:
    """The problem response for a typed error of the domain, signatures or store."""
    for family, status in STATUS_OF:
        if isinstance(error, family):
            title = getattr(error, "title", None) or _title(type(error).__name__)
            slug = getattr(error, "kind", None) if isinstance(error, VerificationError) else None
            headers = {"WWW-Authenticate": 'Bearer realm="sealtrail"'} if status == 401 else None
            if status >= 500:
                current_app.logger.error("%s: %s", title, error)
            return problem(status, title, str(error), slug=slug, headers=headers)
    raise error


def from_outage(error: Exception) -> Response:
    """The database could not be reached or used: 503 at once, and the cause on the console."""
    store = current_app.extensions.get(EXTENSION)
    settings = (
        store.settings
        if store is not None
        else current_app.config.get("SEALTRAIL_SETTINGS") or Settings.from_environ()
    )
    current_app.logger.error("Store unavailable: %s", outage_cause(error, settings))
    return problem(
        503,
        "Store unavailable",
        "the store's database cannot be reached now; try again in a few seconds",
        headers={"Retry-After": "2"},
    )


def from_http_exception(error: HTTPException) -> Response:
    """Werkzeug's and webargs's HTTP errors (404 route, 413, 415, 422 schema...) as problems."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if status == 422 and errors is not None:
        errors = _unwrap_location(errors)
        detail = "the request is well-formed but some fields are invalid"
    elif status == 400 and errors is not None:
        errors = _unwrap_location(errors)
        detail = "the request body is not valid JSON"
    else:
        detail = data.get("message") or error.description or error.name
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="sealtrail"')
    if status >= 500:
        current_app.logger.error("server error: %s", error)
    return problem(status, error.name, str(detail), errors=errors, headers=headers)


def register(app: Flask) -> None:
    """Install the handlers on the app (flask-smorest's HTTP handler is replaced in Api)."""
    for family, _status in STATUS_OF:
        app.register_error_handler(family, from_exception)
    for outage in STORE_OUTAGES:
        app.register_error_handler(outage, from_outage)


def _unwrap_location(errors: Any) -> Any:
    # webargs nests errors under the request location ("json", "headers"); callers want fields.
    if isinstance(errors, dict) and set(errors) <= {"json", "headers", "query", "path"}:
        merged: dict[str, Any] = {}
        for value in errors.values():
            if isinstance(value, dict):
                merged.update(value)
            else:
                merged.setdefault("_schema", value)
        return merged
    return errors


def _title(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r" \1", name).capitalize()


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
