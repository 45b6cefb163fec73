"""``sealtrail report ...``: reports computed from the log's projections.

Every report that writes a file prints only the path it wrote on stdout; progress, when there
is a terminal, goes to stderr. Each is run by a person (``--as``, with their password) whose
role allows it: the outcome table and the audit trail are clinical data (every site's for the
study, one site's for one subject); the CONEP reports are the sponsor's regulatory reports.
"""

from __future__ import annotations

import json
from typing import Any

import click

from api.console.access_review import access_review_report
from api.console.audit_review import audit_review_report
from api.console.audit_trail import audit_trail
from api.console.command import one_line_errors, store_command
from api.console.conep import conep_progress, conep_sae
from api.console.delegation import delegation_log
from api.console.handing_out import print_copy
from api.console.people import console_person, person_option
from api.console.source_verification import sdv
from domain.actions import Action
from domain.disclosure import OUTCOMES, UNSIGNED, Scope
from domain.permissions import check_may
from infrastructure.bootstrap import Store
from infrastructure.views.study_reports import study_outcomes, unsigned_records


@click.group()
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
    reader = console_person(store, acting_as)
    check_may(reader, Action.READ_CLINICAL_DATA)
    table = study_outcomes(store.views, store.reads, study)
    printed = json.dumps(table, indent=2, sort_keys=True) if as_json else outcome_text(table)
    print_copy(store, reader, OUTCOMES, Scope(table["study"]), printed + "\n")


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


@report.command()
@click.option("--study", help="The study (default: the one this store serves).")
@click.option("--site", help="One site's subjects (needed by roles of their own sites).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@person_option()
@one_line_errors
@store_command
def unsigned(
    store: Store, study: str | None, site: str | None, as_json: bool, acting_as: str
) -> None:
    """For each subject, the records no current signature covers (never signed, or corrected
    or voided since): what is left for the investigator to sign."""
    reader = console_person(store, acting_as)
    check_may(reader, Action.READ_CLINICAL_DATA, site)
    found = unsigned_records(store.views, store.reads, study, site)
    printed = json.dumps(found, indent=2, sort_keys=True) if as_json else unsigned_text(found)
    print_copy(store, reader, UNSIGNED, Scope(found["study"], site=site), printed + "\n")


def unsigned_text(found: dict[str, Any]) -> str:
    """The unsigned records for a terminal: a line per subject, its unsigned entries."""
    where = f"site {found['site']}" if found["site"] else "every site"
    lines = [
        f"Records no current signature covers, {found['study']}, {where}: {found['unsigned']} "
        f"({found['fully_signed']} of {len(found['subjects'])} subjects fully signed)"
    ]
    for subject in found["subjects"]:
        entries = ", ".join(f"{r['entry']} {r['kind']}" for r in subject["unsigned"])
        lines.append(
            f"{subject['subject']} ({subject['site']}): {len(subject['unsigned'])} of "
            f"{subject['records']} unsigned" + (f": {entries}" if entries else "")
        )
    return "\n".join(lines)


for document in (
    audit_trail,
    audit_review_report,
    conep_sae,
    conep_progress,
    access_review_report,
    sdv,
):
    report.add_command(document)
report.add_command(delegation_log)
