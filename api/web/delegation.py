"""``/delegation``: the delegation of authority log of the investigator's sites (who is delegated
which tasks, from when to when, by whom, ended when and why), and, for the site's principal
investigator, the delegation of a task and its end, as ``sealtrail delegation delegate`` and
``end`` make them at the console. An administrator reads every site's log there and
designates each site's principal investigator (``sealtrail delegation delegate --task
principal_investigator``), or ends any delegation.

Each delegation, designation or end is a signed event on the delegate's account, signed **in
the signer's browser** with their own key (docs/pages.md, "Signing in the browser") and
recorded by the same service as ``POST /v1/accounts`` (:meth:`Administration.administer`),
whose checks decide who may sign it: the site's principal investigator in force, never for
themselves, never the designation of a principal investigator (an administrator's, and the
administrator's alone). A refusal shows the form again, nothing recorded.

The log names the site's staff: each page is recorded in the person's disclosure log
(``delegation log``, the site's scope) before it is sent, as the log's CSV and PDF are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import abort, g, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.account_forms import AccountReasonForm, DelegationPeriodForm, DelegationTasksForm
from api.web.administering import AccountChangePage, Preparation, signed_account_change
from api.web.blueprint import web
from api.web.handing_out import handed_out
from api.web.navigation import in_navigation
from api.web.sessions import page_for, role_may
from api.web.wording import gettext as _
from domain.account import Account, Role
from domain.actions import Action
from domain.delegation import DESIGNATION, Task
from domain.disclosure import DELEGATION_LOG, Scope
from domain.permissions import check_may
from infrastructure.views.study_reports import served_study
from projections.delegation_log import delegation_log

DELEGATED = [(task.value, task.title) for task in Task if task not in DESIGNATION]
"""The tasks a principal investigator delegates (the designation is an administrator's)."""
TASK_TITLES = [task.title for task in Task]
"""How the log names each task (the pages translate them)."""


def _site_only(site: str) -> Callable[[Account, Account], dict[str, Any]]:
    return lambda _account, _investigator: {"site": site}


def _tasks_chosen(form: FlaskForm) -> dict[str, Any] | None:
    """The tasks chosen, in the vocabulary's order; None, the reason on the field, when none
    or one that is not delegated here."""
    chosen = form.tasks.data or []
    codes = [code for code, _title in DELEGATED]
    if not chosen or any(code not in codes for code in chosen):
        form.tasks.errors = [_("Choose at least one task")]
        return None
    return {"tasks": [code for code in codes if code in chosen]}


def changes_at(site: str) -> dict[str, AccountChangePage]:
    """The changes of a person's delegation at ``site`` its principal investigator makes on
    the pages, by their URL's part."""
    return {"delegate": _delegate(site), "end": _end(site)}


def designations_at(site: str) -> dict[str, AccountChangePage]:
    """The changes of a person's delegation at ``site`` an administrator makes on the pages:
    the designation of the site's principal investigator (an investigator of the site), and
    the end of any delegation."""
    return {
        "designate": AccountChangePage(
            "TasksDelegated",
            "Designate the principal investigator",
            "Sign and designate the principal investigator",
            lambda _account, **kwargs: DelegationPeriodForm(**kwargs),
            lambda _account, _administrator: {
                "site": site,
                "tasks": [task.value for task in DESIGNATION],
            },
            lambda account: account.role is Role.INVESTIGATOR,
        ),
        "end": _end(site),
    }


def _delegate(site: str) -> AccountChangePage:
    return AccountChangePage(
        "TasksDelegated",
        "Delegate tasks",
        "Sign and delegate the tasks",
        lambda _account, **kwargs: DelegationPeriodForm(**kwargs),
        _site_only(site),
        lambda _account: True,
        Preparation(lambda _account: DelegationTasksForm(tasks=DELEGATED), _tasks_chosen),
    )


def _end(site: str) -> AccountChangePage:
    return AccountChangePage(
        "DelegationEnded",
        "End a delegation",
        "Sign and end the delegation",
        lambda _account, **kwargs: AccountReasonForm(**kwargs),
        _site_only(site),
        lambda account: account.delegation_at(site) is not None,
    )


def _changes_by(person: Account, site: str) -> dict[str, AccountChangePage]:
    """The changes ``person`` makes at ``site`` on the pages: an administrator's, or those of
    the site's principal investigator (checked again, with the site, when recorded)."""
    if role_may(person, Action.ADMINISTER_ACCOUNTS):
        return designations_at(site)
    check_may(person, Action.DELEGATE_TASKS, site)
    return changes_at(site)


def _staff_of(site: str, signer: Account, accounts: list[Account]) -> list[dict[str, Any]]:
    """The people acting for ``site`` whose delegation ``signer`` may change there (all but
    the signer themselves), each with the changes that apply to them as they stand."""
    pages = _changes_by(signer, site)
    staff = []
    for account in accounts:
        if not account.acts_for(site) or account.user_id == signer.user_id:
            continue
        changes = [(slug, page.title) for slug, page in pages.items() if page.applies(account)]
        staff.append({"account": account, "changes": changes})
    return staff


def _is_principal_investigator(account: Account, site: str) -> bool:
    now = datetime.now(UTC)
    return account.is_principal_investigator(site, now.date(), at=now)


@web.get("/delegation")
@page_for(Action.DELEGATE_TASKS, Action.ADMINISTER_ACCOUNTS)
def delegation() -> str:
    """The delegation log of each of the investigator's sites (of every site, for an
    administrator), with the staff whose delegation the person changes there."""
    study = served_study(None)
    accounts = get_store().reads.accounts()
    today = datetime.now(UTC).date()
    administers = role_may(g.account, Action.ADMINISTER_ACCOUNTS)
    shown = {site for a in accounts for site in a.sites} if administers else g.account.sites
    sites = []
    for site in sorted(shown):
        changes = administers or _is_principal_investigator(g.account, site)
        sites.append(
            {
                "site": site,
                "lines": delegation_log(accounts, site),
                "staff": _staff_of(site, g.account, accounts) if changes else [],
                "changes": changes,
            }
        )
    page = render_template("delegation/log.html", sites=sites, today=today, administers=administers)
    return handed_out(page, DELEGATION_LOG, *(Scope(study, site=each["site"]) for each in sites))


@web.route("/delegation/<site>/<user_id>/<change>", methods=["GET", "POST"])
@page_for(Action.DELEGATE_TASKS, Action.ADMINISTER_ACCOUNTS)
def change_delegation(site: str, user_id: str, change: str) -> Response | str:
    """The form of ``change`` of ``user_id``'s delegation at ``site``; its signed event."""
    page = _changes_by(g.account, site).get(change)
    account = get_store().app.find_account(user_id)
    if page is None or account is None or not account.acts_for(site):
        # Another site's staff answer as accounts that do not exist.
        abort(404, description=_("There is no such person or change at this site."))
    if not page.applies(account):
        abort(409, description=_("This change does not apply to the delegation as it stands."))

    def shown(step: str, **context: Any) -> str:
        held = account.delegation_at(site)
        page_text = render_template(
            f"delegation/{step}.html", site=site, account=account, held=held, **context
        )
        return handed_out(page_text, DELEGATION_LOG, Scope(served_study(None), site=site))

    done = url_for("web.delegation", _anchor=f"site-{site}")
    return signed_account_change(account, page, done=done, shown=shown)


in_navigation("web.delegation", "Delegation", Action.DELEGATE_TASKS, Action.ADMINISTER_ACCOUNTS)
