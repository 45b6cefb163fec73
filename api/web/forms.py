"""The pages' forms, as WTForms classes (Flask-WTF adds each its CSRF token).

Labels and hints are English phrases; the templates say them in the page's language
(:mod:`api.web.wording`). A field's errors are shown beside it and in the summary at the top of
the page, and the form keeps what was typed (never a password) when it is shown again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import EqualTo, InputRequired, Length, Regexp

from api.schemas.fields import is_code
from api.web.wording import LANGUAGES, gettext
from domain.account import is_user_id
from domain.subject import KINDS
from infrastructure.application.audit_trail import MAX_PAGE_SIZE, AuditTrailPage
from projections.audit_trail import ACTIONS, AuditFilter, Period
from signatures.errors import CheckpointMalformed

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


class SignedBodyForm(FlaskForm):
    """A form that records an event signed in the browser (:mod:`api.web.signing`): the body as
    the browser signed it and its signature, filled by ``static/js/sign-form.js``. The key file
    is no field: it is never sent."""

    body = HiddenField()
    signature = HiddenField()


class CeremonyForm(SignedBodyForm):
    """The signing form of a signature over records (:mod:`api.web.signing`), with the signing
    ceremony's components (21 CFR 11.200(a)(1)): the password, and the user id when the
    ceremony asks for it."""

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


ALL_ROWS = "all"
"""``?page=all``: every row the filters keep, offered as CSV only (a page holds at most
:data:`~infrastructure.application.audit_trail.MAX_PAGE_SIZE` rows, and so does a PDF)."""
PAGE_SIZES = ("25", "50", "100", "200", str(MAX_PAGE_SIZE))
FORMATS = ("html", "csv", "pdf")
"""What ``?format=`` asks for: the page, or its rows as CSV or as the signed PDF."""
LAST_PAGE_ASKED = 1_000_000
"""No trail has a millionth page: a larger number is a mistake, said as one."""

SUBJECT_TOO_LONG = "A subject code is at most 64 characters"
BAD_SUBJECT = "Enter a subject code such as RP-01"
SUBJECT_NOT_READ = "No subject of that code among those you read"
BAD_SITE = "Choose one of the sites listed"
USER_TOO_LONG = "A user id is at most 64 characters"
BAD_USER = "Enter a user id: lower-case letters, digits, dot, dash, underscore"
BAD_KIND = "Choose one of the kinds of record listed"
BAD_ACTION = "Choose one of the actions listed"
BAD_DATE = "Enter a real date as YYYY-MM-DD, such as 2011-03-14"
DATES_REVERSED = "The last date is before the first"
BAD_SIZE = "Choose one of the numbers of rows listed"
BAD_PAGE = "Enter a page number, such as 2"
PAGE_BELOW_ONE = "Enter a page number from 1"
NO_SUCH_PAGE = "Enter the number of a page that exists"
ALL_ROWS_AS_CSV = "Every row is offered as CSV only: choose a page number"
BAD_FORMAT = "Ask for the page, its CSV or its PDF"
ANY_SITE = "Any site"
ANY_KIND = "Any kind"
ANY_ACTION = "Any action"
AUDIT_FILTER_MESSAGES = (
    SUBJECT_TOO_LONG,
    BAD_SUBJECT,
    SUBJECT_NOT_READ,
    BAD_SITE,
    USER_TOO_LONG,
    BAD_USER,
    BAD_KIND,
    BAD_ACTION,
    BAD_DATE,
    DATES_REVERSED,
    BAD_SIZE,
    BAD_PAGE,
    PAGE_BELOW_ONE,
    NO_SUCH_PAGE,
    ALL_ROWS_AS_CSV,
    BAD_FORMAT,
    ANY_SITE,
    ANY_KIND,
    ANY_ACTION,
)
"""What the audit trail's filters say of bad input, and their empty choices (the templates
translate them)."""


def shown_as_typed(value: object) -> object:
    """What was typed, each control character (a NUL...) shown as U+FFFD: kept on the page for
    the person to correct, never written into it raw."""
    if not isinstance(value, str):
        return value
    return "".join("\ufffd" if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in value)


def _matching(test: Callable[[str], bool], message: str) -> Callable[[Any, Any], None]:
    """A validator: a value typed must pass ``test``."""

    def check(form: Any, field: Any) -> None:
        if field.data and not test(field.data):
            raise ValidationError(message)

    return check


def is_day(text: str) -> bool:
    """Whether ``text`` is a real date written ``YYYY-MM-DD``."""
    if len(text) != 10:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _choices(any_one: str, values: Iterable[str]) -> list[SelectChoice]:
    """A list to choose one of ``values`` from, or none (``any_one``, in the page's language)."""
    return [SelectChoice("", gettext(any_one)), *(SelectChoice(value, value) for value in values)]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _typed_code(
    label: str,
    description: str,
    test: Callable[[str], bool],
    too_long: str,
    malformed: str,
    **render: str,
) -> StringField:
    """A code typed (a subject's, a user id), at most 64 characters that pass ``test``."""
    return StringField(
        label,
        description=description,
        filters=[shown_as_typed],
        validators=[Length(max=64, message=too_long), _matching(test, malformed)],
        render_kw={"spellcheck": "false", **render},
    )


def _one_of(
    label: str, refused: str, *, default: str = "", choices: Iterable[str] = ()
) -> SelectField:
    """A list to choose from (its choices given here, or by the form for the person)."""
    return SelectField(
        label,
        choices=[SelectChoice(value, value) for value in choices],
        default=default,
        filters=[shown_as_typed],
        invalid_choice_message=refused,
    )


def _recording_day(label: str, name: str) -> StringField:
    """A recording date of the site's calendar, typed ``YYYY-MM-DD``, as URL parameter
    ``name``."""
    return StringField(
        label,
        name=name,
        description="YYYY-MM-DD, the site's calendar",
        filters=[shown_as_typed],
        validators=[_matching(is_day, BAD_DATE)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


class AuditFilterForm(FlaskForm):
    """``/audit``'s filters: a GET form whose values are the page's URL. Asking for a page
    changes nothing, so the form carries no CSRF token. ``sites`` are the person's to choose
    from; on a subject's own page (``subject_page``) the subject and the site are its own and
    not asked."""

    subject = _typed_code(
        "Subject", "Its study code, such as RP-01", is_code, SUBJECT_TOO_LONG, BAD_SUBJECT,
        autocapitalize="characters",
    )  # fmt: skip
    site = _one_of("Site", BAD_SITE)
    user = _typed_code(
        "Person", "Their user id, such as demo.coordinator", is_user_id, USER_TOO_LONG, BAD_USER,
        autocapitalize="none", list="people",
    )  # fmt: skip
    kind = _one_of("Kind of record", BAD_KIND)
    action = _one_of("Action", BAD_ACTION)
    first = _recording_day("Recorded from", "from")
    last = _recording_day("Recorded to", "to")
    size = _one_of("Rows per page", BAD_SIZE, default="50", choices=PAGE_SIZES)
    page = StringField(
        "Page",
        default="1",
        filters=[shown_as_typed],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )

    def __init__(
        self, formdata: Any, *, sites: Sequence[str], subject_page: bool, format_asked: str
    ) -> None:
        super().__init__(formdata=formdata, meta={"csrf": False})
        self.site.choices = _choices(ANY_SITE, sites)
        self.kind.choices = _choices(ANY_KIND, KINDS)
        self.action.choices = _choices(ANY_ACTION, ACTIONS)
        self.subject_page = subject_page
        self.format_asked = shown_as_typed(format_asked or "html")
        if subject_page:
            del self.subject
            del self.site

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields, then the format asked for (an error of the whole form)."""
        valid = bool(super().validate(extra_validators))
        if self.format_asked not in FORMATS:
            self.form_errors.append(BAD_FORMAT)
            return False
        return valid

    def validate_last(self, field: Any) -> None:
        first, last = self.first.data, field.data
        if first and last and is_day(first) and is_day(last) and first > last:
            raise ValidationError(DATES_REVERSED)

    def validate_page(self, field: Any) -> None:
        value = field.data or "1"
        if value == ALL_ROWS:
            if self.format_asked != "csv":
                raise ValidationError(ALL_ROWS_AS_CSV)
            return
        check_page_number(value)

    def filters(self, subject: str | None) -> AuditFilter:
        """The filter the valid form asks for (``subject`` on a subject's own page)."""
        return AuditFilter(
            subject=subject if self.subject_page else self.subject.data or None,
            site=None if self.subject_page else self.site.data or None,
            user_id=self.user.data or None,
            kind=self.kind.data or None,
            action=self.action.data or None,
            period=Period(_day(self.first.data), _day(self.last.data)),
        )

    def every_row(self) -> bool:
        """Whether every row is asked for (``page=all``, a CSV)."""
        return bool(self.page.data == ALL_ROWS)

    def page_number(self) -> int:
        return 1 if self.every_row() else int(self.page.data or "1")

    def page_size(self) -> int:
        return int(self.size.data or "50")

    def check_against(self, shown: AuditTrailPage, subjects: Sequence[str]) -> None:
        """What only the trail can tell: a subject the person does not read (said exactly as
        one that does not exist), and a page past the last."""
        if not self.subject_page and shown.filters.subject not in (None, *subjects):
            self.subject.errors = [SUBJECT_NOT_READ]
        elif not shown.exists:
            self.page.errors = [NO_SUCH_PAGE]

    def query(self) -> dict[str, str]:
        """The form's values as the page's URL carries them (``from``, ``to``...)."""
        return {field.name: str(field.data or "") for field in self}


class NewSubjectForm(FlaskForm):
    """``/subjects/screen``: a new subject's code, asked before its screening's form (a
    question, asked by GET: no CSRF token)."""

    class Meta:
        csrf = False

    code = _typed_code(
        "The new subject's code", "Its study code, such as RP-01", is_code, SUBJECT_TOO_LONG,
        BAD_SUBJECT, autocapitalize="characters",
    )  # fmt: skip

    def validate_code(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(BAD_SUBJECT)


CHECKPOINT_SIZE = 64 * 1024
"""The largest checkpoint taken: one is a few hundred bytes, with a hundred cosignatures 16 KiB."""


class KeptCheckpointForm(FlaskForm):
    """``/verify``: a checkpoint the person kept elsewhere, pasted or as its file."""

    checkpoint = TextAreaField(
        "Paste the checkpoint",
        description="The signed note as 'sealtrail checkpoint' printed it, its signatures too",
        render_kw={"rows": 7, "spellcheck": "false", "autocapitalize": "none"},
    )
    checkpoint_file = FileField("Or choose its file")

    def note(self) -> str | None:
        """The checkpoint given (its file if one was chosen), or None if neither was.

        Raises:
            CheckpointMalformed: the file is too large or not UTF-8 text.
        """
        upload = self.checkpoint_file.data
        if upload:
            raw = upload.read(CHECKPOINT_SIZE + 1)
            if len(raw) > CHECKPOINT_SIZE:
                raise CheckpointMalformed(
                    "a checkpoint has at most %(checkpoint_size)s bytes",
                    checkpoint_size=CHECKPOINT_SIZE,
                )
            try:
                return str(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise CheckpointMalformed("a signed note is UTF-8 text") from None
        # A browser sends a textarea's line breaks as CRLF (HTML's form encoding); a note's are LF.
        text = str(self.checkpoint.data or "").replace("\r\n", "\n")
        return text if text.strip() else None


class EventPositionForm(FlaskForm):
    """``/verify?position=N``: the event to check (a question, asked by GET: no CSRF token)."""

    class Meta:
        csrf = False

    position = StringField(
        "Log position",
        description="The event's position in the log, as its receipt and the audit trail give it",
        validators=[
            InputRequired("Enter a log position"),
            Regexp(r"^[1-9][0-9]{0,17}$", message="A log position is a whole number from 1"),
        ],
        render_kw={"inputmode": "numeric", "spellcheck": "false"},
    )


ANY_STATUS = "Any status"
WHOLE_RECORD = "The whole record"
MISSING = "Fill this in: it is part of what you sign"
BAD_STATUS = "Choose one of the statuses listed"
BAD_AGE = "Enter a number of days, such as 7"
LONGEST_AGE = 100_000
"""No query has been open 100,000 days (274 years): a larger number is a mistake, said as one."""
QUERY_ORDERS = {
    "subject": "Subject and query",
    "status": "Status, then the longest open first",
    "age": "The longest open first",
}
"""How ``/queries`` may be ordered (``?order=``), and what each is called on the page."""
BAD_ORDER = "Choose one of the orders listed"
QUERY_FILTER_MESSAGES = (ANY_STATUS, BAD_STATUS, BAD_AGE, BAD_ORDER, WHOLE_RECORD, MISSING)
"""What the query list's filters say of bad input, the query forms' empty choice, and what a
signed form says of a text left out of the body."""


def check_page_number(value: str) -> None:
    """A page number typed: whole, from 1, below :data:`LAST_PAGE_ASKED`.

    Raises:
        ValidationError: what is wrong with it, in the field's words.
    """
    if not (value.isascii() and value.isdigit()):
        raise ValidationError(BAD_PAGE)
    # Read the digits' count first: int() of a few thousand digits is refused (and slow).
    if len(value.lstrip("0")) > len(str(LAST_PAGE_ASKED)) or int(value) > LAST_PAGE_ASKED:
        raise ValidationError(NO_SUCH_PAGE)
    if int(value) < 1:
        raise ValidationError(PAGE_BELOW_ONE)


def is_age(text: str) -> bool:
    """Whether ``text`` is a whole number of days, 0 to :data:`LONGEST_AGE`."""
    digits = text.lstrip("0") or "0"
    return text.isascii() and text.isdigit() and len(digits) <= 6 and int(digits) <= LONGEST_AGE


class QueryFilterForm(FlaskForm):
    """``/queries``' filters: a GET form whose values are the page's URL (asking for a list
    changes nothing, so no CSRF token). ``sites`` are the person's to choose from."""

    class Meta:
        csrf = False

    status = _one_of("Status", BAD_STATUS)
    site = _one_of("Site", BAD_SITE)
    subject = _typed_code(
        "Subject", "Its study code, such as RP-01", is_code, SUBJECT_TOO_LONG, BAD_SUBJECT,
        autocapitalize="characters",
    )  # fmt: skip
    days = StringField(
        "Open at least (days)",
        description="Queries open this many days or more",
        filters=[shown_as_typed],
        validators=[_matching(is_age, BAD_AGE)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    order = SelectField(
        "Order",
        choices=[SelectChoice(key, said) for key, said in QUERY_ORDERS.items()],
        default="subject",
        filters=[shown_as_typed],
        invalid_choice_message=BAD_ORDER,
    )
    size = _one_of("Queries per page", BAD_SIZE, default="50", choices=PAGE_SIZES[:-1])
    page = StringField(
        "Page",
        default="1",
        filters=[shown_as_typed],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )

    def __init__(self, formdata: Any, *, statuses: Sequence[str], sites: Sequence[str]) -> None:
        super().__init__(formdata=formdata)
        self.status.choices = _choices(ANY_STATUS, statuses)
        self.site.choices = _choices(ANY_SITE, sites)
        self.order.choices = [
            SelectChoice(key, gettext(said)) for key, said in QUERY_ORDERS.items()
        ]

    def least_days(self) -> int:
        """The fewest days open a listed query has (0: any)."""
        return int(self.days.data or "0")

    def page_number(self) -> int:
        return int(self.page.data or "1")

    def page_size(self) -> int:
        return int(self.size.data or "50")

    def query(self) -> dict[str, str]:
        """The form's values as the page's URL carries them."""
        return {field.name: str(field.data or "") for field in self}

    def validate_page(self, field: Any) -> None:
        check_page_number(field.data or "1")


STUDY_PACKET = "study"
"""The build form's choice of the whole study's packet (any other choice is a site's code)."""


class PacketBuildForm(FlaskForm):
    """``/packets/build``: which packet (the whole study's, or a site's own copy), and whether
    to draw its PDFs, the choices of ``POST /v1/packets``. ``choices`` are what the person may
    build; anything else sent is refused by the service as over the API (403)."""

    packet = RadioField(
        "Which packet",
        validators=[InputRequired("Choose which packet to build")],
        validate_choice=False,
    )
    documents = BooleanField(
        "Draw the PDFs too (the audit trail, the CONEP reports)",
        description="The slowest part: about half a minute more for the whole study",
    )

    def __init__(self, choices: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.packet.choices = list(choices)

    def validate_packet(self, field: Any) -> None:
        if field.data != STUDY_PACKET and not is_code(str(field.data)):
            raise ValidationError("Choose which packet to build")

    def site(self) -> str | None:
        """The site whose own copy is asked for; None for the whole study's packet."""
        return None if self.packet.data == STUDY_PACKET else str(self.packet.data)


SERVER_KEY_LENGTH = 200
"""The longest server key given: its ``ed25519:`` id or its public key's base64 is under 70."""


class PacketCheckForm(FlaskForm):
    """``/packets``: a packet to verify, as ``sealtrail packet verify`` does, and the options of
    that command: the server key to require and whether to draw the PDFs again."""

    packet_file = FileField(
        "The packet",
        description="The zip that 'sealtrail packet build', POST /v1/packets or this page gave",
    )
    server_key = StringField(
        "The log's server key, if you know it",
        description="Its ed25519:... id or its public key, as you know it from elsewhere: the "
        "packet's own key must be it",
        filters=[shown_as_typed],
        validators=[Length(max=SERVER_KEY_LENGTH, message="A server key is shorter than that")],
        render_kw={"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off"},
    )
    documents = BooleanField(
        "Draw the PDFs again and compare them",
        description="Slower; without, each PDF is checked by its SHA-256 in the manifest",
    )


QUERY_TEXT_LENGTH = 10_000
"""The longest question, answer or resolution the form takes (a query asks one thing)."""


def kept_as_typed(value: object) -> object:
    """What was typed in a text of several lines, kept for the person to correct: each control
    character but the line breaks shown as U+FFFD (:func:`shown_as_typed`)."""
    if not isinstance(value, str):
        return value
    return "".join(
        c if c in "\r\n" else "\ufffd" if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in value
    )


def _signed_text(label: str, description: str, item: str) -> TextAreaField:
    """A text the person types and signs: sign-form.js puts it in the body's ``data`` as
    ``item`` before signing; the form carries it too, to show it again on a refusal."""
    return TextAreaField(
        label,
        description=description,
        filters=[kept_as_typed],
        validators=[Length(max=QUERY_TEXT_LENGTH)],
        render_kw={"rows": 5, "required": True, "data-signed-item": item},
    )


class RaiseQueryForm(SignedBodyForm):
    """A monitor's query about a record: the field asked about (or the whole record), and the
    question. ``fields`` are the record's own."""

    item = SelectField(
        "The field asked about",
        description="Or the whole record",
        filters=[shown_as_typed],
        render_kw={"data-signed-item": "item"},
        validate_choice=False,
    )
    question = _signed_text("Your question", "What the site should check or explain", "question")

    def __init__(self, *, fields: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item.choices = _choices(WHOLE_RECORD, fields)


class AnswerQueryForm(SignedBodyForm):
    """The site's answer to a query."""

    answer = _signed_text(
        "Your answer", "A correction, if one is needed, is its own record", "answer"
    )


class CloseQueryForm(SignedBodyForm):
    """The monitor's closing of a query: what resolved it."""

    resolution = _signed_text(
        "What resolved the query", "The answer, or the correction made", "resolution"
    )
