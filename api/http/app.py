"""The HTTP API: a Flask app factory, one blueprint per resource, errors mapped once."""

from __future__ import annotations

import http
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

import flask_smorest
import swagger_ui_bundle
from flask import Flask, Response, request, send_from_directory
from flask.typing import ResponseReturnValue
from flask_smorest.utils import prepare_response
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType

from api import rate_limits
from api.http import (
    accounts,
    dashboard,
    disclosures,
    events,
    handing_out,
    packets,
    problems,
    proofs,
    security_headers,
    signatures,
    sites,
    source_verification,
    study,
    subjects,
    tokens,
)
from api.http.json_text import HtmlSafeJSONProvider
from api.routing import unrouted_answer
from api.store import EXTENSION

DOCS_ASSETS = "/docs/assets/"
MAX_BODY = 256 * 1024
"""The largest request body, but for the endpoints in :data:`LARGER_BODIES`."""
LARGER_BODIES = {"signatures.Signatures": signatures.MAX_BODY}
"""Endpoints whose bodies may be larger, by endpoint: a casebook signature names every record."""
WAYS_IN = "sealtrail.ways_in"
"""The entry-point group of the other ways in that answer inside this app (the pages, api.web):
each names a function given the app, which registers its own blueprint; this factory never
imports them (issue 17, point 4), as Flask finds the console's commands through "flask.commands"."""


class Api(flask_smorest.Api):  # type: ignore[misc]
    """flask-smorest's Api answering errors as problem+json."""

    ERROR_SCHEMA = problems.ProblemSchema

    def handle_http_exception(self, error: HTTPException) -> ResponseReturnValue:
        # An address no route takes, outside the API's, is a page's to answer (api.routing).
        elsewhere = unrouted_answer(error)
        if elsewhere is not None:
            return elsewhere
        return problems.from_http_exception(error)

    def _register_responses(self) -> None:
        # flask-smorest documents its shared error responses as application/json; ours are
        # application/problem+json, and a client (or schemathesis) holds us to the document.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            media_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if status >= 400:
                response["schema"], media_type = self.ERROR_SCHEMA, problems.PROBLEM_MEDIA_TYPE
            prepare_response(response, self.spec, media_type)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, problems.PROBLEM_MEDIA_TYPE)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. The store opens on the first request that needs it."""
    app = Flask(__name__)
    app.json = HtmlSafeJSONProvider(app)
    app.config.from_mapping(
        API_TITLE="sealtrail",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        MAX_CONTENT_LENGTH=MAX_BODY,
        TOKEN_LIFETIME_SECONDS=900,
        SEALTRAIL_SETTINGS=None,
    )
    if test_config is not None:
        app.config.update(test_config)

    api = Api(app)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "POST /v1/auth/token"}
    )
    for blueprint in (
        tokens.blp,
        events.blp,
        signatures.blp,
        proofs.events_blp,
        proofs.checkpoints_blp,
        subjects.blp,
        study.blp,
        dashboard.blp,
        source_verification.blp,
        accounts.blp,
        packets.blp,
        sites.blp,
        disclosures.blp,
    ):
        api.register_blueprint(blueprint)
    problems.register(app)
    rate_limits.register(app)
    handing_out.register(app)
    other_ways_in = register_other_ways_in(app)

    @app.before_request
    def require_json_body() -> None:
        if request.method not in ("POST", "PUT", "PATCH"):
            return
        if request.blueprint in other_ways_in:
            return  # a page's form is form-encoded; its way in checks its own requests
        if request.url_rule is None:
            return  # no route: the routing error answers (404, or 405), not the body's type
        if not request.is_json:
            raise UnsupportedMediaType("send the body as application/json")
        larger = LARGER_BODIES.get(request.endpoint or "")
        if larger is not None:
            request.max_content_length = larger
        # Parse once, here, so that no body is a 500: Flask's parser answers 400 for every
        # ValueError (webargs lets a 5,000-digit integer escape), and nesting too deep for the
        # parser is refused the same way. Views reuse the cached result.
        try:
            request.get_json()
        except BadRequest:
            raise BadRequest("the request body is not valid JSON") from None
        except RecursionError:
            raise BadRequest("the request body is nested too deeply") from None

    security_headers.register(app)

    @app.get(DOCS_ASSETS + "<path:filename>")
    def docs_assets(filename: str) -> Response:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    app.extensions.setdefault(EXTENSION, None)
    return app


def register_other_ways_in(app: Flask) -> set[str]:
    """Let each way in of the ``sealtrail.ways_in`` group register itself on ``app``; the names
    of the blueprints they added (their requests are theirs to check, not the API's)."""
    before = set(app.blueprints)
    for way_in in entry_points(group=WAYS_IN):
        way_in.load()(app)
    return set(app.blueprints) - before
