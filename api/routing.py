"""Which way in answers an address that no route takes (a 404, or a 405 for a method the
address does not take).

Flask answers such an error at the app, before any blueprint is chosen, so neither way in sees
it through its own handlers. The API owns :data:`API_ADDRESSES` and answers problem+json there,
as a program expects; every other address is a page's, and a person following a mistyped or
stale link expects a page. The pages register their answer here (:func:`answer_unrouted_with`);
the API asks :func:`unrouted_answer` before answering itself. Neither imports the other.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

API_ADDRESSES = ("/v1", "/docs", "/openapi.json")
"""The addresses the API answers for, each with everything below it, even where no route
takes them."""

EXTENSION = "sealtrail.unrouted"

UnroutedAnswer = Callable[[HTTPException], ResponseReturnValue]


def answer_unrouted_with(app: Flask, answer: UnroutedAnswer) -> None:
    """Let ``answer`` answer the routing errors of addresses outside the API's."""
    app.extensions[EXTENSION] = answer


def unrouted_answer(error: HTTPException) -> ResponseReturnValue | None:
    """The registered answer to ``error`` if it is a routing error of an address outside the
    API's and a way in registered one; None when the API answers it itself."""
    answer: UnroutedAnswer | None = current_app.extensions.get(EXTENSION)
    if answer is None or request.url_rule is not None:
        return None
    if any(request.path == api or request.path.startswith(api + "/") for api in API_ADDRESSES):
        return None
    return answer(error)
