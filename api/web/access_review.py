"""``/access-review``: the periodic review of who has which access, as ``sealtrail user review``
records it: every account in the review's scope as it stands now (its role and its end, its
sites, its keys valid now), and the reviewer's signed ``AccessReviewed`` on their own account,
naming each of them as seen and the changes decided.

An administrator reviews every site (or one, ``?site=``), an investigator their own site (the
first of theirs, or ``?site=``), as :func:`domain.permissions.check_may_review_access` says. The
changes decided are given first, one a line; the server then offers the body with the accounts
as they stand, which the reviewer signs **in the browser** with their own key, recorded by the
same service as ``POST /v1/accounts`` (:meth:`Administration.administer`), which refuses a
review whose accounts changed since it was offered (``AccessReviewStale``). Each page is a copy
of the accounts it shows, recorded in the person's disclosure log (``accounts``) before it is
sent, as ``/admin`` is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, g, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from api.schemas.fields import is_code
from api.store import get_store
from api.web.account_forms import AccessChangesForm, NothingTypedForm
from api.web.administering import AccountChangePage, Preparation, signed_account_change
from api.web.blueprint import web
from api.web.handing_out import handed_out
from api.web.navigation import in_navigation
from api.web.sessions import page_for
from api.web.wording import gettext as _
from domain.access_review import access_as_seen
from domain.actions import Action
from domain.disclosure import ACCOUNTS, Scope
from domain.permissions import check_may
from domain.wire import to_wire
from infrastructure.views.study_reports import served_study
from projections.access_review import in_review_scope


def accounts_seen(site: str | None) -> list[dict[str, Any]]:
    """Every account a review of ``site`` (None: every site) covers, as it stands now, in the
    form the review signs."""
    now = datetime.now(UTC)
    return [
        to_wire(access_as_seen(account, now))
        for account in get_store().reads.accounts()
        if in_review_scope(account, site)
    ]


def _changes_decided(form: FlaskForm) -> dict[str, Any] | None:
    """The changes typed, one a line (blank lines left out); None, the reason on the field,
    when the text is too long."""
    if not form.validate():
        return None
    lines = (form.changes.data or "").splitlines()
    return {"changes": [line.strip() for line in lines if line.strip()]}


def review_page(site: str | None, seen: list[dict[str, Any]]) -> AccountChangePage:
    """The review of ``site``'s accounts (every site's for None) as ``seen``, on the reviewer's
    own account."""
    scope = {} if site is None else {"site": site}
    return AccountChangePage(
        "AccessReviewed",
        "Review who has which access",
        "Sign the review",
        lambda _account, **kwargs: NothingTypedForm(**kwargs),
        lambda _account, _reviewer: {"accounts": seen, **scope},
        lambda _account: True,
        Preparation(lambda _account: AccessChangesForm(), _changes_decided),
    )


def _site_reviewed() -> str | None:
    """The site asked (``?site=``), or else the person's first site; None (every site) for one
    who acts for none, as an administrator does."""
    site = request.args.get("site")
    if site is not None:
        if not is_code(site):
            abort(404, description=_("There is no such site."))
        return site
    return min(g.account.sites, default=None)


@web.route("/access-review", methods=["GET", "POST"])
@page_for(Action.REVIEW_ACCESS)
def access_review() -> Response | str:
    """The accounts of the review's scope as they stand; the reviewer's signed review."""
    site = _site_reviewed()
    check_may(g.account, Action.REVIEW_ACCESS, site)
    seen = accounts_seen(site)
    study = served_study(None)

    def shown(step: str, **context: Any) -> str:
        page = render_template(f"access_review/{step}.html", site=site, seen=seen, **context)
        return handed_out(page, ACCOUNTS, Scope(study) if site is None else Scope(study, site=site))

    done = url_for("web.access_review", site=site)
    return signed_account_change(g.account, review_page(site, seen), done=done, shown=shown)


in_navigation("web.access_review", "Access review", Action.REVIEW_ACCESS)
