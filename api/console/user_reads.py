"""``sealtrail user list``, ``show``, ``attempts`` and ``copies``: accounts, their history, the
authentication log and the disclosure log, read by an administrator or an auditor (``--as``,
with their password).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import click

from api.console.administration import read_by_reader
from domain.account import Account
from domain.attribution import signer_of
from domain.disclosure import ACCOUNT_HISTORY, ACCOUNTS, AUTHENTICATION_LOG, DISCLOSURE_LOG
from domain.wire import instant_to_wire
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import served_study

# The API's wire documents (api.schemas, with marshmallow) are imported by the reads that print
# them, not here: every ``user`` command imports this module, and ``user train`` prints none.


def account_line(account: Account) -> str:
    """One line per account for ``user list``."""
    role = account.role.value if account.role else "no role"
    if account.role_until is not None:
        lapsed = account.role_lapsed(datetime.now(UTC))
        role += f" ({'lapsed' if lapsed else 'until'} {instant_to_wire(account.role_until)})"
    elif account.role is not None and account.effective_role is None:
        role += " (awaiting training)"
    state = " LOCKED" if account.locked else ""
    sites = ",".join(account.sites) or "-"
    return f"{account.user_id}\t{role}\t{sites}\t{account.printed_name}{state}"


@click.command("list")
@read_by_reader(ACCOUNTS)
def user_list(store: Store, as_json: bool) -> str:
    """Every account, its role, sites and whether it is locked."""
    accounts = store.reads.accounts()
    if as_json:
        from api.schemas.accounts import account_document

        documents = [
            account_document(a, store.access.password_expires_at(a.user_id)) for a in accounts
        ]
        return json.dumps(documents, indent=2) + "\n"
    return lines(account_line(account) for account in accounts)


@click.command("show")
@click.argument("user_id")
@read_by_reader(ACCOUNT_HISTORY)
def user_show(store: Store, user_id: str, as_json: bool) -> str:
    """An account and its history: who had which access when, and who signed each change."""
    account = store.app.account(user_id)
    history = [
        {
            "position": record.position,
            "recorded_at": instant_to_wire(record.event.recorded_at),
            "kind": record.event.kind(),
            "data": record.event.signed_data(),
            "signed_by": signer_of(record.event.authorship.body()).user_id,
        }
        for record in store.reads.account_history(user_id)
    ]
    if as_json:
        from api.schemas.accounts import account_document

        expires = store.access.password_expires_at(account.user_id)
        document = {**account_document(account, expires), "history": history}
        return json.dumps(document, indent=2) + "\n"
    return lines(
        [account_line(account)]
        + [
            f"{entry['recorded_at']}\t{entry['kind']}\t"
            f"{json.dumps(entry['data'], sort_keys=True)}\tby {entry['signed_by']}"
            for entry in history
        ]
    )


@click.command("attempts")
@click.argument("user_id", required=False)
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@read_by_reader(AUTHENTICATION_LOG)
def user_attempts(store: Store, user_id: str | None, limit: int, as_json: bool) -> str:
    """The authentication log, newest first: every success and failure."""
    attempts = store.access.attempts(user_id, limit)
    rows = [
        {
            "user_id": attempt.user_id,
            "occurred_at": instant_to_wire(attempt.occurred_at),
            "channel": attempt.channel,
            "outcome": attempt.outcome,
            "detail": attempt.detail,
        }
        for attempt in attempts
    ]
    return rows_text(rows, as_json)


@click.command("copies")
@click.argument("user_id", required=False)
@click.option("--subject", help="Only copies holding this subject's data, e.g. RP-02.")
@click.option("--study", help="The study (default: the one this store serves).")
@read_by_reader(DISCLOSURE_LOG)
def user_copies(
    store: Store, user_id: str | None, subject: str | None, study: str | None, as_json: bool
) -> str:
    """The disclosure log, oldest first: every report, replay, packet and export handed out,
    to whom, of what, and its SHA-256."""
    from api.schemas.disclosures import disclosure_view

    copies = store.disclosures.listed(served_study(study), user_id=user_id, subject=subject)
    return rows_text([disclosure_view(copy) for copy in copies], as_json)


def rows_text(rows: list[dict[str, Any]], as_json: bool) -> str:
    """Rows as one JSON document, or a line each, their values separated by tabs."""
    if as_json:
        return json.dumps(rows, indent=2) + "\n"
    return lines("\t".join(str(row[name]) for name in row) for row in rows)


def lines(each: Iterable[str]) -> str:
    """Lines as printed: each ends with a newline."""
    return "".join(f"{line}\n" for line in each)
