"""What a site's signed event and an administrator's signed change have in common: how the
body names its signature, and its ``data`` checked against the schema of its ``kind``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import marshmallow as ma

from api.schemas.fields import KEY_ID, SIGNATURE, Code, Instant, PlainString, StrictSchema, Text
from domain.attribution import MEANINGS


class SignerSchema(StrictSchema):
    """Who signs: the user id and the printed name shown with the signature (21 CFR 11.50)."""

    user_id = Code(required=True)
    printed_name = Text(max_length=200, required=True)


def signature_field() -> PlainString:
    """``signature``: the signer's Ed25519 signature (base64) over the body's canonical form."""
    return PlainString(required=True, validate=SIGNATURE)


def signed_body_fields(
    kinds: Iterable[str],
) -> tuple[PlainString, ma.fields.Dict, ma.fields.Nested, PlainString, Instant, PlainString]:
    """``kind`` (one of ``kinds``), ``data``, ``signer``, ``key_id``,
    ``signed_at`` and ``meaning``, in that order: what the body records, who signs it with
    which key, when, and meaning what (21 CFR 11.50)."""
    return (
        PlainString(required=True, validate=ma.validate.OneOf(sorted(kinds))),
        ma.fields.Dict(required=True, metadata={"description": "Fields of the kind"}),
        ma.fields.Nested(SignerSchema, required=True),
        PlainString(required=True, validate=KEY_ID),
        Instant(required=True),
        PlainString(required=True, validate=ma.validate.OneOf(MEANINGS)),
    )


def check_data_fits(body: dict[str, Any], schema: ma.Schema | None) -> None:
    """Refuse ``data`` that ``schema`` (its kind's; none for an unknown kind, which the
    ``kind`` field refuses already) finds errors in, as errors of the ``data`` field."""
    if schema is None:
        return
    errors = schema.validate(body.get("data") or {})
    if errors:
        raise ma.ValidationError(errors, field_name="data")
