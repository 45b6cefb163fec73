"""``/audit/review``: an auditor's or a sponsor data manager's review of the audit trail, as
``sealtrail report audit-review --conclusion`` records it: the findings of a period (and a site,
or every site) a reviewer must look at, and the reviewer's ``AuditTrailReviewed`` on their own
account (the period, how many findings and their SHA-256, the conclusion), signed **in the
browser** with their own key and recorded by the same service as ``POST /v1/accounts``. The
page is a copy of the review's report, recorded in the disclosure log (``audit-trail review
report``) before it is sent, as the console's is.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, g, render_template, request, url_for
from werkzeug.wrappers import Response

from api.schemas.fields import is_code
from api.store import get_store
from api.web.account_forms import AuditReviewConclusionForm
from api.web.administering import AccountChangePage, signed_account_change
from api.web.blueprint import web
from api.web.handing_out import handed_out
from api.web.sessions import page_for
from api.web.wording import gettext as _
from api.web.wording import worded
from domain.account import Account
from domain.actions import Action
from domain.audit_review import review_fields
from domain.disclosure import AUDIT_REVIEW, Scope
from domain.errors import AuditReviewInvalid, NotPermitted
from domain.permissions import check_may, check_role_may
from domain.wire import to_wire
from infrastructure.views.study_reports import audit_review as review_of
from projections.audit_review import AuditReview


def _day(name: str) -> date | None:
    """A day of the query (``from``, ``to``), or None when absent; 400 when not a day."""
    text = request.args.get(name) or None
    if text is None:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else abort(400)
    except ValueError:
        abort(400, description=_("A day is written YYYY-MM-DD."))


TITLE = "Record your review of the audit trail"
BUTTON = "Sign the review"


def reviews_audit_trail(account: Account) -> bool:
    """Whether ``account``'s role reviews the audit trail (the link on ``/audit``)."""
    try:
        check_role_may(account, Action.REVIEW_AUDIT_TRAIL)
    except NotPermitted:
        return False
    return True


def review_page(review: AuditReview) -> AccountChangePage:
    """The reviewer's signed review of exactly ``review``'s findings."""
    fields = review_fields(
        study=review.study, site=review.site, reviewed_from=review.period.first,
        reviewed_to=review.period.last, findings=len(review.findings),
        findings_sha256=review.findings_sha256,
    )  # fmt: skip
    return AccountChangePage(
        "AuditTrailReviewed",
        TITLE,
        BUTTON,
        lambda _account, **kwargs: AuditReviewConclusionForm(**kwargs),
        lambda _account, _reviewer: to_wire(fields),
        lambda _account: True,
    )


@web.route("/audit/review", methods=["GET", "POST"])
@page_for(Action.REVIEW_AUDIT_TRAIL)
def audit_review() -> Response | str:
    """The findings of the period and site asked; the reviewer's signed review of them."""
    check_may(g.account, Action.REVIEW_AUDIT_TRAIL)
    site = request.args.get("site") or None
    if site is not None and not is_code(site):
        abort(404, description=_("There is no such site."))
    first = _day("from")
    try:
        review = review_of(get_store().reads, None, first, _day("to"), site)
    except AuditReviewInvalid as refused:
        if first is not None:
            raise
        # The period that begins the day after the latest review is empty: reviewed already.
        return render_template("audit_review.html", title=TITLE, reviewed=worded(refused))

    def shown(_step: str, **context: Any) -> str:
        page = render_template("audit_review.html", title=TITLE, review=review, **context)
        return handed_out(page, AUDIT_REVIEW, Scope(review.study, site=review.site))

    done = url_for("web.audit_review", site=site)
    return signed_account_change(g.account, review_page(review), done=done, shown=shown)
