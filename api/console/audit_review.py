"""``sealtrail report audit-review``: what a reviewer of the audit trail must look at.

Per site and person, for a period of recording dates: entries outside the site's working
hours, late or backdated entries, correction and void rates, serious adverse events past their
clock, logins after long silence, and records changed after a signature. Run by an auditor or
a sponsor data manager (``--as``); as text on a terminal, or CSV or JSON (``--format``), on
stdout or into ``--out``.

With ``--conclusion`` and ``--key`` the reviewer also records their review of what the report
shows: a signed ``AuditTrailReviewed`` on their own account (the period, the findings' count and
SHA-256, the conclusion), signed with their own key as the console's administration is. Without
``--from``, a report begins the day after the latest recorded review ended.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from api.console.command import one_line_errors, store_command
from api.console.exits import UsageError
from api.console.handing_out import print_copy, write_copy
from api.console.people import console_person, person_option, signatory
from api.console.report_options import DATE, OUT, day
from domain.actions import Action
from domain.disclosure import AUDIT_REVIEW, Scope
from domain.permissions import check_may
from infrastructure.application.commands import ReviewAuditTrail, Signatory
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import audit_review
from projections.audit_review import FINDING_COLUMNS, AuditReview
from projections.csv_file import csv_bytes


@click.command("audit-review")
@click.option("--study", help="The study (default: the one this store serves).")
@click.option("--site", help="One site's findings (default: every site's).")
@click.option("--from", "first", type=DATE, help="First recording date (site calendar).")
@click.option("--to", "last", type=DATE, help="Last recording date (site calendar).")
@click.option(
    "--format", "form", type=click.Choice(["text", "csv", "json"]), default="text",
    show_default=True,
)  # fmt: skip
@click.option("--out", type=OUT, help="The file to write (default: stdout).")
@click.option("--conclusion", help="Record your review of these findings, concluding this.")
@click.option(
    "--key", "signing_key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your Ed25519 private key (PEM), which signs the review (with --conclusion).",
)  # fmt: skip
@person_option()
@one_line_errors
@store_command
def audit_review_report(
    store: Store,
    study: str | None,
    site: str | None,
    first: datetime | None,
    last: datetime | None,
    form: str,
    out: Path | None,
    conclusion: str | None,
    signing_key: Path | None,
    acting_as: str,
) -> None:
    """What a reviewer of the audit trail must look at, per site and person (auditors and
    sponsor data managers); with --conclusion and --key, record your review of it."""
    # Here, not at the top: the API's schemas bring marshmallow, and `sealtrail report` loads
    # this module with every other report, which do without.
    from api.schemas.fields import is_code

    if site is not None and not is_code(site):
        raise click.BadParameter(f"{site!r} is not a site code", param_hint="--site")
    if (conclusion is None) != (signing_key is None):
        raise UsageError("--conclusion and --key go together: the review is signed with your key")
    reviewer = None if signing_key is None else signatory(store, acting_as, signing_key)
    person = console_person(store, acting_as) if reviewer is None else store.app.account(acting_as)
    check_may(person, Action.REVIEW_AUDIT_TRAIL)
    review = audit_review(store.reads, study, day(first), day(last), site)
    if reviewer is not None and conclusion is not None:
        record_review(store, review, conclusion, reviewer)
    content = rendered(review, form)
    scope = Scope(review.study, site=review.site)
    if out is None:
        print_copy(store, person, AUDIT_REVIEW, scope, content)
        return
    write_copy(store, person, AUDIT_REVIEW, scope, content.encode("utf-8"), out)


def record_review(store: Store, review: AuditReview, conclusion: str, reviewer: Signatory) -> None:
    """Sign and record the reviewer's review of exactly these findings; say so on stderr."""
    store.administration.review_audit_trail(
        ReviewAuditTrail(user_id=reviewer.user_id, review=review, conclusion=conclusion),
        by=reviewer,
    )
    click.echo(
        f"{reviewer.user_id} recorded their review of {len(review.findings)} findings "
        f"({review.period.first or 'from the start'} to {review.period.last})",
        err=True,
    )


def rendered(review: AuditReview, form: str) -> str:
    """The review as text, CSV (one row per finding) or one JSON document."""
    if form == "json":
        import json

        return json.dumps(review.as_dict(), indent=2, sort_keys=True) + "\n"
    if form == "csv":
        rows = (finding.as_text() for finding in review.findings)
        return csv_bytes(FINDING_COLUMNS, rows).decode("utf-8")
    return review_text(review)


def review_text(review: AuditReview) -> str:
    """The review for a terminal: each person's counts and rates, then each finding."""
    document = review.as_dict()
    period = document["period"]
    scope = f"site {review.site}" if review.site else "every site"
    lines = [
        f"Audit-trail review of {review.study}, {scope}, recorded "
        f"{period['from'] or 'from the start'} to {period['to'] or 'today'}",
        f"{len(review.findings)} findings, SHA-256 {review.findings_sha256}",
        "",
        f"{'site':<6} {'user':<16} {'entries':>7} {'corr.':>5} {'voids':>5} {'corr.%':>6} "
        f"{'void%':>6} {'logins':>6}  findings",
    ]
    for person in document["people"]:
        flags = ", ".join(f"{name} {count}" for name, count in person["findings"].items())
        lines.append(
            f"{person['site'] or '-':<6} {person['user_id']:<16} {person['entries']:>7} "
            f"{person['corrections']:>5} {person['voids']:>5} "
            f"{person['correction_rate_percent'] or '-':>6} "
            f"{person['void_rate_percent'] or '-':>6} "
            f"{person['logins']:>6}  {flags or '-'}"
        )
    if review.findings:
        lines.append("")
    for finding in review.findings:
        where = f"{finding.subject} entry {finding.entry}" if finding.subject else finding.kind
        at = f" (position {finding.position})" if finding.position else ""
        lines.append(
            f"{finding.site or '-'} {finding.user_id} {finding.flag.value}: {where or 'all'}{at}"
        )
        lines.append(f"    {finding.detail}")
    return "\n".join(lines) + "\n"
