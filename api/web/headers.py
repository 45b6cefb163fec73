"""What the pages' answers say to the browser beyond the headers every answer of the app carries
(the app sets those, and sets nothing a page set first)."""

from __future__ import annotations

from flask import Blueprint, Response

PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
"""A page loads its own assets only: no other origin, no inline script or style (a page that
needs a script vendors it under ``static`` and names it by URL)."""

REFERRER_POLICY = "same-origin"
"""Flask-WTF refuses a form sent over TLS without a Referer of this origin (WTF_CSRF_SSL_STRICT),
so pages send their own origin one; another origin still receives none."""


def install(blueprint: Blueprint) -> None:
    """Set the pages' headers on every answer of the blueprint, error pages included."""

    @blueprint.after_request
    def page_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        return response
