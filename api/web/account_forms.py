"""The forms of an administrator's changes of accounts (``/admin/accounts/...``): what the
administrator types into each signed account event, and, for the changes whose body the
server derives first (an account opened, a key registered or rotated), what they give before
they sign.

A field marked ``data-signed-item`` is put in the signed body's ``data`` by
``static/js/sign-form.js`` (docs/pages.md, "Signing in the browser"); the form carries it too,
to show it again on a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length

from api.web.forms import SignedBodyForm, kept_as_typed, shown_as_typed
from api.web.wording import gettext

ACCOUNT_REASON_LENGTH = 500
"""The longest reason an account change takes (the API's schema)."""
PRINTED_NAME_LENGTH = 200
"""The longest printed name an account takes (the API's schema)."""
ACCESS_CHANGES_LENGTH = 8000
"""The longest text of changes an access review takes on the page."""
PUBLIC_KEY_LENGTH = 4096
"""The longest public key text read, pasted or opened: a PEM of an Ed25519 key is 113 bytes."""
CHOOSE_A_ROLE = "Choose a role"
NO_ROLE_YET = "No role yet"
CHOOSE_A_SITE = "Choose a site"
CHOOSE_A_KEY = "Choose a key"
KEY_END_HINT = (
    "In UTC: YYYY-MM-DDTHH:MM:SSZ. Empty: the second after you sign. An instant already past "
    "needs the box below ticked"
)


def _choices(first: str, values: Iterable[str]) -> list[SelectChoice]:
    """A list to choose one of ``values`` from, headed by ``first`` (in the page's language)."""
    return [SelectChoice("", gettext(first)), *(SelectChoice(value, value) for value in values)]


def _signed_line(
    label: str, description: str, item: str, *, required: bool = True, when_empty: str = ""
) -> StringField:
    """A line the person types and signs, put in the body's ``data`` as ``item`` (left out
    when empty, or, with ``when_empty``, the signer's time: ``signed-at`` or ``next-second``)."""
    render_kw: dict[str, Any] = {"data-signed-item": item, "spellcheck": "false"}
    if required:
        render_kw["required"] = True
    if when_empty:
        render_kw["data-when-empty"] = when_empty
    return StringField(
        label, description=description, filters=[shown_as_typed], render_kw=render_kw
    )


def _signed_choice(label: str, item: str) -> SelectField:
    """One of a list the person chooses and signs, as ``item`` in the body's ``data``."""
    return SelectField(
        label,
        filters=[shown_as_typed],
        render_kw={"data-signed-item": item, "required": True},
        validate_choice=False,
    )


def _reason() -> TextAreaField:
    return TextAreaField(
        "Why",
        description="Kept in the signed event",
        filters=[kept_as_typed],
        validators=[Length(max=ACCOUNT_REASON_LENGTH)],
        render_kw={"rows": 3, "required": True, "data-signed-item": "reason"},
    )


def _retroactive() -> BooleanField:
    return BooleanField(
        "The instant is already past: end the key from then (retroactive)",
        description="What the key signed after that instant is then disowned",
        render_kw={"data-signed-item": "retroactive"},
    )


class AccountReasonForm(SignedBodyForm):
    """An administrator's change of an account that states only why: a lock, an unlock, the
    end of a role (the role itself is the account's own, in the body)."""

    reason = _reason()


class NothingTypedForm(SignedBodyForm):
    """A change whose body the server fixes whole: a one-time password issued, an account
    opened (the administrator reads and signs)."""


class AttestTrainingForm(SignedBodyForm):
    """An administrator's attestation that a person completed training for a role (21 CFR
    11.10(i))."""

    role = _signed_choice("The role trained for", "role")
    course = _signed_line("The course", "The course or curriculum completed", "course")
    completed_on = _signed_line("Completed on", "YYYY-MM-DD", "completed_on")

    def __init__(self, *, roles: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.role.choices = _choices(CHOOSE_A_ROLE, roles)


class GrantRoleForm(SignedBodyForm):
    """An administrator's grant of a role, in force once trained for, for good or until an
    instant to come."""

    role = _signed_choice("The role", "role")
    until = _signed_line(
        "Lapses at",
        "The instant the role lapses, in UTC: YYYY-MM-DDTHH:MM:SSZ. Empty: no end",
        "until",
        required=False,
    )

    def __init__(self, *, roles: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.role.choices = _choices(CHOOSE_A_ROLE, roles)


class AssignSiteForm(SignedBodyForm):
    """An administrator lets a person act for a site."""

    site = _signed_line("The site", "Its code, as the site's subjects' codes begin: RP", "site")


class UnassignSiteForm(SignedBodyForm):
    """An administrator stops a person acting for one of their sites."""

    site = _signed_choice("The site", "site")
    reason = _reason()

    def __init__(self, *, sites: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site.choices = _choices(CHOOSE_A_SITE, sites)


class RegisterKeyForm(SignedBodyForm):
    """When a key registered becomes valid (its key is in the body already)."""

    valid_from = _signed_line(
        "Valid from",
        "In UTC: YYYY-MM-DDTHH:MM:SSZ. Empty: when you sign",
        "valid_from",
        required=False,
        when_empty="signed-at",
    )


class RotateKeyForm(SignedBodyForm):
    """When the key replaced ends and the new one begins (both are in the body already)."""

    rotated_at = _signed_line(
        "The new key replaces the old from", KEY_END_HINT, "rotated_at",
        required=False, when_empty="next-second",
    )  # fmt: skip
    retroactive = _retroactive()


class RevokeKeyForm(SignedBodyForm):
    """A key revoked: which, why, and from when."""

    key_id = _signed_choice("The key", "key_id")
    reason = _reason()
    revoked_at = _signed_line(
        "Revoked from", KEY_END_HINT, "revoked_at", required=False, when_empty="next-second"
    )
    retroactive = _retroactive()

    def __init__(self, *, keys: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.key_id.choices = _choices(CHOOSE_A_KEY, keys)


class PublicKeyForm(FlaskForm):
    """A person's public key, given before the body is signed: the server derives its key id
    and raw form as the console does (``sealtrail key register``)."""

    public_key = TextAreaField(
        "The person's public key",
        description="Paste the .pub.pem file that 'sealtrail key generate' wrote beside their "
        "private key (or its base64), or open it below",
        filters=[kept_as_typed],
        validators=[Length(max=PUBLIC_KEY_LENGTH)],
        render_kw={"rows": 4, "spellcheck": "false"},
    )
    public_key_file = FileField("Or open the public key file")


class RotationKeyForm(PublicKeyForm):
    """The key a rotation replaces, and the person's new public key."""

    old_key_id = SelectField(
        "The key replaced",
        filters=[shown_as_typed],
        validators=[InputRequired(CHOOSE_A_KEY)],
        validate_choice=False,
    )

    def __init__(self, *, keys: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.old_key_id.choices = _choices(CHOOSE_A_KEY, keys)


class OpenAccountForm(FlaskForm):
    """A new account, as ``sealtrail user add`` opens it: the user id, the printed name its
    signatures show, the role (in force once training is attested) and the sites."""

    user_id = StringField(
        "User id",
        description="1-64 of a-z, 0-9, '.', '-', '_', starting with a letter or digit",
        filters=[shown_as_typed],
        validators=[InputRequired("Enter the user id")],
        render_kw={"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off"},
    )
    printed_name = StringField(
        "Printed name",
        description="Shown with every signature of theirs (21 CFR 11.50)",
        filters=[shown_as_typed],
        validators=[InputRequired("Enter the printed name")],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(
        "Role",
        description="In force once training for it is attested",
        filters=[shown_as_typed],
        validate_choice=False,
    )
    sites = StringField(
        "Sites",
        description="The codes of the sites they act for, separated by spaces. Empty: none",
        filters=[shown_as_typed],
        render_kw={"spellcheck": "false"},
    )

    def __init__(self, *, roles: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.role.choices = _choices(NO_ROLE_YET, roles)


class DelegationTasksForm(FlaskForm):
    """The tasks a site's principal investigator delegates, chosen before the body is signed:
    a list, which the server puts in the body (the browser signs lines and choices)."""

    tasks = SelectMultipleField("The tasks delegated", validate_choice=False)

    def __init__(self, *, tasks: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tasks.choices = list(tasks)


class DelegationPeriodForm(SignedBodyForm):
    """The period of a delegation (its site and tasks are in the body already): UTC days, both
    included, as the delegation of authority log prints them."""

    starts_on = _signed_line("From", "The first day: YYYY-MM-DD", "starts_on")
    ends_on = _signed_line(
        "Until", "The last day, included: YYYY-MM-DD. Empty: until ended", "ends_on",
        required=False,
    )  # fmt: skip


class AccessChangesForm(FlaskForm):
    """The changes a reviewer of access decided, given before the body is signed: one a line,
    which the server puts in the body as a list (none: all stays as it is)."""

    changes = TextAreaField(
        "Changes decided",
        description="One a line, in words (e.g. end mon2's role: left the study). Empty: all "
        "stays as it is",
        filters=[kept_as_typed],
        validators=[Length(max=ACCESS_CHANGES_LENGTH)],
        render_kw={"rows": 4},
    )


def _database_step(what: str, kept: str, say_why: str) -> tuple[SelectField, TextAreaField]:
    """The two fields of a database's lock or reopening: its scope, and why."""
    site = SelectField(what, filters=[shown_as_typed], validate_choice=False)
    reason = TextAreaField(
        "Why",
        description=kept,
        filters=[kept_as_typed],
        validators=[InputRequired(say_why), Length(max=500)],
        render_kw={"rows": 3, "required": True},
    )
    return site, reason


class DatabaseLockForm(FlaskForm):
    """A sponsor data manager's database lock, asked before its bodies are offered: the site
    (or the whole study) and why. Both are fixed into every body the page then offers."""

    site, reason = _database_step(
        "What is locked", "Kept in each signed event", "Say why the database is locked"
    )

    def __init__(self, *, sites: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site.choices = [("", gettext(WHOLE_STUDY)), *((site, site) for site in sites)]


WHOLE_STUDY = "The whole study"


class DatabaseReopenForm(DatabaseLockForm):
    """A sponsor data manager's reopening of a locked database, asked before its body is
    offered: which of the locked scopes (a site, or the whole study) and why."""

    site, reason = _database_step(
        "What is reopened", "Kept in the signed event", "Say why the database is reopened"
    )

    def __init__(self, *, locked: Sequence[str | None], **kwargs: Any) -> None:
        FlaskForm.__init__(self, **kwargs)
        self.site.choices = [(site or "", site or gettext(WHOLE_STUDY)) for site in locked]


class AuditReviewConclusionForm(SignedBodyForm):
    """A reviewer's conclusion over the findings of an audit-trail review (the period, the
    findings' count and SHA-256 are in the body already)."""

    conclusion = TextAreaField(
        "Your conclusion",
        description="What you concluded of these findings, kept in the signed review",
        filters=[kept_as_typed],
        validators=[Length(max=4000)],
        render_kw={"rows": 4, "required": True, "data-signed-item": "conclusion"},
    )
