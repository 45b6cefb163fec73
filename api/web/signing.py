"""Pages that sign in the browser: the body a page offers, and the signed body its form posts back.

The server never sees a private key (docs/pages.md, "Signing in the browser"). A page that signs
renders the body to sign, every field but ``key_id`` and ``signed_at``
(:func:`infrastructure.application.bodies.body_to_sign`), in a JSON block beside the signing form
of ``templates/macros/signing.html``; ``static/js/sign-form.js`` adds the key id of the key the
person chose and their clock's time, signs the canonical bytes with WebCrypto, and sends the body
as signed and the signature with the form. The page's handler reads them here and gives them to
the same application service as the API, which checks the signature as it checks every event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import marshmallow as ma
from flask import session

from api.schemas.accounts import SignedAccountEventSchema, account_action
from api.schemas.records import SignatureRequestSchema, SubmissionSchema
from api.schemas.submissions import submission_from
from api.statuses import STATUS_OF
from api.store import get_store
from api.web.forms import MISSING, CeremonyForm, SignedBodyForm
from api.web.sessions import SESSION
from api.web.wording import gettext as _
from api.web.wording import worded
from domain.account import Account
from infrastructure.application.access import SigningAuthentication
from infrastructure.application.commands import (
    AdministerAccount,
    RecordBatch,
    RecordEvent,
    SignRecords,
)
from infrastructure.application.receipts import Receipt
from infrastructure.errors import AuthenticationFailed, SigningComponentsRequired

USER_ID = "user_id"
MISSING_FIELD = ma.fields.Field.default_error_messages["required"]
NOTHING_SIGNED = "Nothing was signed: your browser signs with your key, and needs JavaScript for it"
NOT_OFFERED = "The signed bodies are not those this page offered"
REFUSALS = tuple(family for family, _status in STATUS_OF)
"""Every typed error a signing can end in (the families the API maps to a status)."""


@dataclass(frozen=True)
class Offer:
    """What a page that signs hands its signing form (``templates/macros/signing.html``)."""

    body: dict[str, Any]
    """The body to sign, less the ``key_id`` and ``signed_at`` the browser adds."""
    key_ids: tuple[str, ...]
    """The signer's keys in force now: the browser says at once that a key is not among them
    (the server refuses it in any case)."""
    asks_user_id: bool
    """The ceremony asks the user id as well as the password: the first signing of a session,
    or the first after the inactivity timeout."""


def offer(account: Account, body: dict[str, Any]) -> Offer:
    """The signing form's part of a page offering ``body`` to ``account``, signed in on this
    browser's session.

    Raises:
        SessionExpired: the session has ended.
    """
    components = get_store().access.signing_components(str(session[SESSION]))
    return Offer(body, _keys_in_force(account), USER_ID in components)


def authorship_offer(account: Account, body: dict[str, Any]) -> Offer:
    """The signing form's part of a page offering ``body``, an event its author signs as any
    event over the API (meaning authorship): no ceremony, so no password asked again."""
    return Offer(body, _keys_in_force(account), asks_user_id=False)


def _keys_in_force(account: Account) -> tuple[str, ...]:
    now = datetime.now(UTC)
    return tuple(key.key_id for key in account.keys.values() if key.is_valid_at(now))


def sign(form: CeremonyForm, account: Account) -> tuple[Receipt, SigningAuthentication] | None:
    """Sign through the ceremony, with the same service as ``POST /v1/signatures``: the receipt
    and how the signer authenticated; None when it was refused, each reason then in ``form``
    (beside its field, or for the whole form). Nothing is recorded when it is refused.
    """
    command = _command(form, account)
    if command is None:
        return None
    try:
        return get_store().records.sign(command)
    except SigningComponentsRequired:
        form.user_id.errors = [_("Enter your user id: this signing needs it too")]
    except AuthenticationFailed:
        form.password.errors = [_("The user id or the password is wrong")]
    except REFUSALS as refused:
        form.form_errors.append(worded(refused))
    return None


def _command(form: CeremonyForm, account: Account) -> SignRecords | None:
    """The ceremony's command from what the form posted, checked as the API checks
    ``POST /v1/signatures`` (the same schema); None, with the reasons in ``form``, otherwise.

    The submission is made from the body as received, whose canonical bytes the signature must
    cover; the service then checks everything else."""
    body, signature = signed_body(form)
    if body is None:
        return None
    request: dict[str, Any] = {
        "event": body,
        "signature": signature,
        "password": form.password.data,
    }
    user_id = form.user_id.data or None
    if user_id is not None:
        request[USER_ID] = user_id
    try:
        SignatureRequestSchema().load(request)
        submission = submission_from(body, signature)
    except ma.ValidationError as error:
        form.form_errors.extend(_lines(error.messages_dict))
        return None
    return SignRecords(
        submission,
        actor_id=account.user_id,
        session_id=str(session[SESSION]),
        password=str(form.password.data),
        user_id=user_id,
    )


def record(
    form: SignedBodyForm,
    account: Account,
    kind: str,
    code: str,
    about: dict[str, Any],
    *,
    whole: bool = False,
) -> Receipt | None:
    """Record the event of ``kind`` about subject ``code`` that the browser signed, with the
    same service as ``POST /v1/events``: the receipt; None when it was refused, each reason
    then in ``form`` (a field's own beside it when the form has that field, the others for the
    whole form). Nothing is recorded when it is refused.

    The body is checked with the API's own schema, and must be of the kind and subject of the
    page that offered it, its ``data`` saying what ``about`` says (the record a query asks
    about, the query an answer answers), and nothing else when ``whole`` (a site's record,
    whose data the page offered whole): a page records only the event it offered.
    """
    body, signature = signed_body(form)
    if body is None or not _offered_event(form, body, signature, kind, code, about, whole):
        return None
    try:
        return get_store().records.record(
            RecordEvent(submission_from(body, signature), actor_id=account.user_id),
            actor=account,
        )
    except REFUSALS as refused:
        form.form_errors.append(worded(refused))
    return None


def record_each(
    form: SignedBodyForm, account: Account, kind: str, code: str, abouts: list[dict[str, Any]]
) -> list[Receipt] | None:
    """Record the events of ``kind`` about subject ``code`` that the browser signed as a list
    (one a record, each ``data`` saying what its ``about`` says, in that order), together or
    not at all, with the same service as ``POST /v1/events/batch``; None when refused, the
    reasons in ``form`` as :func:`record` places them. Nothing is recorded when refused.

    Each body is checked as :func:`record` checks its one; the versions, the signatures, the
    record hashes and who may are the service's to check, as over the API."""
    bodies, signatures = _signed_lists(form)
    if bodies is None:
        return None
    if len(bodies) != len(abouts) or len(signatures) != len(abouts):
        form.form_errors.append(_(NOT_OFFERED))
        return None
    signed = list(zip(bodies, signatures, abouts, strict=True))
    if not all(
        _offered_event(form, body, signature, kind, code, about, False)
        for body, signature, about in signed
    ):
        return None
    submissions = [submission_from(body, signature) for body, signature, _about in signed]
    try:
        return get_store().records.record_batch(
            RecordBatch(submissions, actor_id=account.user_id), actor=account
        )
    except REFUSALS as refused:
        form.form_errors.append(str(refused))
    return None


def _offered_event(
    form: SignedBodyForm,
    body: dict[str, Any],
    signature: str,
    kind: str,
    code: str,
    about: dict[str, Any],
    whole: bool,
) -> bool:
    """Whether the API's schema accepts ``body`` and it is the event a page offered: of
    ``kind`` and subject ``code``, its data saying what ``about`` says (nothing else when
    ``whole``); the reasons in ``form`` when not."""
    try:
        SubmissionSchema().load({"event": body, "signature": signature})
    except ma.ValidationError as error:
        _place(form, error.messages_dict)
        return False
    data = body.get("data")
    offered = isinstance(data, dict) and all(data.get(k) == v for k, v in about.items())
    offered = offered and (not whole or data == about)
    if body.get("kind") != kind or body.get("subject") != code or not offered:
        form.form_errors.append(
            _("The signed body is not a %(kind)s of %(subject)s", kind=kind, subject=code)
        )
        return False
    return True


class Administered(NamedTuple):
    """What an administrator's signed changes recorded: the server's receipt of each, and the
    one-time password a ``PasswordChanged`` issued (None when none did), to be shown once."""

    receipts: list[Receipt]
    one_time_password: str | None


def record_account_change(
    form: SignedBodyForm, account: Account, kind: str, user_id: str
) -> Administered | None:
    """Record the change of ``kind`` of ``user_id``'s account that the administrator's browser
    signed, with the same service as ``POST /v1/accounts``; None when it was refused, each
    reason then in ``form`` as :func:`record` places it. Nothing is recorded when it is
    refused.

    The body is checked with the API's own schema, and must be of the kind and account of the
    page that offered it.
    """
    body, signature = signed_body(form)
    if body is None or not _schema_accepts(form, body, signature):
        return None
    if body.get("kind") != kind or body.get("account") != user_id:
        form.form_errors.append(
            _("The signed body is not a %(kind)s of %(account)s", kind=kind, account=user_id)
        )
        return None
    return _administer(form, account, [(body, signature)])


def record_account_opening(
    form: SignedBodyForm, account: Account, offered: list[dict[str, Any]]
) -> Administered | None:
    """Record the changes that open an account (``Opened``, the role, the sites, the one-time
    password), each body of ``offered`` signed by the administrator's browser, together or not
    at all, with the same service as ``POST /v1/accounts``; None when refused, the reasons in
    ``form``.

    The form carries the list of bodies as signed and the list of their signatures (JSON); each
    body is checked with the API's own schema, and must be the body offered, to which the
    browser added only ``key_id`` and ``signed_at``."""
    signed = _as_offered(form, offered)
    if signed is None:
        return None
    if not all(_schema_accepts(form, body, signature) for body, signature in signed):
        return None
    return _administer(form, account, signed)


def _as_offered(
    form: SignedBodyForm, offered: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], str]] | None:
    """The bodies the form signed as a list, each with its signature, if each is the body
    ``offered`` at its place, to which the browser added only ``key_id`` and ``signed_at``;
    None, the reason in ``form``, otherwise."""
    bodies, signatures = _signed_lists(form)
    if bodies is None:
        return None
    if len(bodies) != len(offered) or len(signatures) != len(offered):
        form.form_errors.append(_(NOT_OFFERED))
        return None
    added = ("key_id", "signed_at")
    if any(
        {k: v for k, v in body.items() if k not in added} != wanted
        for body, wanted in zip(bodies, offered, strict=True)
    ):
        form.form_errors.append(_(NOT_OFFERED))
        return None
    return list(zip(bodies, signatures, strict=True))


def record_database_lock(
    form: SignedBodyForm, account: Account, offered: list[dict[str, Any]]
) -> int | None:
    """Record a site's or the study's database lock as ``sealtrail lock site|study`` does:
    the sponsor's ``DatabaseLocked`` when ``offered`` begins with it (with the same service as
    ``POST /v1/accounts``), then every subject's ``SubjectLocked`` offered in one batch, all or
    none (with the same service as ``POST /v1/events/batch``); each body signed by the data
    manager's browser and exactly the one offered. The subjects locked; None when refused, the
    reasons in ``form``.

    As at the console, a batch refused after the database lock was recorded (a casebook not
    signed) leaves the lock: the page, asked again once the casebook is signed, locks the rest.
    """
    signed = _as_offered(form, offered)
    if signed is None:
        return None
    accounts = [(b, s) for b, s in signed if "account" in b]
    subjects = [(b, s) for b, s in signed if "account" not in b]
    if not all(_schema_accepts(form, body, signature) for body, signature in accounts):
        return None
    try:
        for body, signature in subjects:
            SubmissionSchema().load({"event": body, "signature": signature})
    except ma.ValidationError as error:
        _place(form, error.messages_dict)
        return None
    if accounts and _administer(form, account, accounts) is None:
        return None
    if not subjects:
        return 0
    command = RecordBatch(
        [submission_from(body, signature) for body, signature in subjects], account.user_id
    )
    try:
        get_store().records.record_batch(command, actor=account)
    except REFUSALS as refused:
        form.form_errors.append(str(refused))
        return None
    return len(subjects)


def _schema_accepts(form: SignedBodyForm, body: dict[str, Any], signature: str) -> bool:
    """Whether the API's schema of a signed account change accepts ``body`` (the reasons in
    ``form`` when not)."""
    try:
        SignedAccountEventSchema().load({"event": body, "signature": signature})
    except ma.ValidationError as error:
        _place(form, error.messages_dict)
        return False
    return True


def _administer(
    form: SignedBodyForm, account: Account, signed: list[tuple[dict[str, Any], str]]
) -> Administered | None:
    command = AdministerAccount(
        [account_action(body, signature) for body, signature in signed],
        actor_id=account.user_id,
    )
    try:
        return Administered(*get_store().administration.administer(command))
    except REFUSALS as refused:
        form.form_errors.append(worded(refused))
    return None


def _signed_lists(form: SignedBodyForm) -> tuple[list[dict[str, Any]] | None, list[Any]]:
    """The bodies and signatures a form that signed several bodies sent (two JSON lists); None
    for the bodies, the reason in ``form``, when nothing was signed or they are no lists."""
    text, signatures = form.body.data or "", form.signature.data or ""
    if not text or not signatures:
        form.form_errors.append(_(NOTHING_SIGNED))
        return None, []
    try:
        bodies, signed = json.loads(text), json.loads(signatures)
    except (ValueError, RecursionError):
        bodies, signed = None, None
    if (
        not isinstance(bodies, list)
        or not all(isinstance(body, dict) for body in bodies)
        or not isinstance(signed, list)
        or not all(isinstance(each, str) for each in signed)
    ):
        form.form_errors.append(_(NOT_OFFERED))
        return None, []
    return bodies, signed


def _place(form: SignedBodyForm, messages: dict[str, Any]) -> None:
    """The schema's messages about the signed body, each of a field of ``data`` the form has
    beside that field, the others for the whole form."""
    event = messages.get("event")
    data = event.get("data") if isinstance(event, dict) else None
    if isinstance(data, dict):
        for name in list(data):
            field = form._fields.get(name)
            if field is not None and isinstance(data[name], list):
                field.errors = [
                    _(MISSING) if message == MISSING_FIELD else str(message)
                    for message in data.pop(name)
                ]
    form.form_errors.extend(_lines(messages))


def signed_body(form: SignedBodyForm) -> tuple[dict[str, Any] | None, str]:
    """The body the browser signed, as a JSON object, and its signature; None for the body,
    the reason in ``form``, when nothing was signed or it is no JSON object."""
    text, signature = form.body.data or "", form.signature.data or ""
    if not text or not signature:
        form.form_errors.append(_(NOTHING_SIGNED))
        return None, signature
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # ValueError: integers beyond Python's digit limit too
        body = None
    if not isinstance(body, dict):
        form.form_errors.append(_("The signed body is not a JSON object"))
        return None, signature
    return body, signature


def _lines(messages: dict[str, Any], prefix: str = "") -> list[str]:
    """marshmallow's nested messages as lines naming their field (``event.data.entries``)."""
    lines: list[str] = []
    for field, message in messages.items():
        name = f"{prefix}{field}"
        if isinstance(message, dict):
            lines.extend(_lines(message, f"{name}."))
        else:
            said = " ".join(map(str, message)) if isinstance(message, list) else str(message)
            lines.append(f"{name}: {said}")
    return lines
