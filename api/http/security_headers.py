"""The security headers every answer carries, set once here for the whole app.

Stored free text is shown verbatim (it is signed), answers hold clinical data and bearer
tokens, and the only pages are the API's own docs: so no browser may guess a media type, frame
a page, leak a URL in a Referer, or keep an answer in a cache.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request

JSON_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""For every answer that is not a page: it loads nothing and is framed by nothing."""

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
"""For a page (``/docs``): its own assets only (no CDN, nothing from another origin), inline
scripts only by the hash of the exact script the page holds; styles may be inline because
Swagger UI sets them."""

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)

CACHEABLE_PREFIXES = ("/docs/assets/",)
"""Answers a cache may keep: the docs' static assets. Everything else (tokens, clinical data,
accounts, proofs) is ``no-store``."""


def script_hashes(page: bytes) -> str:
    """The CSP source list allowing exactly the inline scripts of ``page`` (CSP Level 2)."""
    return "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )


def register(app: Flask) -> None:
    """Set the headers on every answer the app gives, errors included."""

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if response.mimetype == "text/html" and not response.direct_passthrough:
            policy = PAGE_POLICY.format(scripts=script_hashes(response.get_data()))
        else:
            policy = JSON_POLICY
        headers.setdefault("Content-Security-Policy", policy)
        if not request.path.startswith(CACHEABLE_PREFIXES):
            # A token, a subject's record or an account must never stay in a browser's or a
            # proxy's cache (RFC 9111 section 5.2.2.5).
            headers["Cache-Control"] = "no-store"
            headers.setdefault("Pragma", "no-cache")
        return response
