"""``sealtrail report conep-sae`` and ``conep-progress``: the sponsor's reports to CONEP, the
notification of a serious adverse event (CIOMS I data elements) and the partial or final
progress report (Res. CNS 466/2012 XI.2(d)), as PDF or JSON.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from api.console.command import one_line_errors, store_command
from api.console.handing_out import write_copy
from api.console.people import console_person, person_option
from api.console.report_options import CHART_DPI, DATE, OUT, day
from domain.actions import Action
from domain.disclosure import CONEP, Scope
from domain.permissions import check_may
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import served_study


@click.command("conep-sae")
@click.option(
    "--event",
    "event_id",
    required=True,
    help="SUBJECT/AE (e.g. RP-03/AE-02), optionally STUDY/SUBJECT/AE.",
)
@click.option("--out", type=OUT, required=True, help="The file to write.")
@click.option("--format", "form", type=click.Choice(["pdf", "json"]), default="pdf")
@click.option("--date", "on", type=DATE, help="Date of this report (default: today at the site).")
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

    builder = console_person(store, acting_as)
    check_may(builder, Action.BUILD_REPORTS_AND_PACKETS)

    content, subject = documents.sae_document(
        store, event_id, report_date=day(on), follow_up=follow_up
    )
    data = _conep_file(
        store, content, form, study=subject.study_id, subject=subject, chart_dpi=chart_dpi
    )
    scope = Scope(subject.study_id, subject=subject.subject_code)
    write_copy(store, builder, CONEP, scope, data, out)


@click.command("conep-progress")
@click.option("--study", help="The study (default: the one this store serves).")
@click.option("--out", type=OUT, required=True, help="The file to write.")
@click.option("--final", is_flag=True, help="The final report (default: a partial one).")
@click.option("--format", "form", type=click.Choice(["pdf", "json"]), default="pdf")
@click.option("--date", "on", type=DATE, help="Date of this report (default: today at the site).")
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

    builder = console_person(store, acting_as)
    check_may(builder, Action.BUILD_REPORTS_AND_PACKETS)

    content = documents.progress_document(store, study, final=final, report_date=day(on))
    # progress_document has already refused a study this store does not serve.
    study_id = served_study(study)
    data = _conep_file(store, content, form, study=study_id)
    write_copy(store, builder, CONEP, Scope(study_id), data, out)


def _json_file(content: dict[str, Any]) -> bytes:
    """A report as its JSON file: indented, UTF-8, ending in a newline."""
    return (json.dumps(content, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _conep_file(
    store: Store, content: dict[str, Any], form: str, *, study: str, **chart: Any
) -> bytes:
    """The report as its JSON file, or as the PDF signed under the store's latest checkpoint
    (``chart``: the subject and the chart's resolution, for a notification)."""
    from infrastructure.documents import reports as documents

    if form == "json":
        return _json_file(content)
    checkpoint = documents.covering_checkpoint(store)
    return documents.conep_pdf(store, content, study=study, checkpoint=checkpoint, **chart)
