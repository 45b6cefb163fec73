"""``/study``: where the study stands, for the sites the signed-in person reads.

The page is a copy of clinical data handed out: it is recorded in the person's disclosure log
(channel ``web``) before it is sent, as the API records its dashboard.
"""

from __future__ import annotations

from flask import g, render_template

from api.store import get_store
from api.web.blueprint import web
from api.web.handing_out import handed_out
from api.web.navigation import in_navigation
from api.web.sessions import page_for
from api.web.standing import study_standing
from domain.account import Account
from domain.actions import Action
from domain.disclosure import DASHBOARD
from domain.errors import NotPermitted
from domain.permissions import check_role_may
from infrastructure.views.study_reports import served_study


@web.get("/study")
@page_for(Action.READ_CLINICAL_DATA)
def study() -> str:
    """Enrolment, infusions, SAE clocks, queries, source data verification, locks and the
    log's verification, of every site or the person's own."""
    standing = study_standing(get_store(), g.account, served_study(None))
    locks = may_do(g.account, Action.FREEZE_AND_LOCK)
    shown = render_template("study.html", standing=standing, locks_database=locks)
    return handed_out(shown, DASHBOARD, *standing.scopes)


def may_do(account: Account, action: Action) -> bool:
    """Whether ``account``'s role in force does ``action`` (at every site: the study's)."""
    try:
        check_role_may(account, action)
    except NotPermitted:
        return False
    return True


in_navigation("web.study", "Study", Action.READ_CLINICAL_DATA)
