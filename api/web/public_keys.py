"""A person's public key as an administrator gives it on the pages (pasted, or its file opened):
read as ``sealtrail key register --public-key FILE`` reads it, its key id and raw form derived
by the same functions (:mod:`signatures.keys`), for the body the administrator then signs.

A private key given by mistake is refused and never shown again: it has reached the server,
and the person should make a new pair.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm

from api.web.account_forms import PUBLIC_KEY_LENGTH
from api.web.wording import gettext as _
from signatures.errors import KeyFormatError
from signatures.keys import key_id, public_key_from_text, public_key_to_text

PRIVATE_KEY_MARK = "PRIVATE KEY"
UNREADABLE = "-"
"""What a file that holds no text a key is read from reads as: no key."""


def public_key_fields(form: FlaskForm) -> dict[str, Any] | None:
    """``key_id`` and ``public_key`` (base64 of the raw key) of the key ``form`` holds (its
    file if one was opened, else what was pasted); None, with the reason on the field, when
    the form is not valid or holds no Ed25519 public key. The field then holds the key's
    base64, carried to the signing step."""
    field = form.public_key
    if not form.validate():
        return None
    opened = _opened(form)
    text = opened if opened is not None else field.data or ""
    if PRIVATE_KEY_MARK in text:
        field.data = ""
        field.errors = [
            _(
                "This is a private key: it must never leave its owner. Give the public key "
                "(.pub.pem), and have the person make a new pair, since this one was sent here"
            )
        ]
        return None
    if not text.strip():
        field.errors = [_("Paste the person's public key, or open its file")]
        return None
    try:
        parsed = public_key_from_text(text)
    except (KeyFormatError, UnicodeError, ValueError):
        field.errors = [_("This is not an Ed25519 public key (a .pub.pem file, or its base64)")]
        return None
    field.data = public_key_to_text(parsed)
    return {"key_id": key_id(parsed), "public_key": field.data}


def _opened(form: FlaskForm) -> str | None:
    """The text of the public key file opened, if one was (a file too large or not ASCII: a
    text no key is read from)."""
    opened = form.public_key_file.data
    if opened is None or not getattr(opened, "filename", ""):
        return None
    content = opened.stream.read(PUBLIC_KEY_LENGTH + 1)
    if len(content) > PUBLIC_KEY_LENGTH:
        return UNREADABLE
    try:
        return str(content.decode("ascii"))
    except UnicodeDecodeError:
        return UNREADABLE
