"""``sealtrail report audit-trail``: the Part 11 audit trail, as CSV, JSON or PDF.

One subject's (``--subject``) for a person who reads that subject's site; the whole study's
for an auditor or a sponsor data manager. Another site's subject reads as none at all, as on
the API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from api.console.command import one_line_errors, store_command
from api.console.handing_out import write_copy
from api.console.people import console_person, person_option
from api.console.report_options import CHART_DPI, DATE, OUT, day, subjects_done
from domain.account import Account
from domain.actions import Action
from domain.disclosure import AUDIT_TRAIL, Scope
from domain.permissions import check_may, readable_subject
from domain.subject import subject_stream
from infrastructure.application.audit_trail import audit_trail_rows
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import served_study
from projections.audit_trail import AuditRow, Period


@click.command("audit-trail")
@click.option("--study", help="The study (default: the one this store serves).")
@click.option("--subject", help="One subject's study code (default: every subject).")
@click.option("--from", "first", type=DATE, help="First recording date (site calendar).")
@click.option("--to", "last", type=DATE, help="Last recording date (site calendar).")
@click.option("--format", "form", type=click.Choice(["csv", "json", "pdf"]), required=True)
@click.option("--out", type=OUT, required=True, help="The file to write.")
@CHART_DPI
@person_option()
@one_line_errors
@store_command
def audit_trail(
    store: Store,
    study: str | None,
    subject: str | None,
    first: datetime | None,
    last: datetime | None,
    form: str,
    out: Path,
    chart_dpi: int,
    acting_as: str,
) -> None:
    """The Part 11 audit trail: every creation, correction and void, field by field.

    One subject's (--subject) for a person who reads that subject's site; the whole
    study's for an auditor or a sponsor data manager.
    """

    period = Period(day(first), day(last))
    if period.first and period.last and period.first > period.last:
        raise click.BadParameter("--from is after --to", param_hint="--from")
    study_id = served_study(study)
    reader = console_person(store, acting_as)
    codes = _readable_codes(store, reader, study_id, subject)
    with subjects_done(len(codes), "audit trail: reading") as shown:
        rows = audit_trail_rows(store.reads, study_id, codes, period, shown)
    content = _rendered(store, rows, form, study_id, codes, period, chart_dpi)
    scope = Scope(study_id, subject=subject)
    write_copy(store, reader, AUDIT_TRAIL, scope, content, out)


def _readable_codes(store: Store, reader: Account, study_id: str, subject: str | None) -> list[str]:
    """The subjects whose audit trail ``reader`` asked for, once they may read them."""
    # Here, not at the top, as in api.console.audit_review: the API's schemas bring marshmallow.
    from api.schemas.fields import is_code
    from infrastructure.documents import reports as documents

    if subject is None:
        check_may(reader, Action.READ_CLINICAL_DATA)  # every site's subjects
        return documents.subject_codes(store, study_id)
    # another site's subject reads as none at all, as on the API
    readable_subject(
        reader, subject_stream(study_id, subject), store.app.find_subject,
        lambda found: found.site, names_a_subject=is_code(subject),
    )  # fmt: skip
    return [subject]


def _rendered(
    store: Store,
    rows: list[AuditRow],
    form: str,
    study_id: str,
    codes: list[str],
    period: Period,
    chart_dpi: int,
) -> bytes:
    """The audit trail's rows as the file of ``form``: CSV, JSON or PDF."""
    from infrastructure.documents import renderings
    from infrastructure.documents import reports as documents

    if form == "csv":
        return renderings.audit_trail_csv(rows)
    checkpoint = documents.covering_checkpoint(store)
    if form == "json":
        synthetic = any(documents.load_subject(store, study_id, code).synthetic for code in codes)
        return renderings.audit_trail_json(
            rows,
            renderings.AuditTrailHead(
                study=study_id,
                codes=codes,
                period=period,
                tie=documents.log_tie(store, checkpoint),
                synthetic=synthetic,
                generated_at=datetime.now(UTC),
            ),
        )
    with subjects_done(len(codes), "audit trail: drawing") as shown:
        return documents.audit_trail_pdf(
            store,
            rows,
            study=study_id,
            codes=codes,
            period=period,
            checkpoint=checkpoint,
            chart_dpi=chart_dpi,
            progress=shown,
        )
