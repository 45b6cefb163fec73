"""The answer to a change that issued a one-time password (an account opened, a password
reset): the password shown once, on this answer alone, as ``sealtrail user add`` and
``sealtrail user reset-password`` print it once.

It is never put anywhere else: not in a redirect, a flashed message or the session cookie
(which the browser can read), not in a log, not in the disclosure log (this answer holds no
copy of the account, only what the change recorded); the server keeps only its hash
(:meth:`Administration.administer`). The answer is ``Cache-Control: no-store`` (as every answer
of the app but the assets), so neither the browser's history nor a cache keeps it; reloading it
sends the signed change again, which the log refuses (its version is taken), so the password is
not shown a second time.
"""

from __future__ import annotations

from flask import render_template

from api.web.signing import Administered


def one_time_password_page(user_id: str, administered: Administered) -> str:
    """The page that shows ``administered``'s one-time password for ``user_id``, once."""
    return render_template(
        "admin/one-time-password.html",
        user_id=user_id,
        receipts=administered.receipts,
        password=administered.one_time_password,
    )
