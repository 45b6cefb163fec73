"""Accounts: who am I, who has which access (and had, when), administration, the server key.

Administration is a signed request, like a site's signed event: the administrator signs one
body per change with their own key, and the store checks the signature, the key's validity and
the administrator's role before it records anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from api.http.answers import answers, public_answers
from api.http.auth import login_required
from api.http.handing_out import handing_out_personnel_data
from api.rate_limits import rate_limited
from api.schemas.accounts import (
    AccessReviewReportSchema,
    AccountHistoryEntrySchema,
    AccountSchema,
    AdministeredSchema,
    AdministrationSchema,
    AttemptQuerySchema,
    AttemptSchema,
    account_action,
    account_document,
)
from api.schemas.resources import ServerKeySchema, logged_event
from api.store import get_store
from domain.account import Account
from domain.attribution import signer_of
from domain.authentication import Attempt
from domain.disclosure import (
    ACCESS_REVIEW,
    ACCOUNT_HISTORY,
    ACCOUNTS,
    AUTHENTICATION_LOG,
)
from domain.permissions import check_may_read_accounts
from domain.wire import instant_to_wire
from infrastructure.application.commands import AdministerAccount
from infrastructure.views.study_reports import access_review
from signatures.keys import public_key_to_text
from signatures.verifier_keys import NOTE_SIGNATURE, VerifierKey

blp = Blueprint("accounts", __name__, url_prefix="/v1", description="Accounts and keys")

READERS_ONLY = {403: "Administrators and auditors only"}
"""Who may read accounts: see :func:`domain.permissions.check_may_read_accounts`."""

ACCOUNT_READ_REFUSALS = READERS_ONLY | {404: "No such account"}


def account_view(account: Account) -> dict[str, Any]:
    """An account as the API shows it."""
    return account_document(account, get_store().access.password_expires_at(account.user_id))


def attempt_view(attempt: Attempt) -> dict[str, Any]:
    """One row of the authentication log."""
    return {
        "user_id": attempt.user_id,
        "occurred_at": instant_to_wire(attempt.occurred_at),
        "channel": attempt.channel,
        "outcome": attempt.outcome,
        "detail": attempt.detail,
    }


@blp.route("/me")
class Me(MethodView):
    """The authenticated person."""

    @login_required
    @answers(blp, 200, AccountSchema)
    def get(self) -> dict[str, Any]:
        """Your account: printed name, role (and whether it is in force), sites and keys."""
        return account_view(g.account)


@blp.route("/accounts")
class Accounts(MethodView):
    """Every account, and their administration."""

    @login_required
    @answers(blp, 200, AccountSchema(many=True), READERS_ONLY)
    def get(self) -> list[dict[str, Any]]:
        """Every account as it stands, locked ones included (administrators and auditors)."""
        check_may_read_accounts(g.account)
        handing_out_personnel_data(ACCOUNTS)
        return [account_view(account) for account in get_store().reads.accounts()]

    @login_required
    @blp.arguments(AdministrationSchema)
    @answers(
        blp,
        201,
        AdministeredSchema,
        {
            403: "Not an administrator in force, or granting oneself; an access review "
            "beyond the reviewer's sites, or on another's account",
            404: "No such account, or no such key",
            409: "The user id exists, the account's state forbids it, or an account "
            "reviewed no longer holds the access seen",
        },
    )
    def post(self, administration: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Record signed changes of one account, together or not at all.

        Each body is signed like a site's event (docs/signing.md), with ``account`` naming the
        account. A ``PasswordChanged`` (``temporary: true``, ``changed_by``: you) answers a
        one-time password, once. An ``AccessReviewed`` (on your own account: an administrator's
        of every site or one, an investigator's of their own site) names each account reviewed
        as ``GET /v1/accounts`` shows it now.
        """
        raw = request.get_json()["events"]
        actions = [account_action(item["event"], item["signature"]) for item in raw]
        store = get_store()
        receipts, password = store.administration.administer(
            AdministerAccount(actions=actions, actor_id=g.account.user_id)
        )
        answer: dict[str, Any] = {"receipts": receipts}
        if password is not None:
            answer["one_time_password"] = password
        return answer, 201


@blp.route("/access-review")
class AccessReview(MethodView):
    """The user access review report."""

    @login_required
    @answers(blp, 200, AccessReviewReportSchema, READERS_ONLY)
    def get(self) -> dict[str, Any]:
        """Accounts whose access was not reviewed within the protocol's period (or never), and
        roles whose end has come or comes within the protocol's warning (administrators and
        auditors). A review itself is an ``AccessReviewed`` posted to ``/v1/accounts``."""
        check_may_read_accounts(g.account)
        handing_out_personnel_data(ACCESS_REVIEW)
        return access_review(get_store().reads, datetime.now(UTC))


@blp.route("/accounts/<user_id>")
class AccountState(MethodView):
    """One account."""

    @login_required
    @answers(blp, 200, AccountSchema, ACCOUNT_READ_REFUSALS)
    def get(self, user_id: str) -> dict[str, Any]:
        """An account as it stands."""
        check_may_read_accounts(g.account)
        handing_out_personnel_data(ACCOUNTS)
        return account_view(get_store().app.account(user_id))


@blp.route("/accounts/<user_id>/history")
class AccountHistory(MethodView):
    """Who had which access when."""

    @login_required
    @answers(blp, 200, AccountHistoryEntrySchema(many=True), ACCOUNT_READ_REFUSALS)
    def get(self, user_id: str) -> list[dict[str, Any]]:
        """Every change of the account, oldest first, with who signed it and when."""
        check_may_read_accounts(g.account)
        handing_out_personnel_data(ACCOUNT_HISTORY)
        return [
            {
                **logged_event(record.position, record.event),
                "signed_by": signer_of(record.event.authorship.body()).user_id,
            }
            for record in get_store().reads.account_history(user_id)
        ]


@blp.route("/authentication-attempts")
class AuthenticationAttempts(MethodView):
    """The authentication log."""

    @login_required
    @blp.arguments(AttemptQuerySchema, location="query", unknown=ma.RAISE)
    @answers(blp, 200, AttemptSchema(many=True), READERS_ONLY)
    def get(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Every authentication success and failure, newest first (administrators, auditors)."""
        check_may_read_accounts(g.account)
        handing_out_personnel_data(AUTHENTICATION_LOG)
        attempts = get_store().access.attempts(query.get("user_id"), query["limit"])
        return [attempt_view(attempt) for attempt in attempts]


@blp.route("/server-key")
class ServerKey(MethodView):
    """The server's public key."""

    @rate_limited
    @public_answers(blp, 200, ServerKeySchema)
    def get(self) -> dict[str, Any]:
        """The key that signs receipts and checkpoints: public, needs no authentication."""
        app = get_store().app
        server_key = app.server_key
        log_key = VerifierKey(app.checkpoints.origin, NOTE_SIGNATURE, server_key.public_key)
        return {
            "key_id": server_key.key_id,
            "public_key": public_key_to_text(server_key.public_key),
            "note_verifier_key": log_key.text(),
        }
