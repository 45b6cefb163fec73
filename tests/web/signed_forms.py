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
        self.body: dict[str, Any] = json.loads(html.unescape(found.group(1)))
        token = CSRF_FIELD.search(page)
        assert token is not None
        self.csrf_token = token.group(1)

    def signed(self, person: Person, typed: dict[str, str], **changes: Any) -> dict[str, str]:
        """The form as sign-form.js sends it: what was typed, put in the body's data too (left
        out when empty), the key id and the signer's time added, the body signed."""
        body = {
            **self.body,
            "data": {**self.body["data"], **{k: v for k, v in typed.items() if v != ""}},
            "key_id": person.key_id,
            "signed_at": instant_to_wire(datetime.now(UTC)),
            **changes,
        }
        signature = sign_body(person.private_key, body)[1]
        return {
            **typed,
            "csrf_token": self.csrf_token,
            "body": json.dumps(body),
            "signature": signature,
        }
