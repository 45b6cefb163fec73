"""``/admin/accounts/new``: an administrator opens an account from the pages, as
``sealtrail user add USER_ID --name NAME --role ROLE --site SITE`` does at the console.

In two steps. The administrator gives the user id, the printed name, the role and the sites;
the server checks them with the API's own schemas and the domain's rule of user ids, and offers
the bodies the console would sign: ``Opened``, ``RoleGranted`` when a role is given, one
``SiteAssigned`` per site, and the ``PasswordChanged`` of a one-time password issued by the
administrator, versions 1, 2, .... The administrator's browser signs each with their key, and
the same service as ``POST /v1/accounts`` (:meth:`Administration.administer`) records them
together or not at all and issues the one-time password, shown once
(:mod:`api.web.one_time_passwords`). The first step's values ride along with the second as
hidden fields, so that a refusal shows the bodies again.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g, render_template, request
from werkzeug.wrappers import Response
from wtforms import Field

from api.schemas.accounts import ACCOUNT_DATA_SCHEMAS
from api.store import get_store
from api.web.account_forms import NothingTypedForm, OpenAccountForm
from api.web.administering import ROLES
from api.web.blueprint import web
from api.web.one_time_passwords import one_time_password_page
from api.web.sessions import page_for
from api.web.signing import authorship_offer, record_account_opening
from api.web.wording import gettext as _
from domain.account import Account, is_user_id
from domain.actions import Action
from infrastructure.application.bodies import body_to_sign

SITES_MAX = 50
"""The most sites an account is opened with on the page (the API takes 50 changes at once)."""


@web.route("/admin/accounts/new", methods=["GET", "POST"])
@page_for(Action.ADMINISTER_ACCOUNTS)
def open_account() -> Response | str:
    """The form of a new account; the bodies that open it, signed in the browser."""
    given = OpenAccountForm(
        roles=ROLES, formdata=request.form if request.method == "POST" else None
    )
    offered = opening_bodies(given, g.account) if request.method == "POST" else None
    if offered is None:
        return render_template("admin/new.html", given=given)
    signing = "body" in request.form
    form = NothingTypedForm() if signing else NothingTypedForm(formdata=None)
    if signing:
        administered = record_account_opening(form, g.account, offered)
        if administered is not None:
            return one_time_password_page(given.user_id.data, administered)
    hidden = [(f.name, f.data) for f in given if f.name != "csrf_token" and f.data]
    return render_template(
        "admin/open.html",
        given=given,
        form=form,
        hidden=hidden,
        offer=authorship_offer(g.account, offered),  # type: ignore[arg-type]
    )


def opening_bodies(form: OpenAccountForm, administrator: Account) -> list[dict[str, Any]] | None:
    """The bodies that open the account ``form`` describes, less ``key_id`` and ``signed_at``;
    None, each reason beside its field, when the form is not valid, the user id is not one or
    is taken, or the API's schema refuses a field."""
    if not form.validate():
        return None
    # What was typed, as typed: the fields' own data shows a control character as U+FFFD, for
    # the page to show it again, and a body is never made of a character nobody typed.
    user_id, printed_name, given_sites = (
        _typed(form.user_id), _typed(form.printed_name), _typed(form.sites)
    )  # fmt: skip
    if not is_user_id(user_id):
        form.user_id.errors = [
            _("A user id is 1-64 of a-z, 0-9, '.', '-', '_', starting with a letter or digit")
        ]
    elif get_store().app.find_account(user_id) is not None:
        form.user_id.errors = [_("This user id exists: a user id is never reused")]
    role = form.role.data or None
    if role is not None and role not in ROLES:
        form.role.errors = [_("Choose a role")]
    sites = given_sites.replace(",", " ").split()
    if len(sites) != len(set(sites)) or len(sites) > SITES_MAX:
        form.sites.errors = [_("Name each site once, at most %(most)s", most=SITES_MAX)]
    changes: list[tuple[str, dict[str, Any], Any]] = [
        ("Opened", {"printed_name": printed_name}, form.printed_name),
        *([("RoleGranted", {"role": role}, form.role)] if role else []),
        *[("SiteAssigned", {"site": site}, form.sites) for site in sites],
        ("PasswordChanged", {"changed_by": administrator.user_id, "temporary": True}, None),
    ]
    for kind, data, field in changes:
        try:
            ACCOUNT_DATA_SCHEMAS[kind]().load(data)
        except ma.ValidationError as error:
            if field is not None and not field.errors:
                field.errors = [_said(error)]
    if any(field.errors for field in form):
        return None
    signer = (administrator.user_id, administrator.printed_name)
    return [
        body_to_sign({"account": user_id}, version=version, kind=kind, data=data, signer=signer)
        for version, (kind, data, _field) in enumerate(changes, start=1)
    ]


def _typed(field: Field) -> str:
    """What was typed in ``field``, before its filters."""
    return str(field.raw_data[0]) if field.raw_data else ""


def _said(error: ma.ValidationError) -> str:
    """The schema's reasons, as one line."""
    return " ".join(
        str(message)
        for said in error.messages_dict.values()
        for message in (said if isinstance(said, list) else [said])
    )
