"""What the API and the console say of the disclosure log: who took which copy of what."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from api.schemas.fields import PlainString, StrictSchema, plain_strings
from domain.disclosure import Disclosure
from domain.wire import instant_to_wire


class DisclosureSchema(ma.Schema):
    """One copy of data handed out (ICH E6(R3) 4.2)."""

    user_id, what, scope, channel, sha256, handed_out_at, log_root = plain_strings(7)
    log_size = ma.fields.Integer()


class DisclosureQuerySchema(StrictSchema):
    """Filter of the disclosure log."""

    study = PlainString(validate=ma.validate.Length(min=1, max=100))
    user_id = PlainString(validate=ma.validate.Length(min=1, max=100))
    subject = PlainString(validate=ma.validate.Length(min=1, max=100))


def disclosure_view(copy: Disclosure) -> dict[str, Any]:
    """One row of the disclosure log, as both ways in show it."""
    return {
        "user_id": copy.user_id,
        "what": copy.what,
        "scope": str(copy.scope),
        "channel": copy.channel,
        "sha256": copy.sha256,
        "handed_out_at": instant_to_wire(copy.handed_out_at),
        "log_size": copy.log_size,
        "log_root": copy.log_root,
    }
