"""``/admin/accounts/<user_id>/<change>``: an administrator changes an account from the pages, as
``sealtrail user ...`` and ``sealtrail key ...`` do at the console: locks or unlocks it, attests
training, grants a role or ends it, lets the person act for a site or stops it, issues a
one-time password, registers, rotates or revokes a signing key.

Each change is an account event signed **in the administrator's browser** with their own key
(docs/pages.md, "Signing in the browser") and recorded by the same service as
``POST /v1/accounts`` (:meth:`Administration.administer`), whose checks decide what may be
recorded: an administrator in force, signing as themselves, never granting themselves, the
account's own rules (a lock of a locked account, a role already held...). As over the API, the
signature is of authorship and asks no password again. A refusal shows the form again with the
error summary, what was typed kept, and nothing recorded.

A key registered or rotated is given first (pasted, or its file opened): the server derives its
key id and raw form as the console does, and the page then offers the body with them to sign.
A one-time password is shown once, on the answer to the change that issued it
(:mod:`api.web.one_time_passwords`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.account_forms import (
    AccountReasonForm,
    AssignSiteForm,
    AttestTrainingForm,
    GrantRoleForm,
    NothingTypedForm,
    PublicKeyForm,
    RegisterKeyForm,
    RevokeKeyForm,
    RotateKeyForm,
    RotationKeyForm,
    UnassignSiteForm,
)
from api.web.account_lines import account_line
from api.web.blueprint import web
from api.web.forms import SignedBodyForm
from api.web.handing_out import handed_out
from api.web.one_time_passwords import one_time_password_page
from api.web.public_keys import public_key_fields
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

Fixed = Callable[[Account, Account], dict[str, Any]]
"""The data the server puts in a change's body, of the account and the administrator."""


@dataclass(frozen=True)
class Preparation:
    """What a change needs given before its body can be offered (a public key, whose key id
    and raw form the server derives): its form, and the data it fixes in the body, or None
    with the reasons in the form."""

    form: Callable[[Account], FlaskForm]
    fixed: Callable[[FlaskForm], dict[str, Any] | None]


@dataclass(frozen=True)
class AccountChangePage:
    """One change an administrator makes on the pages: the account event it signs, what the
    page and its button say, its form, the data the server puts in the body (the person types
    the rest), and whether it applies to the account as it stands (the links of ``/admin``)."""

    kind: str
    title: str
    button: str
    form: Callable[..., SignedBodyForm]
    """The signing form, of the account as it stands (its sites, its keys)."""
    fixed: Fixed
    applies: Callable[[Account], bool]
    preparation: Preparation | None = None


def _live_keys(account: Account) -> list[str]:
    """The keys of ``account`` no rotation or revocation gave an end (those a change may end,
    as the account's own rule says)."""
    return [key.key_id for key in account.keys.values() if key.revoked_at is None]


def _nothing(_account: Account, _administrator: Account) -> dict[str, Any]:
    return {}


CHANGES: dict[str, AccountChangePage] = {
    "lock": AccountChangePage(
        "AccountLocked",
        "Lock an account",
        "Sign and lock the account",
        lambda _account, **kwargs: AccountReasonForm(**kwargs),
        # A lock decided by an administrator, not a lockout after failed attempts.
        lambda _account, _administrator: {"failed_attempts": 0},
        lambda account: not account.locked,
    ),
    "unlock": AccountChangePage(
        "AccountUnlocked",
        "Unlock an account",
        "Sign and unlock the account",
        lambda _account, **kwargs: AccountReasonForm(**kwargs),
        _nothing,
        lambda account: account.locked,
    ),
    "train": AccountChangePage(
        "TrainingAttested",
        "Attest training",
        "Sign and attest the training",
        lambda _account, **kwargs: AttestTrainingForm(roles=ROLES, **kwargs),
        _nothing,
        lambda _account: True,
    ),
    "grant": AccountChangePage(
        "RoleGranted",
        "Grant a role",
        "Sign and grant the role",
        lambda _account, **kwargs: GrantRoleForm(roles=ROLES, **kwargs),
        _nothing,
        lambda account: account.role is None,
    ),
    "end-role": AccountChangePage(
        "RoleRevoked",
        "End a role",
        "Sign and end the role",
        lambda _account, **kwargs: AccountReasonForm(**kwargs),
        lambda account, _administrator: {"role": account.role.value if account.role else None},
        lambda account: account.role is not None,
    ),
    "assign-site": AccountChangePage(
        "SiteAssigned",
        "Let a person act for a site",
        "Sign and assign the site",
        lambda _account, **kwargs: AssignSiteForm(**kwargs),
        _nothing,
        lambda _account: True,
    ),
    "unassign-site": AccountChangePage(
        "SiteUnassigned",
        "Stop a person acting for a site",
        "Sign and unassign the site",
        lambda account, **kwargs: UnassignSiteForm(sites=account.sites, **kwargs),
        _nothing,
        lambda account: bool(account.sites),
    ),
    "reset-password": AccountChangePage(
        "PasswordChanged",
        "Issue a one-time password",
        "Sign and issue the password",
        lambda _account, **kwargs: NothingTypedForm(**kwargs),
        # What Administration.administer accepts of an administrator: a one-time password
        # issued by its signer, never one they chose.
        lambda _account, administrator: {"changed_by": administrator.user_id, "temporary": True},
        lambda _account: True,
    ),
    "register-key": AccountChangePage(
        "KeyRegistered",
        "Register a signing key",
        "Sign and register the key",
        lambda _account, **kwargs: RegisterKeyForm(**kwargs),
        _nothing,
        lambda _account: True,
        Preparation(lambda _account: PublicKeyForm(), public_key_fields),
    ),
    "rotate-key": AccountChangePage(
        "KeyRotated",
        "Rotate a signing key",
        "Sign and rotate the key",
        lambda _account, **kwargs: RotateKeyForm(**kwargs),
        _nothing,
        lambda account: bool(_live_keys(account)),
        Preparation(
            lambda account: RotationKeyForm(keys=_live_keys(account)),
            lambda form: _rotation_fields(form),
        ),
    ),
    "revoke-key": AccountChangePage(
        "KeyRevoked",
        "Revoke a signing key",
        "Sign and revoke the key",
        lambda account, **kwargs: RevokeKeyForm(keys=_live_keys(account), **kwargs),
        _nothing,
        lambda account: bool(_live_keys(account)),
    ),
}
"""The changes the pages make, by the last part of their URL."""


def _rotation_fields(form: FlaskForm) -> dict[str, Any] | None:
    """A rotation's fixed data: the key replaced, and the new key as the console derives it."""
    new_key = public_key_fields(form)
    old_key = form.old_key_id
    if old_key.data not in [choice.value for choice in old_key.choices][1:]:
        old_key.errors = [_("Choose a key")]
        return None
    return None if new_key is None else {"old_key_id": old_key.data, **new_key}


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
    return signed_account_change(
        account,
        page,
        done=url_for("web.admin", _anchor=f"account-{user_id}"),
        shown=lambda step, **context: _shown(f"admin/{step}.html", account, **context),
    )


Shown = Callable[..., str]
"""A step of a change's page, rendered: ``shown("prepare" or "change", **context)``."""


def signed_account_change(
    account: Account, page: AccountChangePage, *, done: str, shown: Shown
) -> Response | str:
    """The form of ``page``'s change of ``account`` and, once the browser signed it, the change
    recorded by :meth:`Administration.administer` (whose checks decide who may sign it), then
    back to ``done``; a refusal shows the form again, nothing recorded.

    A change with a :class:`Preparation` is asked in two steps: what it needs (a public key,
    a delegation's tasks), then, once the server derived the body from it, the signature; the
    first step's values ride along with the second as hidden fields, so that a refusal shows
    the body again."""
    user_id = account.user_id
    prepared: dict[str, Any] = {}
    given: FlaskForm | None = None
    if page.preparation is not None:
        given = page.preparation.form(account)
        found = page.preparation.fixed(given) if request.method == "POST" else None
        if found is None:
            # Nothing given yet, or what was given is refused: the first step (again).
            return shown("prepare", page=page, given=given)
        prepared = found
    signing = request.method == "POST" and "body" in request.form
    form = page.form(account) if signing else page.form(account, formdata=None)
    if signing:
        administered = record_account_change(form, g.account, page.kind, user_id)
        if administered is not None and administered.one_time_password is not None:
            return one_time_password_page(user_id, administered)
        if administered is not None:
            flash(
                _(
                    "%(kind)s of %(user_id)s recorded at log position %(position)s.",
                    kind=page.kind,
                    user_id=user_id,
                    position=administered.receipts[0]["position"],
                ),
                "done",
            )
            return redirect(done)
    body = body_to_sign(
        {"account": user_id},
        version=account.version + 1,
        kind=page.kind,
        data={**page.fixed(account, g.account), **prepared},
        signer=(g.account.user_id, g.account.printed_name),
    )
    hidden = [] if given is None else _carried(given)
    return shown(
        "change", page=page, form=form, offer=authorship_offer(g.account, body), hidden=hidden
    )


def _carried(given: FlaskForm) -> list[tuple[str, str]]:
    """The first step's values, as the second step's hidden fields (a file as its text, a
    list of choices as one field per choice)."""
    carried: list[tuple[str, str]] = []
    for field in given:
        if field.name == "csrf_token":
            continue
        values = field.data if isinstance(field.data, list) else [field.data]
        carried += [(field.name, value) for value in values if isinstance(value, str) and value]
    return carried


def _shown(template: str, account: Account, **context: Any) -> str:
    """A page of a change of ``account``: a copy of the account, recorded as ``/admin`` is."""
    shown = render_template(template, line=account_line(account, datetime.now(UTC)), **context)
    return handed_out(shown, ACCOUNTS, Scope(served_study(None)))
