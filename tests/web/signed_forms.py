"""A page's signing form as the browser reads it and sends it (api/web/static/js/sign-form.js),
signed in Python with the person's real key: the body the page offers, what was typed put in
its data, the key id and the signer's time added, the canonical body signed."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any

from werkzeug.test import TestResponse

from domain.wire import instant_to_wire
from signatures.authorship import sign_body
from tests.conftest import Person
from tests.web.conftest import CSRF_FIELD, text

HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
"""A hidden field of the signing form (a first step's values, carried to the second)."""
SIGNED_FIELDS = ("csrf_token", "body", "signature")
BODY_BLOCK = re.compile(
    r'<script type="application/json" id="signing-body">(.*?)</script>', re.DOTALL
)


class SigningPage:
    """A page with a signing form, as the browser read it: its body to sign and CSRF token."""

    def __init__(self, answer: TestResponse) -> None:
        page = text(answer)
        assert answer.status_code == 200, page
        found = BODY_BLOCK.search(page)
        assert found is not None, page
        self.page = page
        self.body: Any = json.loads(html.unescape(found.group(1)))
        token = CSRF_FIELD.search(page)
        assert token is not None
        self.csrf_token = token.group(1)
        self.hidden: dict[str, Any] = {}
        for name, value in HIDDEN_FIELD.findall(page):
            if name in SIGNED_FIELDS:
                continue
            # A field carried once per value (a list of choices) is sent as the browser sends
            # it: each value under the same name.
            carried = self.hidden.get(name)
            value = html.unescape(value)
            self.hidden[name] = value if carried is None else [*_listed(carried), value]

    def signed(
        self,
        person: Person,
        typed: dict[str, str],
        computed: dict[str, Any] | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        """The form as sign-form.js sends it: what was typed, put in the body's data too (left
        out when empty), with what the script puts there itself (``computed``: a ticked box's
        true, the signer's time for a field left empty), the key id and the signer's time
        added, the body signed."""
        items = {k: v for k, v in typed.items() if v != ""}
        body = {
            **self.body,
            "data": {**self.body["data"], **items, **(computed or {})},
            "key_id": person.key_id,
            "signed_at": instant_to_wire(datetime.now(UTC)),
            **changes,
        }
        signature = sign_body(person.private_key, body)[1]
        return {
            **self.hidden,
            **typed,
            "csrf_token": self.csrf_token,
            "body": json.dumps(body),
            "signature": signature,
        }

    def signed_each(self, person: Person, **changes: Any) -> dict[str, Any]:
        """A form that offers a list of bodies (an account opened), as sign-form.js sends it:
        each body with the key id and the signer's time added and signed, the list of bodies
        and the list of signatures as JSON."""
        signed_at = instant_to_wire(datetime.now(UTC))
        bodies = [
            {**body, "key_id": person.key_id, "signed_at": signed_at, **changes}
            for body in self.body
        ]
        return {
            **self.hidden,
            "csrf_token": self.csrf_token,
            "body": json.dumps(bodies),
            "signature": json.dumps([sign_body(person.private_key, b)[1] for b in bodies]),
        }


def _listed(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]
