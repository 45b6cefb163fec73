"""``/account``: a person's own password, keys and language.

The password is changed by the same service as ``POST /v1/auth/password`` (same rules, same
errors, the same ``PasswordChanged`` event). A person whose one-time or expired password opened
nothing is sent here from ``/login`` to choose their own first, and is then signed in with it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, session, url_for
from werkzeug.wrappers import Response

from api.store import get_store
from api.web.blueprint import web
from api.web.forms import LanguageForm, PasswordChangeForm
from api.web.navigation import in_navigation
from api.web.sessions import MUST_CHANGE, NEXT, safe_next, sign_in, signed_in_person, to_sign_in
from api.web.sign_in import CHANNEL
from api.web.wording import LANGUAGES, choose_language, language, worded
from api.web.wording import gettext as _
from domain.account import Account, RegisteredKey
from infrastructure.errors import AccountLockedOut, AuthenticationFailed, PasswordRejected


@web.route("/account", methods=["GET", "POST"])
def account() -> Response | str:
    """The person's account; or, before a first sign-in, the change of a one-time password."""
    person = signed_in_person()
    pending = session.get(MUST_CHANGE) if person is None else None
    if person is None and pending is None:
        return to_sign_in()
    user_id = person.user_id if person is not None else str(pending)
    form = PasswordChangeForm()
    if form.validate_on_submit() and change_password(form, user_id):
        # The change ended every session of the person (as on the API); the new password has
        # just been proved, so this browser signs in again with it.
        target = url_for("web.account") if person is not None else safe_next(session.get(NEXT))
        return sign_in_after_change(user_id, str(form.new_password.data), target)
    languages = LanguageForm(language=language(), next=url_for("web.account"))
    return render_template(
        "account.html",
        form=form,
        person=person,
        user_id=user_id,
        keys=keys_of(person) if person is not None else [],
        password_expires_at=get_store().access.password_expires_at(user_id),
        languages_form=languages,
    )


def change_password(form: PasswordChangeForm, user_id: str) -> bool:
    """Change the password as the API does; the form's fields say what was refused."""
    try:
        get_store().access.change_password(
            user_id, str(form.password.data), str(form.new_password.data)
        )
    except AccountLockedOut as locked:
        form.form_errors.append(worded(locked))
    except AuthenticationFailed:
        form.password.errors = [_("The current password is wrong")]
    except PasswordRejected as rejected:
        form.new_password.errors = [worded(rejected)]
    else:
        return True
    return False


def sign_in_after_change(user_id: str, new_password: str, target: str) -> Response:
    """Sign in with the password just chosen (an attempt of its own in the log)."""
    sign_in(get_store().access.authenticate(user_id, new_password, channel=CHANNEL))
    flash(
        _("Your password was changed. Your other sessions have ended; this one goes on."),
        "done",
    )
    return redirect(target)


def keys_of(person: Account) -> list[tuple[RegisteredKey, str]]:
    """The person's registered keys, newest first, each with its state now."""
    now = datetime.now(UTC)
    listed = sorted(person.keys.values(), key=lambda key: key.registered_at, reverse=True)
    return [(key, key_state(key, now)) for key in listed]


def key_state(key: RegisteredKey, now: datetime) -> str:
    """``valid``, ``not yet valid`` or ``ended`` (revoked or rotated away)."""
    if key.is_valid_at(now):
        return "valid"
    if now < key.effective_from:
        return "not yet valid"
    return "ended"


@web.post("/language")
def choose() -> Response:
    """Keep the language chosen (the person's, once signed in), and go back to the page."""
    signed_in_person()
    form = LanguageForm()
    if form.validate_on_submit() and form.language.data in LANGUAGES:
        choose_language(str(form.language.data))
    return redirect(safe_next(form.next.data))


in_navigation("web.account", "Your account", None)
