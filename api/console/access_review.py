"""``sealtrail user review`` and ``sealtrail report access-review``: the periodic review of who
has which access, and the report of what is due.

A review is signed with the reviewer's own key (``--as``, ``--key``, like every change of an
account) and names each account in its scope as it stands: every account for an administrator
(or one site's, ``--site``), the site's accounts for its investigator. The report is read by an
administrator or an auditor.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from api.console.administration import Administrator, administered_change, read_by_reader
from domain.disclosure import ACCESS_REVIEW
from infrastructure.application.commands import ReviewAccess
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import access_review


@click.command("review")
@click.option("--site", help="The site reviewed (an investigator's own); default: every site")
@click.option(
    "--change",
    "changes",
    multiple=True,
    help="A change decided, in words (repeatable); none: all stays as it is",
)
@administered_change
def user_review(
    store: Store, site: str | None, changes: tuple[str, ...], administrator: Administrator
) -> None:
    """Record your review of who has which access (every account of the scope, as it stands)."""
    named = store.administration.review_access(
        ReviewAccess(site=site, changes=changes), by=administrator.signatory(store)
    )
    scope = f"site {site}" if site else "every site"
    click.echo(
        f"{administrator.user_id} reviewed the access of {named} accounts at {scope}; "
        f"{len(changes)} changes decided"
    )


@click.command("access-review")
@read_by_reader(ACCESS_REVIEW)
def access_review_report(store: Store, as_json: bool) -> str:
    """Accounts not reviewed within the protocol's period, and roles ending or lapsed."""
    report = access_review(store.reads, datetime.now(UTC))
    return (json.dumps(report, indent=2) if as_json else report_text(report)) + "\n"


def report_text(report: dict[str, Any]) -> str:
    """The report for a terminal: one line per account due, one per role ending."""
    lines = [
        f"Accounts not reviewed in the last {report['period_days']} days "
        f"(as of {report['as_of']}): {len(report['not_reviewed'])}"
    ]
    for due in report["not_reviewed"]:
        last = (
            f"last reviewed {due['last_reviewed_at']} by {due['last_reviewed_by']}"
            if due["last_reviewed_at"]
            else "never reviewed"
        )
        sites = ",".join(due["sites"]) or "-"
        lines.append(f"  {due['user_id']}\t{due['role'] or 'no role'}\t{sites}\t{last}")
    lines.append(
        f"Roles ended or ending within {report['lapse_warning_days']} days: "
        f"{len(report['roles_ending'])}"
    )
    for ending in report["roles_ending"]:
        state = "lapsed" if ending["lapsed"] else "lapses"
        lines.append(f"  {ending['user_id']}\t{ending['role']}\t{state} {ending['until']}")
    return "\n".join(lines)
