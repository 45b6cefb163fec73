"""What a site's signed event and an administrator's signed change have in common: how the
body names its signature, and its ``data`` checked against the schema of its ``kind``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import marshmallow as ma

from api.schemas.fields import KEY_ID, Instant, PlainString
from domain.attribution import MEANINGS


def signed_body_fields(
    kinds: Iterable[str], signer: type[ma.Schema]
) -> tuple[PlainString, ma.fields.Dict, ma.fields.Nested, PlainString, Instant, PlainString]:
    """``kind`` (one of ``kinds``), ``data``, ``signer`` (as ``signer`` has it), ``key_id``,
    ``signed_at`` and ``meaning``, in that order: what the body records, who signs it with
    which key, when, and meaning what (21 CFR 11.50)."""
    return (
        PlainString(required=True, validate=ma.validate.OneOf(sorted(kinds))),
        ma.fields.Dict(required=True, metadata={"description": "Fields of the kind"}),
        ma.fields.Nested(signer, required=True),
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
