"""``sealtrail report ...``: reports computed from the log's projections.

Every report that writes a file prints only the path it wrote on stdout; progress, when there
is a terminal, goes to stderr. Each is run by a person (``--as``, with their password) whose
role allows it: the outcome table and the audit trail are clinical data (every site's for the
study, one site's for one subject); the CONEP reports are the sponsor's regulatory reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from api.console.people import console_person, person_option
from api.console.progress import progress
from api.schemas.fields import is_code
from domain.permissions import Action, check_may, readable_subject
from domain.subject import subject_stream
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import served_study, study_outcomes
from projections.audit_trail import Period

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def register(main: click.Group, one_line_errors: Decorator, store_command: Decorator) -> None:
    """Add the ``report`` group to the command line."""

    @main.group()
    def report() -> None:
        """Reports computed from the log (never typed by hand)."""

    @report.command()
    @click.option("--study", help="The study (default: the one this store serves).")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
    @person_option()
    @one_line_errors
    @store_command
    def outcomes(store: Store, study: str | None, as_json: bool, acting_as: str) -> None:
        """The publication's outcome measures, computed from the events."""
        check_may(console_person(store, acting_as), Action.READ_CLINICAL_DATA)
        table = study_outcomes(store.views, study)
        if as_json:
            click.echo(json.dumps(table, indent=2, sort_keys=True))
            return
        click.echo(outcome_text(table))

    _register_documents(report, one_line_errors, store_command)


def outcome_text(table: dict[str, Any]) -> str:
    """The outcome table for a terminal: computed figure, published figure, sources."""
    heading = f"Outcome measures of {table['study']} ({table['subjects']} subjects)"
    lines = [heading]
    if table["synthetic"]:
        lines.append("SYNTHETIC demonstration data: no person stands behind these records.")
    if table["publication"]:
        lines.append(f"Published: {table['publication']}")
    lines.append("")
    width = max(len(m["label"]) for m in table["measures"])
    lines.append(f"{'measure':<{width}}  {'computed':>10}  {'published':<12}  sources")
    for measure in table["measures"]:
        value = "-" if measure["value"] is None else str(measure["value"])
        published = measure["published"] or "-"
        lines.append(
            f"{measure['label']:<{width}}  {value:>10}  {published:<12}  "
            f"{len(measure['sources'])} records"
        )
        if measure.get("causes"):
            lines.append(f"{'':<{width}}  causes: {', '.join(measure['causes'])}")
    return "\n".join(lines)


# infrastructure.documents (matplotlib, reportlab, pyHanko) is imported by the commands that
# draw documents, so that every other command starts without it.
DATE = click.DateTime(formats=["%Y-%m-%d"])
OUT = click.Path(dir_okay=False, writable=True, path_type=Path)
CHART_DPI = click.option(
    "--chart-dpi",
    type=click.IntRange(30, 600),
    default=150,
    show_default=True,
    hidden=True,
    help="Resolution of the charts in a PDF.",
)


@contextmanager
def _progress(length: int, label: str) -> Iterator[Callable[[int], None]]:
    """Subjects done so far, reported on stderr (api.console.progress)."""
    with progress(label, length) as shown:
        yield shown.reach


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


def _register_documents(
    report: click.Group, one_line_errors: Decorator, store_command: Decorator
) -> None:
    @report.command("audit-trail")
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
        from infrastructure.documents import renderings
        from infrastructure.documents import reports as documents

        period = Period(_day(first), _day(last))
        if period.first and period.last and period.first > period.last:
            raise click.BadParameter("--from is after --to", param_hint="--from")
        reader = console_person(store, acting_as)
        study_id = served_study(study)
        if subject is None:
            check_may(reader, Action.READ_CLINICAL_DATA)  # every site's subjects
            codes = documents.subject_codes(store, study_id)
        else:
            # another site's subject reads as none at all, as on the API
            readable_subject(
                reader, subject_stream(study_id, subject), store.app.find_subject,
                lambda found: found.site, names_a_subject=is_code(subject),
            )  # fmt: skip
            codes = [subject]
        with _progress(len(codes), "audit trail: reading") as shown:
            rows = documents.audit_trail_rows(store, study_id, codes, period, shown)
        if form == "csv":
            content = renderings.audit_trail_csv(rows)
        else:
            checkpoint = documents.covering_checkpoint(store)
            if form == "json":
                synthetic = any(
                    documents.load_subject(store, study_id, code).synthetic for code in codes
                )
                content = renderings.audit_trail_json(
                    rows,
                    study=study_id,
                    codes=codes,
                    period=period,
                    tie=documents.log_tie(store, checkpoint),
                    synthetic=synthetic,
                    generated_at=datetime.now(UTC),
                )
            else:
                with _progress(len(codes), "audit trail: drawing") as shown:
                    content = documents.audit_trail_pdf(
                        store,
                        rows,
                        study=study_id,
                        codes=codes,
                        period=period,
                        checkpoint=checkpoint,
                        chart_dpi=chart_dpi,
                        progress=shown,
                    )
        click.echo(documents.write_file(out, content))

    @report.command("conep-sae")
    @click.option(
        "--event",
        "event_id",
        required=True,
        help="SUBJECT/AE (e.g. RP-03/AE-02), optionally STUDY/SUBJECT/AE.",
    )
    @click.option("--out", type=OUT, required=True, help="The file to write.")
    @click.option("--format", "form", type=click.Choice(["pdf", "json"]), default="pdf")
    @click.option(
        "--date", "on", type=DATE, help="Date of this report (default: today at the site)."
    )
    @click.option(
        "--follow-up/--initial",
        "follow_up",
        default=None,
        help="Default: a follow-up when a notification of the event is recorded.",
    )
    @CHART_DPI
    @person_option()
    @one_line_errors
    @store_command
    def conep_sae(
        store: Store,
        event_id: str,
        out: Path,
        form: str,
        on: datetime | None,
        follow_up: bool | None,
        chart_dpi: int,
        acting_as: str,
    ) -> None:
        """The CONEP notification of one serious adverse event (CIOMS I data elements)."""
        from infrastructure.documents import reports as documents

        check_may(console_person(store, acting_as), Action.BUILD_REPORTS_AND_PACKETS)

        content, subject = documents.sae_document(
            store, event_id, report_date=_day(on), follow_up=follow_up
        )
        if form == "json":
            data = (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        else:
            data = documents.conep_pdf(
                store,
                content,
                study=subject.study_id,
                checkpoint=documents.covering_checkpoint(store),
                subject=subject,
                chart_dpi=chart_dpi,
            )
        click.echo(documents.write_file(out, data))

    @report.command("conep-progress")
    @click.option("--study", help="The study (default: the one this store serves).")
    @click.option("--out", type=OUT, required=True, help="The file to write.")
    @click.option("--final", is_flag=True, help="The final report (default: a partial one).")
    @click.option("--format", "form", type=click.Choice(["pdf", "json"]), default="pdf")
    @click.option(
        "--date", "on", type=DATE, help="Date of this report (default: today at the site)."
    )
    @person_option()
    @one_line_errors
    @store_command
    def conep_progress(
        store: Store,
        study: str | None,
        out: Path,
        final: bool,
        form: str,
        on: datetime | None,
        acting_as: str,
    ) -> None:
        """The partial or final progress report to CONEP (Res. CNS 466/2012 XI.2(d))."""
        from infrastructure.documents import reports as documents

        check_may(console_person(store, acting_as), Action.BUILD_REPORTS_AND_PACKETS)

        content = documents.progress_document(store, study, final=final, report_date=_day(on))
        if form == "json":
            data = (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        else:
            data = documents.conep_pdf(
                store,
                content,
                study=served_study(study),
                checkpoint=documents.covering_checkpoint(store),
            )
        click.echo(documents.write_file(out, data))
