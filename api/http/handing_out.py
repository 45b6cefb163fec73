"""Copies handed out over the API are recorded before they leave (ICH E6(R3) 4.2).

A view that hands out a copy of data (subject or personnel data, a report, a document, a
packet) says so with :func:`handing_out`; once Flask has rendered the answer, its exact bytes
are recorded in the person's disclosure log, and only then sent. A copy that cannot be
recorded is not sent: the error answers instead. An answer that is not a success (a refusal,
a problem) hands out nothing and records nothing.
tests/replay/test_recorded_reads.py holds every GET route to it.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from api.store import get_store
from domain.disclosure import Scope
from infrastructure.application.disclosures import API
from infrastructure.views.study_reports import served_study


def handing_out(what: str, scope: Scope) -> None:
    """Mark the answer to this request as a copy of ``scope`` to record as it leaves."""
    g.handing_out = (what, scope)


def handing_out_personnel_data(what: str) -> None:
    """Mark the answer as a copy of personnel data (accounts, their history, the logs kept of
    them): it names people of every site of the study the store serves."""
    handing_out(what, Scope(served_study(None)))


def register(app: Flask) -> None:
    """Record every successful answer a view marked as a copy, before it is sent."""

    @app.after_request
    def record_copy(response: Response) -> Response:
        marked = g.pop("handing_out", None)
        # Any success that carries a body is a copy (a 206 of a range would be part of one);
        # a HEAD sends none.
        if marked is not None and response.status_code // 100 == 2 and request.method != "HEAD":
            what, scope = marked
            get_store().disclosures.hand_out(
                g.account.user_id, what, scope, response.get_data(), API
            )
        return response
