"""Copies of data a page hands out are recorded before they leave (ICH E6(R3) 4.2), as the API's
are (``api/http/handing_out.py``): the exact bytes of the page, in the disclosure log of the
person it is shown to, on the channel ``web``. A copy that cannot be recorded is not shown: the
error answers instead.
"""

from __future__ import annotations

from flask import g, request

from api.store import get_store
from domain.disclosure import Scope
from infrastructure.application.disclosures import WEB


def handed_out(page: str, what: str, *scopes: Scope) -> str:
    """Record ``page`` (the rendered HTML, a copy of ``what``) as handed to the signed-in person,
    once for each scope it holds data of; the page, to answer with."""
    record_copy(page.encode("utf-8"), what, *scopes)
    return page


def record_copy(content: bytes, what: str, *scopes: Scope) -> None:
    """Record ``content`` (the exact bytes a page answers: its HTML, a CSV or a PDF it offers, a
    copy of ``what``) as handed to the signed-in person, once for each scope it holds data of.
    A ``HEAD`` request is sent no body, so nothing is handed out (as on the API)."""
    if request.method == "HEAD":
        return
    for scope in scopes:
        get_store().disclosures.hand_out(g.account.user_id, what, scope, content, WEB)
