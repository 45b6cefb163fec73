"""The pages' forms, as WTForms classes (Flask-WTF adds each its CSRF token).

Labels and hints are English phrases; the templates say them in the page's language
(:mod:`api.web.wording`). A field's errors are shown beside it and in the summary at the top of
the page, and the form keeps what was typed (never a password) when it is shown again.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from api.web.wording import LANGUAGES

USER_ID_LENGTH = 100
PASSWORD_LENGTH = 200
"""The longest user id and password an account can have (the credential table's columns)."""


class SignInForm(FlaskForm):
    """``/login``: the same two fields as ``POST /v1/auth/token``."""

    username = StringField(
        "User id",
        validators=[InputRequired("Enter your user id"), Length(max=USER_ID_LENGTH)],
        render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password"), Length(max=PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    """``/account``: a person's own password, proving the current one (as ``POST
    /v1/auth/password``), the new one typed twice."""

    password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password"), Length(max=PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        description=(
            "12 to 200 characters, at least 5 different ones, not your user id, not a common "
            "password"
        ),
        validators=[InputRequired("Enter a new password"), Length(max=PASSWORD_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[
            InputRequired("Enter the new password again"),
            EqualTo("new_password", "The two new passwords are not the same"),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class LanguageForm(FlaskForm):
    """The language of the pages."""

    language = RadioField(
        "Language of the pages",
        choices=[
            SelectChoice(tag, name, render_kw={"lang": tag}) for tag, name in LANGUAGES.items()
        ],
        validators=[InputRequired("Choose a language")],
    )
    next = HiddenField()


class SignOutForm(FlaskForm):
    """``/logout``: a button (a form, so that no other site's link can sign anyone out)."""


class CeremonyForm(FlaskForm):
    """The signing form of a page that signs in the browser (:mod:`api.web.signing`): the body
    as the browser signed it and its signature (filled by ``static/js/sign-form.js``), and the
    signing ceremony's components (21 CFR 11.200(a)(1)): the password, and the user id when the
    ceremony asks for it. The key file is no field: it is never sent."""

    body = HiddenField()
    signature = HiddenField()
    user_id = StringField(
        "User id",
        validators=[Length(max=USER_ID_LENGTH)],
        render_kw={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"},
    )
    password = PasswordField(
        "Password",
        description="Re-enter your password: it is part of your signature.",
        validators=[InputRequired("Enter your password"), Length(max=PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
