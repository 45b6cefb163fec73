"""``/admin/accounts/<user_id>/<change>``: an administrator changes an account from the pages, as
``sealtrail user ...`` does at the console: locks or unlocks it, attests training, grants a role
or ends it.

Each change is an account event signed **in the administrator's browser** with their own key
(docs/pages.md, "Signing in the browser") and recorded by the same service as
``POST /v1/accounts`` (:meth:`Administration.administer`), whose checks decide what may be
recorded: an administrator in force, signing as themselves, never granting themselves, the
account's own rules (a lock of a locked account, a role already held...). As over the API, the
signature is of authorship and asks no password again. A refusal shows the form again with the
error summary, what was typed kept, and nothing recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.account_lines import account_line
from api.web.blueprint import web
from api.web.forms import AccountReasonForm, AttestTrainingForm, GrantRoleForm, SignedBodyForm
from api.web.handing_out import handed_out
from api.web.sessions import page_for
from api.web.signing import authorship_offer, record_account_change
from api.web.wording import gettext as _
from domain.account import STAFF_ROLES, Account
from domain.actions import Action
from domain.disclosure import ACCOUNTS, Scope
from domain.permissions import KEY_CUSTODY_ACCOUNTS
from infrastructure.application.bodies import body_to_sign
from infrastructure.views.study_reports import served_study

ROLES = [role.value for role in STAFF_ROLES]
"""The roles an administrator may grant or attest training for."""


@dataclass(frozen=True)
class AccountChangePage:
    """One change an administrator makes on the pages: the account event it signs, what the
    page and its button say, its form, the data the server puts in the body (the person types
    the rest), and whether it applies to the account as it stands (the links of ``/admin``)."""

    kind: str
    title: str
    button: str
    form: Callable[..., SignedBodyForm]
    fixed: Callable[[Account], dict[str, Any]]
    applies: Callable[[Account], bool]


CHANGES: dict[str, AccountChangePage] = {
    "lock": AccountChangePage(
        "AccountLocked",
        "Lock an account",
        "Sign and lock the account",
        AccountReasonForm,
        # A lock decided by an administrator, not a lockout after failed attempts.
        lambda _account: {"failed_attempts": 0},
        lambda account: not account.locked,
    ),
    "unlock": AccountChangePage(
        "AccountUnlocked",
        "Unlock an account",
        "Sign and unlock the account",
        AccountReasonForm,
        lambda _account: {},
        lambda account: account.locked,
    ),
    "train": AccountChangePage(
        "TrainingAttested",
        "Attest training",
        "Sign and attest the training",
        lambda **kwargs: AttestTrainingForm(roles=ROLES, **kwargs),
        lambda _account: {},
        lambda _account: True,
    ),
    "grant": AccountChangePage(
        "RoleGranted",
        "Grant a role",
        "Sign and grant the role",
        lambda **kwargs: GrantRoleForm(roles=ROLES, **kwargs),
        lambda _account: {},
        lambda account: account.role is None,
    ),
    "end-role": AccountChangePage(
        "RoleRevoked",
        "End a role",
        "Sign and end the role",
        AccountReasonForm,
        lambda account: {"role": account.role.value if account.role else None},
        lambda account: account.role is not None,
    ),
}
"""The changes the pages make, by the last part of their URL."""


def changes_for(account: Account) -> list[tuple[str, str]]:
    """The changes that apply to ``account`` as it stands: (URL part, English name); none for
    the accounts whose keys sign for the store and the sponsor, which are no person's."""
    if account.user_id in KEY_CUSTODY_ACCOUNTS:
        return []
    return [(slug, page.title) for slug, page in CHANGES.items() if page.applies(account)]


@web.route("/admin/accounts/<user_id>/<change>", methods=["GET", "POST"])
@page_for(Action.ADMINISTER_ACCOUNTS)
def change_account(user_id: str, change: str) -> Response | str:
    """The form of ``change`` of ``user_id``'s account; its signed event."""
    page = CHANGES.get(change)
    if page is None:
        abort(404, description=_("There is no such change of an account."))
    account = get_store().app.account(user_id)
    if not changes_for(account) or not page.applies(account):
        abort(409, description=_("This change does not apply to the account as it stands."))
    if request.method == "GET":
        form = page.form(formdata=None)
    else:
        form = page.form()
        receipt = record_account_change(form, g.account, page.kind, user_id)
        if receipt is not None:
            flash(
                _(
                    "%(kind)s of %(user_id)s recorded at log position %(position)s.",
                    kind=page.kind,
                    user_id=user_id,
                    position=receipt["position"],
                ),
                "done",
            )
            return redirect(url_for("web.admin", _anchor=f"account-{user_id}"))
    body = body_to_sign(
        {"account": user_id},
        version=account.version + 1,
        kind=page.kind,
        data=page.fixed(account),
        signer=(g.account.user_id, g.account.printed_name),
    )
    shown = render_template(
        "admin/change.html",
        line=account_line(account, datetime.now(UTC)),
        page=page,
        form=form,
        offer=authorship_offer(g.account, body),
    )
    return handed_out(shown, ACCOUNTS, Scope(served_study(None)))
